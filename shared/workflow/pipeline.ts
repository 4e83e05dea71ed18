import type { CodesphereApi, PipelineStage } from '../codesphere/api.js';
import type { StageReplica } from '../codesphere/schemas.js';
import type { CoreDeps } from './deps.js';
import { ApiError, StageFailedError, WorkspaceGoneError } from '../errors.js';
import { pollUntil, type PollSchedule } from './wait.js';
import type { Reporter } from '../reporter.js';

/**
 * Waiting for the workspace and running its ci.yml pipeline: `prepare` must end in success on
 * every replica, then `run` must be running on every replica (it never "finishes").
 */

export interface WaitContext {
  client: CodesphereApi;
  reporter: Reporter;
  deps: Pick<CoreDeps, 'clock'>;
  deadline: number;
  schedule?: PollSchedule | undefined;
}

/**
 * Who may have deleted a preview's workspace under a running deploy, as messages say it: the run
 * cannot tell (the API records no deleter), so it names every candidate rather than guess one.
 */
export const DELETED_BY = 'by a teardown or prune of this preview, or by someone in Codesphere';

/** Runs `call`; a 404 (the workspace or its sub-resource is gone) becomes WorkspaceGoneError. */
export async function notFoundAsWorkspaceGone<T>(workspaceId: number, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err: unknown) {
    if (err instanceof ApiError && err.status === 404)
      throw new WorkspaceGoneError(
        `Workspace ${workspaceId} was deleted while this deploy was running (${DELETED_BY}); nothing is left behind.`,
        { cause: err },
      );
    throw err;
  }
}

/** Logs a progress line every ~10 s of a wait, so a long wait is visibly alive. */
function progress(reporter: Reporter, what: string): (elapsedMs: number) => void {
  let next = 10_000;
  return (elapsed) => {
    if (elapsed >= next) {
      reporter.info(`Still waiting for ${what} (${Math.round(elapsed / 1000)} s).`);
      next += 10_000;
    }
  };
}

export async function waitUntilRunning(ctx: WaitContext, workspaceId: number): Promise<void> {
  const what = `workspace ${workspaceId} to start`;
  await pollUntil({
    what,
    clock: ctx.deps.clock,
    deadline: ctx.deadline,
    schedule: ctx.schedule,
    onPending: progress(ctx.reporter, what),
    check: async () => {
      const status = await notFoundAsWorkspaceGone(workspaceId, () =>
        ctx.client.getWorkspaceStatus(workspaceId),
      );
      return status.isRunning ? true : undefined;
    },
  });
}

function describeFailure(stage: PipelineStage, replicas: StageReplica[], landscape: boolean): string {
  const failed = replicas.filter((r) => r.state === 'failure' || r.state === 'aborted');
  if (landscape) {
    // A landscape names the service replica: "test stage failed on api replica 0 (step 1 of 1)".
    const parts = failed.map((r) => {
      const stepIndex = r.steps.findIndex((s) => s.state === 'failure' || s.state === 'aborted');
      const step =
        stepIndex >= 0 ? ` (step ${stepIndex + 1} of ${r.steps.length}: ${r.state})` : ` (${r.state})`;
      return `${r.server} replica ${r.replica}${step}`;
    });
    return `Pipeline stage "${stage}" failed: ${stage} stage failed on ${parts.join(', ')}; ${failed.length} of ${replicas.length} service replica(s) failed. Later stages were not started.`;
  }
  const parts = failed.map((r) => {
    const stepIndex = r.steps.findIndex((s) => s.state === 'failure' || s.state === 'aborted');
    const step = stepIndex >= 0 ? `, step ${stepIndex + 1} of ${r.steps.length}` : '';
    return `replica ${r.replica} (server ${r.server}${step}): ${r.state}`;
  });
  return `Pipeline stage "${stage}" failed on ${failed.length} of ${replicas.length} replica(s): ${parts.join('; ')}. See the workspace's ${stage} logs in Codesphere.`;
}

/**
 * Starts a stage and waits until every replica reached `goal`. The start call resets the stage
 * server-side, so the states read afterwards belong to this run, not the previous one.
 */
/** How a stage is started and described: its CI profile, and whether the workspace is a landscape. */
export interface StageOptions {
  profile?: string | undefined;
  landscape?: boolean | undefined;
}

/**
 * Starts a stage and waits until every replica (a landscape: every service replica) reached
 * `goal`; returns the last status read. Throws StageFailedError naming the failed replicas.
 */
export async function runStage(
  ctx: WaitContext,
  workspaceId: number,
  stage: PipelineStage,
  goal: 'success' | 'running',
  /** Sees every status read (stage-logs.ts follows the steps it reports). */
  onStatus?: (replicas: StageReplica[]) => void,
  /** The CI profile to start the stage with; `landscape` names service replicas in a failure. */
  options: StageOptions = {},
): Promise<StageReplica[]> {
  await notFoundAsWorkspaceGone(workspaceId, () =>
    ctx.client.startPipelineStage(workspaceId, stage, options.profile),
  );
  const what = `pipeline stage "${stage}" of workspace ${workspaceId}`;
  return pollUntil({
    what,
    clock: ctx.deps.clock,
    deadline: ctx.deadline,
    schedule: ctx.schedule,
    onPending: progress(ctx.reporter, what),
    check: async () => {
      const replicas = await notFoundAsWorkspaceGone(workspaceId, () =>
        ctx.client.pipelineStatus(workspaceId, stage),
      );
      onStatus?.(replicas);
      if (replicas.some((r) => r.state === 'failure' || r.state === 'aborted'))
        throw new StageFailedError(describeFailure(stage, replicas, options.landscape ?? false));
      if (replicas.length === 0) return undefined;
      // A run stage whose server exits with success is done too (a static build, say).
      const done = replicas.every((r) => r.state === goal || (goal === 'running' && r.state === 'success'));
      return done ? replicas : undefined;
    },
  });
}
