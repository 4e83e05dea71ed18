/**
 * The plain data the workflow reports: what its checks found, what a teardown removed, a failed
 * step's log tail. Results (workflow/results.ts) and errors (errors.ts) both carry these, so they
 * sit at the base beside errors.ts, as types only: errors.ts names them without importing the
 * workflow, and the workflow's modules re-export the ones they produce.
 */

/** A pipeline stage, as the Public API names it in `/workspaces/{id}/pipeline/{stage}`. */
export type PipelineStage = 'prepare' | 'test' | 'run';

/** One replica's last answer to the health check. */
export interface ReplicaHealth {
  replica: number;
  ok: boolean;
  /** The HTTP status, when one came back. */
  status?: number | undefined;
  /** Why no status came back (curl's connection error), or what a failing status means. */
  reason: string;
}

/**
 * What became of the health check: `passed` when every replica answered 2xx/3xx, `failed` when the
 * budget ended first. A failed check is never deployed: it fails the deploy
 * (HealthCheckFailedError carries the failed outcome), so a result holds a PassedHealthCheck.
 */
export interface HealthCheckOutcome {
  status: 'passed' | 'failed';
  target: string;
  /** Each replica's last answer. */
  replicas: ReplicaHealth[];
  /** Milliseconds until every replica passed (or until the check gave up). */
  elapsedMs: number;
}

/** The health check of a deployed preview: it passed (a failed one fails the deploy). */
export type PassedHealthCheck = HealthCheckOutcome & { status: 'passed' };
/** The health check that failed a deploy (HealthCheckFailedError.outcome). */
export type FailedHealthCheck = HealthCheckOutcome & { status: 'failed' };

/**
 * What became of the VPN check.
 * - passed: every replica reached `target` (its label as written); `output` holds the probes' output;
 * - skipped: no check ran; `reason` says why (no vpnCheck target was given);
 * - failed: `replica` did not reach `target` within the probe window; `output` is that probe's
 *   output and `message` the whole story (replica, workspace, VPN config, probe command).
 */
export type VpnCheckOutcome =
  | { status: 'passed'; target: string; output: string }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; target: string; replica: number; output: string; message: string };

/**
 * The check of a deployed preview: passed or skipped. A failed check is never deployed: it fails
 * the deploy (requirePassed), since a preview that cannot reach the private network is not ready.
 */
export type DeployedVpnCheck = Exclude<VpnCheckOutcome, { status: 'failed' }>;

/** What a teardown did (also what a cancelled deploy removed: DeployCancelledError.removed). */
export interface TeardownResult {
  name: string;
  /** Absent when there was nothing to delete. */
  workspaceId?: number | undefined;
  deleted: boolean;
}

/** The end of a failed step's log, carried by the error for the comment and the summary. */
export interface StageLogTail {
  stage: PipelineStage;
  /** 0-based step index, as the API numbers steps. */
  step: number;
  /** Lines the step printed in total. */
  totalLines: number;
  /** Its last lines (at most ERROR_TAIL_LINES of workflow/stage-logs.ts), oldest first, not yet redacted. */
  lines: string[];
}

/** Why a probe failed, as the classifier reads a real shell's output. */
export type TargetFailure = 'dns' | 'refused' | 'timeout' | 'tls' | 'no-route' | 'error';

/** One cell of the grid: a target seen from one replica of one service. */
export interface TargetCell {
  service?: string | undefined;
  replica: number;
  /** The target as written. */
  target: string;
  ok: boolean;
  /** Set when not ok. */
  reason?: TargetFailure | undefined;
  /** A short explanation: "Connection refused", "hostname mismatch", the output's last line. */
  detail: string;
}

/** Service × replica × target, in check order. */
export interface TargetGrid {
  targets: string[];
  cells: TargetCell[];
}
