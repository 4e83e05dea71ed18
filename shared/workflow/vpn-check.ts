import { VpnCheckFailedError } from '../errors.js';
import { notFoundAsWorkspaceGone, type WaitContext } from './pipeline.js';
import type { VpnCheckTarget } from '../request/schema.js';
import type { DeployedVpnCheck, VpnCheckOutcome } from '../outcomes.js';

/**
 * Proves the preview really reaches the private network: a probe run inside the workspace
 * through `POST /workspaces/{id}/execute`, on every replica (each has its own tunnel), chosen
 * by the `CODESPHERE_REPLICA` env of the call. A host is pinged (`ping -c 3 -W 2 <host>`); a
 * host:port gets a TCP connect (`nc -z -w 3 <host> <port>`). The command exited 0 exactly when
 * the answer's `error` is empty. Right after a create or a VPN switch the tunnels are still
 * negotiating, so a failing probe is repeated for up to `PROBE_WINDOW_MS` before it counts.
 * The target was validated strictly (request/fields.ts), so it is safe inside a command line.
 */

export const PROBE_WINDOW_MS = 15_000;
const PROBE_INTERVAL_MS = 500;

export function probeCommand(target: VpnCheckTarget): string {
  return target.port === undefined
    ? `ping -c 3 -W 2 ${target.host}`
    : `nc -z -w 3 ${target.host} ${target.port}`;
}

export type { DeployedVpnCheck, VpnCheckOutcome } from '../outcomes.js';

/**
 * Returns a passed or skipped outcome as it is; throws VpnCheckFailedError (carrying the failed
 * outcome) for a failed one.
 */
export function requirePassed(outcome: VpnCheckOutcome): DeployedVpnCheck {
  if (outcome.status === 'failed') throw new VpnCheckFailedError(outcome.message, outcome);
  return outcome;
}

/** The outcome when the request names no target. */
export const VPN_CHECK_NOT_ASKED: DeployedVpnCheck = {
  status: 'skipped',
  reason: 'no vpnCheck target was given',
};

/**
 * Probes `target` from every replica of the workspace until each reaches it or the probe window
 * (at most the deadline) ends. Returns passed, or failed for the first replica that did not reach it
 * (naming the replica, the VPN config and the probe's output); throws WorkspaceGoneError when the
 * workspace vanished.
 */
export async function runVpnCheck(
  options: WaitContext & {
    workspaceId: number;
    replicas: number;
    vpnConfig: string | null;
    /** A landscape service: its replicas are probed (`CODESPHERE_SERVER`), and named in messages. */
    server?: string | undefined;
  },
  target: VpnCheckTarget,
): Promise<VpnCheckOutcome> {
  const { client, reporter, deps, workspaceId, server } = options;
  const Replica = server === undefined ? 'Replica' : `${server} replica`;
  const replicaOf = server === undefined ? 'replica' : `${server} replica`;
  const command = probeCommand(target);
  const windowEnd = Math.min(deps.clock.now() + PROBE_WINDOW_MS, options.deadline);
  reporter.info(
    `Probing ${target.label} from inside the workspace (${command}) on ${options.replicas} ${server === undefined ? '' : `${server} `}replica(s).`,
  );
  const outputs: string[] = [];
  for (let replica = 0; replica < options.replicas; replica++) {
    for (;;) {
      const result = await notFoundAsWorkspaceGone(workspaceId, () =>
        client.executeCommand(workspaceId, command, {
          ...(server === undefined ? {} : { CODESPHERE_SERVER: server }),
          CODESPHERE_REPLICA: String(replica),
        }),
      );
      if (result.error === '') {
        outputs.push(result.output.trim());
        reporter.info(`${Replica} ${replica}: ${target.label} is reachable.`);
        break;
      }
      if (deps.clock.now() + PROBE_INTERVAL_MS > windowEnd) {
        const via = options.vpnConfig
          ? `VPN config "${options.vpnConfig}"`
          : 'no VPN config (vpnConfig is empty)';
        const output = `${result.output.trim()}${result.error ? `\n(${result.error})` : ''}`.trim();
        return {
          status: 'failed',
          target: target.label,
          replica,
          output,
          message:
            `VPN check failed: ${target.label} is not reachable from ${replicaOf} ${replica} of workspace ${workspaceId} through ${via}. ` +
            `Probe "${command}" output:\n${output || '(no output)'}`,
        };
      }
      reporter.debug(`${Replica} ${replica}: ${target.label} not reachable yet (${result.error}); retrying.`);
      await deps.clock.sleep(PROBE_INTERVAL_MS);
    }
  }
  return { status: 'passed', target: target.label, output: outputs.join('\n') };
}
