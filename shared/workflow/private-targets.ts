import { PrivateTargetsFailedError } from '../errors.js';
import type { PrivateTarget } from '../request/schema.js';
import { notFoundAsWorkspaceGone, type WaitContext } from './pipeline.js';

/**
 * Proves that every replica of every service reaches the team's private services, not only a
 * ping: each `privateTargets` entry is probed through `POST /workspaces/{id}/execute` with the
 * replica chosen by `CODESPHERE_SERVER` (a landscape service) and `CODESPHERE_REPLICA`:
 * - `host`            -> `ping -c 1 -W <s> <host>` (ICMP, as the VPN check does);
 * - `host:port`       -> `timeout <s> bash -c '</dev/tcp/<host>/<port>'` (a TCP connect);
 * - `tls://host:port` -> `timeout <s> openssl s_client -connect <host>:<port> -servername <host>
 *                        -verify_hostname <host> -verify_return_error -brief </dev/null`
 *                        (the handshake verified against the preview's trust store).
 * The per-target timeout is PROBE_TIMEOUT_S, cut to what is left of the job's budget. A timeout
 * or no route may be a tunnel still negotiating, so those are asked again for up to
 * SETTLE_WINDOW_MS; a refusal, a DNS failure or a certificate problem is final at once.
 * Every cell is checked (one failure does not hide another); any failure throws
 * PrivateTargetsFailedError naming each failed target, service, replica and reason.
 */

/** Seconds one probe may take before it counts as a timeout. */
export const PROBE_TIMEOUT_S = 5;
/** How long a timeout or no-route is retried after the run started (tunnels negotiating). */
export const SETTLE_WINDOW_MS = 15_000;
const RETRY_INTERVAL_MS = 500;

/** One place a check runs from: a replica of a service (`service` undefined: single-service workspace). */
export interface CheckUnit {
  service?: string | undefined;
  replica: number;
}

export type { TargetCell, TargetFailure, TargetGrid } from '../outcomes.js';
import type { TargetCell, TargetFailure, TargetGrid } from '../outcomes.js';

/** The command that checks `target` from inside a replica; it names the host it checks. */
export function targetCommand(target: PrivateTarget, timeoutS: number): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  switch (target.kind) {
    case 'ping':
      return `ping -c 1 -W ${timeoutS} ${target.host}`;
    case 'tcp':
      return `timeout ${timeoutS} bash -c '</dev/tcp/${target.host}/${target.port ?? ''}'`;
    case 'tls':
      return (
        `timeout ${timeoutS} openssl s_client -connect ${host}:${target.port ?? ''} -servername ${target.host} ` +
        `-verify_hostname ${target.host} -verify_return_error -brief </dev/null`
      );
  }
}

const REASON_TEXT: Record<TargetFailure, string> = {
  dns: 'DNS: the name does not resolve inside the preview',
  refused:
    'refused: the host answered but nothing accepts connections on that port (or a firewall rejects them)',
  timeout: 'timeout: no answer (a firewall dropping the port, or the host is down)',
  tls: 'TLS',
  'no-route': 'no route: the tunnel is down or the subnet is not routed through it',
  error: 'the probe failed',
};

/**
 * Reads a probe's answer: passed when `error` is empty, else the reason from what ping, bash,
 * nc or openssl printed (their usual messages on Linux), timeout for timeout(1)'s status 124.
 */
export function classifyProbe(result: { output: string; error: string }): {
  ok: boolean;
  reason?: TargetFailure;
  detail: string;
} {
  if (result.error === '') return { ok: true, detail: 'ok' };
  const out = result.output;
  const tls = /verify error:num=\d+:([^\n]+)/.exec(out) ?? /Verification error: ([^\n]+)/.exec(out);
  if (tls) return { ok: false, reason: 'tls', detail: `certificate problem: ${tls[1]?.trim() ?? ''}` };
  if (
    /Name or service not known|Temporary failure in name resolution|could not resolve|unknown host/i.test(out)
  )
    return { ok: false, reason: 'dns', detail: 'Name or service not known' };
  if (/Connection refused|errno=111/.test(out))
    return { ok: false, reason: 'refused', detail: 'Connection refused' };
  if (/No route to host|Network is unreachable|Destination Host Unreachable|errno=11[03]|errno=101/.test(out))
    return { ok: false, reason: 'no-route', detail: 'No route to host' };
  if (/status 124$/.test(result.error) || /timed out|100% packet loss/i.test(out))
    return { ok: false, reason: 'timeout', detail: 'no answer within the probe timeout' };
  const last = out.trim().split('\n').at(-1) ?? '';
  return { ok: false, reason: 'error', detail: last || result.error };
}

function where(unit: CheckUnit): string {
  return unit.service === undefined
    ? `replica ${unit.replica}`
    : `service ${unit.service} replica ${unit.replica}`;
}

/** "ok", or the reason in words with its detail: the text of a failed cell. */
export function describeCell(cell: TargetCell): string {
  if (cell.ok) return 'ok';
  const reason = cell.reason ?? 'error';
  return reason === 'tls' ? `TLS ${cell.detail}` : `${REASON_TEXT[reason]} (${cell.detail})`;
}

/**
 * Checks every target from every unit; returns the grid when all pass, throws
 * PrivateTargetsFailedError (carrying the grid) when any cell failed, WorkspaceGoneError when the
 * workspace vanished. `units` lists (service, replica) pairs: one per replica of a
 * single-service workspace, one per replica of every service of a landscape.
 */
export async function checkPrivateTargets(
  ctx: WaitContext & { workspaceId: number; vpnConfig: string | null },
  units: readonly CheckUnit[],
  targets: readonly PrivateTarget[],
): Promise<TargetGrid> {
  const { client, reporter, deps, workspaceId } = ctx;
  const settleEnd = Math.min(deps.clock.now() + SETTLE_WINDOW_MS, ctx.deadline);
  const cells: TargetCell[] = [];
  reporter.info(
    `Checking ${targets.length} private target(s) from ${units.length} replica(s): ${targets.map((t) => t.label).join(', ')}.`,
  );
  for (const target of targets) {
    for (const unit of units) {
      for (;;) {
        const leftS = Math.floor((ctx.deadline - deps.clock.now()) / 1000);
        const timeoutS = Math.max(1, Math.min(PROBE_TIMEOUT_S, leftS - 1));
        const command = targetCommand(target, timeoutS);
        const env: Record<string, string> = {
          ...(unit.service === undefined ? {} : { CODESPHERE_SERVER: unit.service }),
          CODESPHERE_REPLICA: String(unit.replica),
        };
        const result = await notFoundAsWorkspaceGone(workspaceId, () =>
          client.executeCommand(workspaceId, command, env),
        );
        const judged = classifyProbe(result);
        const transient = judged.reason === 'timeout' || judged.reason === 'no-route';
        if (!judged.ok && transient && deps.clock.now() + RETRY_INTERVAL_MS <= settleEnd) {
          reporter.debug(`${where(unit)}: ${target.label} not reachable yet (${judged.detail}); retrying.`);
          await deps.clock.sleep(RETRY_INTERVAL_MS);
          continue;
        }
        const cell: TargetCell = {
          ...(unit.service === undefined ? {} : { service: unit.service }),
          replica: unit.replica,
          target: target.label,
          ok: judged.ok,
          ...(judged.reason ? { reason: judged.reason } : {}),
          detail: judged.detail,
        };
        cells.push(cell);
        reporter.info(
          `${where(unit)}: ${target.label} ${cell.ok ? 'ok' : `FAILED: ${describeCell(cell)}`} (${command}).`,
        );
        break;
      }
    }
  }
  const grid: TargetGrid = { targets: targets.map((t) => t.label), cells };
  reporter.info(renderGrid(grid));
  const failed = cells.filter((c) => !c.ok);
  if (failed.length > 0) {
    const via = ctx.vpnConfig ? `VPN config "${ctx.vpnConfig}"` : 'no VPN config (vpnConfig is empty)';
    const lines = failed.map((c) => `- ${c.target} from ${where(c)}: ${describeCell(c)}`);
    throw new PrivateTargetsFailedError(
      `Private target check failed on ${failed.length} of ${cells.length} check(s) of workspace ${workspaceId} through ${via}:\n${lines.join('\n')}`,
      grid,
    );
  }
  return grid;
}

/** The grid as text, one row per service replica and one column per target (log and console). */
export function renderGrid(grid: TargetGrid): string {
  const rows = new Map<string, TargetCell[]>();
  for (const cell of grid.cells) {
    const key = cell.service === undefined ? `replica ${cell.replica}` : `${cell.service} ${cell.replica}`;
    rows.set(key, [...(rows.get(key) ?? []), cell]);
  }
  const lines = [`private targets: ${grid.targets.join(' | ')}`];
  for (const [key, cells] of rows)
    lines.push(
      `  ${key}: ${cells.map((c) => `${c.target} ${c.ok ? 'ok' : (c.reason ?? 'failed')}`).join(' | ')}`,
    );
  return lines.join('\n');
}
