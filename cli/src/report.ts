/**
 * What `--json` prints: exactly one JSON object per run, on stdout, whatever happened; and the
 * documented exit codes. Built from the core's results, so a field the core adds to a result
 * (services, further checks) appears here without CLI code. Secrets are redacted from the text.
 */
import { ConfigError, DeadlineExceededError, describeError, findCause } from '../../shared/index.js';
import type { JobOutcome } from '../../shared/ci/index.js';

/** The exit codes, as documented in docs/cli.md. */
export const EXIT = {
  /** The command did what was asked (a preview deployed, deleted, already gone, pruned). */
  done: 0,
  /** The deploy, teardown or prune failed (the API, a stage, a check). */
  failed: 1,
  /** A flag, an environment variable or the input is wrong: the message names it. */
  usage: 2,
  /** The time budget (`--timeout`, default 900 s) ran out. */
  timeout: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Whether `error`, or any error it wraps, is the job's budget running out. */
function isTimeout(error: unknown): boolean {
  return findCause(error, DeadlineExceededError) !== undefined;
}

/** The exit code for a failure: usage (2) for bad input, timeout (3) for the budget, else failed (1). */
export function exitCodeOf(error: unknown): ExitCode {
  if (isTimeout(error)) return EXIT.timeout;
  if (error instanceof ConfigError) return EXIT.usage;
  return EXIT.failed;
}

/** The one JSON object of a run (before redaction), from how the job runner says it ended. */
export function reportOf(
  command: string,
  outcome: JobOutcome | undefined,
  exitCode: number,
): Record<string, unknown> {
  const base = { command, exitCode };
  if (!outcome) return { ...base, result: exitCode === 0 ? 'done' : 'failed' };
  switch (outcome.kind) {
    case 'deployed': {
      const { workspaceId, name, url, action, vpnConfig, vpnCheck, healthCheck, timings, changes, ...rest } =
        outcome.result;
      return {
        ...base,
        result: action,
        workspace: { id: workspaceId, name },
        url,
        vpnConfig,
        changes,
        // Fields the core adds later (services, ...) come along as they are.
        services: [],
        ...rest,
        checks: { vpn: vpnCheck, ...(healthCheck ? { health: healthCheck } : {}) },
        timings,
      };
    }
    case 'deleted':
      return {
        ...base,
        result: outcome.result.deleted ? 'deleted' : 'absent',
        workspace: { id: outcome.result.workspaceId ?? null, name: outcome.result.name },
      };
    case 'pruned':
      // status is a read-only prune: its answer is the list of previews.
      if (command === 'status') return { ...base, result: 'listed', previews: outcome.result.kept };
      return { ...base, result: outcome.result.dryRun ? 'dry-run' : 'pruned', ...outcome.result };
    case 'cancelled':
      return { ...base, result: 'cancelled', message: outcome.cancelled.message };
    case 'skipped':
      return { ...base, result: 'skipped', message: outcome.reason };
    case 'failed':
      return {
        ...base,
        result: exitCode === EXIT.timeout ? 'timeout' : exitCode === EXIT.usage ? 'usage-error' : 'failed',
        error: {
          name: outcome.error instanceof Error ? outcome.error.name : 'Error',
          message: describeError(outcome.error),
        },
      };
  }
}
