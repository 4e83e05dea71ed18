/**
 * The health check: "ready" means the app answers, not only that the run stage is running. From
 * inside every replica (POST /workspaces/{id}/execute with CODESPHERE_REPLICA, the same channel
 * as the VPN check) an HTTP GET goes to localhost:<port><path> with curl, bounded to 4 s so the
 * call stays within execute's 5 s limit; a replica passes on a 2xx or 3xx status. Replicas that
 * do not pass yet are asked again every HEALTH_INTERVAL_MS until all pass or the job's time
 * budget ends; then the check fails naming, per replica, the last status or connection error.
 */
import { HealthCheckFailedError } from '../errors.js';
import { notFoundAsWorkspaceGone, type WaitContext } from './pipeline.js';
import type { HealthCheckTarget } from '../request/schema.js';
import type { FailedHealthCheck, PassedHealthCheck, ReplicaHealth } from '../outcomes.js';

export type { HealthCheckTarget };
export type { FailedHealthCheck, HealthCheckOutcome, PassedHealthCheck, ReplicaHealth } from '../outcomes.js';

export const HEALTH_INTERVAL_MS = 1_000;
/** curl's own limit per request, below execute's 5 s. */
const CURL_MAX_SECONDS = 4;

export function healthCommand(target: HealthCheckTarget): string {
  return `curl -sS -o /dev/null -w '%{http_code}' --max-time ${CURL_MAX_SECONDS} 'http://localhost:${target.port}${target.path}'`;
}

function judge(replica: number, output: string, error: string): ReplicaHealth {
  const code = /(\d{3})\s*$/.exec(output.trim())?.[1];
  const status = code === undefined || code === '000' ? undefined : Number(code);
  if (status !== undefined) {
    const ok = status >= 200 && status < 400;
    return { replica, ok, status, reason: ok ? `HTTP ${status}` : `HTTP ${status} (not 2xx or 3xx)` };
  }
  // curl -sS prints its error ("curl: (7) Failed to connect to localhost port 3000 ...") on stderr.
  const curlError = /curl: \(\d+\)[^\n]*/.exec(output)?.[0];
  return { replica, ok: false, reason: curlError ?? (error || 'no answer') };
}

/**
 * Asks the app on every replica until all answer 2xx/3xx; throws HealthCheckFailedError when
 * the deadline (deps.clock.now() value) comes first. Replica numbers are 0-based, as the API's.
 */
export async function runHealthCheck(
  options: WaitContext & {
    workspaceId: number;
    replicas: number;
    /** A landscape service: its replicas are asked (`CODESPHERE_SERVER`), and named in messages. */
    server?: string | undefined;
  },
  target: HealthCheckTarget,
): Promise<PassedHealthCheck> {
  const { client, reporter, deps, workspaceId, server } = options;
  const Replica = server === undefined ? 'Replica' : `${server} replica`;
  const replicaOf = server === undefined ? 'replica' : `${server} replica`;
  const command = healthCommand(target);
  const started = deps.clock.now();
  reporter.info(
    `Asking http://localhost:${target.port}${target.path} on ${options.replicas} replica(s) until it answers 2xx or 3xx.`,
  );
  const last = new Map<number, ReplicaHealth>();
  for (;;) {
    for (let replica = 0; replica < options.replicas; replica++) {
      if (last.get(replica)?.ok) continue;
      const result = await notFoundAsWorkspaceGone(workspaceId, () =>
        client.executeCommand(workspaceId, command, {
          ...(server === undefined ? {} : { CODESPHERE_SERVER: server }),
          CODESPHERE_REPLICA: String(replica),
        }),
      );
      const health = judge(replica, result.output, result.error);
      const before = last.get(replica);
      last.set(replica, health);
      if (health.ok)
        reporter.info(
          `${Replica} ${replica}: ${health.reason} after ${Math.round((deps.clock.now() - started) / 100) / 10} s.`,
        );
      else if (before?.reason !== health.reason)
        reporter.info(`${Replica} ${replica}: not healthy yet (${health.reason}).`);
    }
    const replicas = [...last.values()].sort((a, b) => a.replica - b.replica);
    const elapsedMs = deps.clock.now() - started;
    if (replicas.every((r) => r.ok)) return { status: 'passed', target: target.label, replicas, elapsedMs };
    if (deps.clock.now() + HEALTH_INTERVAL_MS > options.deadline) {
      const outcome: FailedHealthCheck = { status: 'failed', target: target.label, replicas, elapsedMs };
      const failing = replicas.filter((r) => !r.ok).map((r) => `${replicaOf} ${r.replica}: ${r.reason}`);
      throw new HealthCheckFailedError(
        `Health check failed: http://localhost:${target.port}${target.path} did not answer 2xx or 3xx within ${Math.round(elapsedMs / 1000)} s ` +
          `(the job's time budget) on ${failing.length} of ${replicas.length} replica(s) of workspace ${workspaceId}: ${failing.join('; ')}.`,
        outcome,
      );
    }
    await deps.clock.sleep(HEALTH_INTERVAL_MS);
  }
}
