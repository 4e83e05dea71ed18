/**
 * Knobs for the network probes `execute` runs (ping, TCP connect, TLS handshake), per replica, and
 * the record of every execute. A knob makes one target fail on the replicas it matches the way a
 * real network would: a refused port, a silent drop (timeout), a name the office DNS alone knows,
 * a certificate the preview does not trust, no route. Set with `PUT /_emulator/probe-faults`;
 * the record is `GET /_emulator/executions` (emulator/README.md).
 */
import { z } from 'zod';

export const PROBE_FAULT_KINDS = [
  'refused',
  'timeout',
  'dns',
  'no-route',
  'tls-hostname-mismatch',
  'tls-expired',
  'tls-untrusted',
] as const;

export type ProbeFaultKind = (typeof PROBE_FAULT_KINDS)[number];

export const probeFaultSchema = z.object({
  /** `host` (every probe of it) or `host:port`. */
  target: z.string().min(1),
  fault: z.enum(PROBE_FAULT_KINDS),
  /** Only this workspace (by name); absent: every workspace. */
  workspace: z.string().min(1).optional(),
  /** Only this landscape service (`CODESPHERE_SERVER`); absent: every service. */
  server: z.string().min(1).optional(),
  /** Only this replica index (`CODESPHERE_REPLICA`); absent: every replica. */
  replica: z.number().int().min(0).optional(),
});

export type ProbeFault = z.infer<typeof probeFaultSchema>;

export const probeFaultsSchema = z.object({ faults: z.array(probeFaultSchema) });

/** One `POST /workspaces/{id}/execute` as the emulator received it. */
export interface ExecuteRecord {
  workspaceId: number;
  workspaceName: string;
  /** `CODESPHERE_SERVER` of the call (a landscape service), if any. */
  server: string | undefined;
  /** `CODESPHERE_REPLICA` of the call, 0 when absent. */
  replica: number;
  command: string;
  env: Record<string, string>;
  /** The emulator's clock when it arrived, epoch ms. */
  at: number;
}

/** The fault for `host[:port]` seen from this replica, or undefined (the VPN model decides). */
export function faultFor(
  faults: readonly ProbeFault[],
  where: { workspace: string; server: string | undefined; replica: number },
  host: string,
  port: number | undefined,
): ProbeFaultKind | undefined {
  const hit = faults.find(
    (f) =>
      (f.target === host || (port !== undefined && f.target === `${host}:${port}`)) &&
      (f.workspace === undefined || f.workspace === where.workspace) &&
      (f.server === undefined || f.server === where.server) &&
      (f.replica === undefined || f.replica === where.replica),
  );
  return hit?.fault;
}

/** What openssl's verify step says for each certificate fault (`verify error:num=N:text`). */
export const TLS_VERIFY_ERRORS: Record<Extract<ProbeFaultKind, `tls-${string}`>, string> = {
  'tls-hostname-mismatch': 'verify error:num=62:hostname mismatch',
  'tls-expired': 'verify error:num=10:certificate has expired',
  'tls-untrusted': 'verify error:num=20:unable to get local issuer certificate',
};
