/**
 * The one job runner of every CI adapter: mask, skip or dispatch deploy, teardown or prune, write
 * outputs before the note, keep the change request's note, fail once. An adapter reads its
 * platform into a context (context.ts) and describes the platform as a `CiPlatform`: its words,
 * outputs, change-request API (change-request-api.ts), reporter and lifecycle hooks.
 *
 * The last word is always said: the core's deadline ends `reportReserveMs` before the job's
 * budget, so however the job ends (budget, failed stage, closed change request, a crash) the
 * platform's calls that say so still have time.
 */
import { failureForComment } from './log-tail.js';
import {
  compareRunOrder,
  formatRunOrder,
  isPreviewNote,
  renderNote,
  syncNote,
  withPhase,
  type NoteMarkerStyle,
  type NoteState,
  type NoteStore,
  type NoteSyncDeps,
  type RunOrder,
} from './note.js';
import { inVariableTerms } from './variables.js';
import { ConsoleReporter, type SectionStyle, type TextSink } from './console-reporter.js';
import type { ChangeRequestApi } from './change-request-api.js';
import type { CiContext, CiJobContext, CiLogContext } from './context.js';
import { checkOutputFiles, type OutputFile } from './output-path.js';
import {
  type ChangeRequests,
  CiVariableError,
  CodesphereDeployError,
  DeadlineExceededError,
  type Deadline,
  DeployCancelledError,
  type DeployResult,
  describeError,
  findCause,
  type JobInput,
  OutputWriteError,
  parseRequest,
  type PruneResult,
  type Reporter,
  type TeardownResult,
  workspaceName,
} from '../index.js';

/** The ports an adapter passes to the core (a subset of shared/workflow/deps.ts CoreDeps). */
export interface CiCoreDeps {
  /** The job's clock (the runtime's): the core's waits and deadline run on the same time as the job's. */
  clock?: NoteSyncDeps;
  userAgent?: string;
  changeRequests?: ChangeRequests | undefined;
  /** What the core leaves of the budget for the adapter's report (ms): see `reportReserveMs`. */
  reserveMs?: number | undefined;
}

/** What the core exports (shared/index.ts); a parameter so tests can pass a fake. */
export interface CoreApi {
  deploy(input: JobInput, reporter: Reporter, deps?: CiCoreDeps): Promise<DeployResult>;
  teardown(input: JobInput, reporter: Reporter, deps?: CiCoreDeps): Promise<TeardownResult>;
  prune(input: JobInput, reporter: Reporter, deps?: CiCoreDeps): Promise<PruneResult>;
}

/** What the platform calls things, in its own words. */
export interface PlatformWords {
  /** `merge request`, `pull request`. */
  changeRequest: string;
  /** What precedes a number in a list: `!`, `#`. */
  prefix: string;
  /** The change request as the platform writes it in prose: `!12`, `PR #7`. */
  place(number: number): string;
  /** The preview note: `note` (GitLab), `comment` (Bitbucket, GitHub). */
  note: string;
}

/**
 * The job's log as the runner uses it: the core's Reporter port plus redaction for what people
 * read, the secret check for what machines read, and the job's verdict lines.
 */
export interface JobReporter extends Reporter {
  /** Every registered secret replaced by `***` (notes, summaries). */
  redact(text: string): string;
  /** Whether a value holds a registered secret: such an output is withheld, never redacted. */
  holdsSecret(value: string): boolean;
  /** The last line of a job that succeeded. */
  success(message: string): void;
  /** The verdict of a failed job: called exactly once, and only for a failed job. */
  failure(message: string): void;
  /** A line to draw attention without failing (a skipped job); `info` when absent. */
  notice?(message: string): void;
  /** Resolves once every line written so far is out; awaited before the runner returns. */
  flushed?(): Promise<void>;
}

/** How a job ended, as outputs and lifecycle hooks receive it. */
export type JobOutcome =
  | { kind: 'deployed'; result: DeployResult }
  /** The change request closed (or the branch was deleted) during the deploy. */
  | { kind: 'cancelled'; cancelled: DeployCancelledError }
  | { kind: 'deleted'; result: TeardownResult }
  | { kind: 'pruned'; result: PruneResult }
  /** The job had nothing to do; `reason` is the notice printed. */
  | { kind: 'skipped'; reason: string }
  /** `message` is the failure as printed, redacted; `timedOut` when the budget ran out. */
  | { kind: 'failed'; error: unknown; message: string; timedOut: boolean };

/**
 * A platform's own record of a job besides the note (GitHub's deployments). Both hooks should
 * not throw: a failure to record is a warning (the runner turns anything thrown into one).
 */
export interface JobLifecycle<J extends CiJobContext> {
  /**
   * A deploy starts: called once the core's first request is on its way (so it never delays
   * it) and awaited before anything is settled.
   */
  started?(job: J, reporter: JobReporter): Promise<void>;
  /**
   * The job ended (after outputs, before the note). `note` is what the note says (also when no
   * note is written), for a summary of the job. May throw an OutputWriteError for an output it
   * writes: the job then fails after the note, like a failed `writeOutputs`.
   */
  settled?(job: J, outcome: JobOutcome, note: NoteState | undefined, reporter: JobReporter): Promise<void>;
  /**
   * The order of a newer run of the same preview that has already started, if any: asked right
   * before a deploy's note is written, which is then left to that run (it says its own last word).
   */
  newerRun?(job: J): Promise<RunOrder | undefined>;
}

/**
 * One CI platform as the job runner uses it; `J` is the adapter's context. A fourth adapter
 * implements this and calls `runCiJob(readItsContext(env), itsPlatform, runtime)`.
 */
export interface CiPlatform<J extends CiJobContext> {
  core: CoreApi;
  userAgent: string;
  words: PlatformWords;
  noteStyle: NoteMarkerStyle;
  /** How a ConsoleReporter marks phases (GitLab's collapsible sections, or plain headers). */
  sections: SectionStyle;
  /** The job's log; a ConsoleReporter on the runtime's sinks when absent. */
  reporter?(log: CiLogContext, runtime: CiRuntime): JobReporter;
  /**
   * The core's field names -> the platform variables that supply them, for errors in the user's
   * terms; absent where the user sets the core's fields by their own names (GitHub's inputs).
   */
  fields?: Readonly<Record<string, string>>;
  /**
   * The platform's change-request API for this job, when its token (and API URL) allow it. Its
   * calls are bounded by `deadline`, the whole job's budget (the core's ends a reserve earlier),
   * so a platform that never answers cannot hold the job past it.
   */
  api(job: J, deadline: Deadline): ChangeRequestApi | undefined;
  /** Why prune cannot run when `api` gave none (an error naming the variable to set). */
  apiMissing(job: J): Error;
  /** The files `writeOutputs` writes: checked before the job starts (output-path.ts). */
  outputFiles(job: J): OutputFile[];
  /**
   * The job's machine-read outputs, written before the note and the result line; may throw
   * (an OutputWriteError, or anything, which is reported as one after the note).
   */
  writeOutputs(job: J, outcome: JobOutcome, reporter: JobReporter): Promise<void>;
  /** Writes a "⏳ deploying" note as a deploy starts (a platform whose notes people watch live). */
  deployingNote?: boolean;
  lifecycle?: JobLifecycle<J>;
}

/** Where the job's log goes and its clock. */
export interface CiRuntime {
  stdout: TextSink;
  /** Warnings and errors; the same sink as stdout keeps one log in order. */
  stderr: TextSink;
  clock: NoteSyncDeps;
  /**
   * Told how the job ended, once, before `runCiJob` resolves: the outcome its outputs, hooks and
   * note were given, or, for a job that failed before it settled (its setup included), that
   * failure. For callers that report more than the exit code (the CLI's `--json`).
   */
  ended?(outcome: JobOutcome): void;
}

/**
 * What the core leaves of a budget of `timeoutMs` for the job's last word (ms): a quarter, at
 * most 10 s. The last word is a few platform calls (a deployment status, the note's list, write,
 * a 0.2-2 s re-check pause and second list): about 4 s at 500 ms a call; 10 s leaves room for a
 * slow platform without taking much from a long job, a quarter keeps short budgets usable.
 */
export function reportReserveMs(timeoutMs: number): number {
  return Math.min(10_000, Math.floor(timeoutMs / 4));
}

/** A job as it runs: its context, what the platform gives it, and how the deploy announced itself. */
interface RunningJob<J extends CiJobContext> {
  context: J;
  api: ChangeRequestApi | undefined;
  /** Present on a change request when the platform API allows writing the note. */
  note: NoteChannel | undefined;
  reporter: JobReporter;
  platform: CiPlatform<J>;
  clock: NoteSyncDeps;
  /** The `started` hook (and the deploying note), once a deploy has begun. */
  announced?: Promise<void> | undefined;
  /** What the job settled on, once it has. */
  outcome?: JobOutcome;
}

/** The one preview note on the change request. */
interface NoteChannel {
  words: PlatformWords;
  number: number;
  style: NoteMarkerStyle;
  order: RunOrder;
  store: NoteStore;
  clock: NoteSyncDeps;
}

/**
 * Runs one job from its context; resolves to the exit code (0 or 1). Never throws: every failure,
 * whatever was thrown (a variable set wrongly included), becomes one failure line and exit code 1.
 */
export async function runCiJob<J extends CiJobContext>(
  context: CiContext<J>,
  platform: CiPlatform<J>,
  runtime: CiRuntime,
): Promise<number> {
  const { clock } = runtime;
  const startedAt = clock.now();
  const reporter: JobReporter =
    platform.reporter?.(context, runtime) ??
    new ConsoleReporter({
      stdout: runtime.stdout,
      stderr: runtime.stderr,
      sections: platform.sections,
      color: context.color,
      debug: context.debug,
      now: () => clock.now(),
    });
  // Before anything can fail or print: every secret the job was given.
  for (const secret of context.secrets) reporter.mask(secret);
  const { code, outcome } = await runJob(context, platform, reporter, runtime, startedAt);
  await reporter.flushed?.();
  runtime.ended?.(outcome);
  return code;
}

async function runJob<J extends CiJobContext>(
  context: CiContext<J>,
  platform: CiPlatform<J>,
  reporter: JobReporter,
  runtime: CiRuntime,
  startedAt: number,
): Promise<{ code: number; outcome: JobOutcome }> {
  let job: RunningJob<J> | undefined;
  // Failures before the core starts (variables, input, output files) are the job's setup: no note.
  let started = false;
  try {
    if (!context.ok) throw context.error;
    const deadline = { at: startedAt + context.job.timeoutMs, now: () => runtime.clock.now() };
    job = openJob(context.job, platform, reporter, deadline, runtime.clock);
    const { context: ctx } = job;
    const number = ctx.changeNumber;
    reporter.debug(
      `repository ${ctx.input.repository}, branch ${ctx.input.branch || '(none)'}, ${
        number === undefined ? `no ${platform.words.changeRequest}` : platform.words.place(number)
      }, job ${ctx.skip === undefined ? ctx.action : 'skipped'}`,
    );
    checkOutputFiles(platform.outputFiles(ctx));
    if (ctx.skip !== undefined) {
      (reporter.notice ?? reporter.info).call(reporter, ctx.skip);
      const skipped: JobOutcome = { kind: 'skipped', reason: ctx.skip };
      await platform.writeOutputs(ctx, skipped, reporter);
      return { code: 0, outcome: skipped };
    }
    // An input the core refuses is reported before anything exists (the core validates again).
    if (ctx.action !== 'prune') parseRequest(ctx.input, ctx.action);
    started = true;
    switch (ctx.action) {
      case 'deploy':
        await deploy(job);
        break;
      case 'teardown':
        await teardown(job);
        break;
      case 'prune':
        await prune(job);
        break;
    }
    if (!job.outcome) throw new Error(`the ${ctx.action} job ended without an outcome`);
    return { code: 0, outcome: job.outcome };
  } catch (error) {
    const message = reporter.redact(
      describeError(platform.fields ? inVariableTerms(error, platform.fields) : error),
    );
    // A setup error means the job never started: nothing for the change request's readers. An
    // output file that failed after the deploy already has its "deployed" note.
    if (job && started && !(error instanceof CiVariableError) && !(error instanceof OutputWriteError)) {
      await sayFailed(job, error, message);
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return {
      code: 1,
      outcome: job?.outcome ?? { kind: 'failed', error, message, timedOut: timedOut(error) },
    };
  }
}

function openJob<J extends CiJobContext>(
  context: J,
  platform: CiPlatform<J>,
  reporter: JobReporter,
  deadline: Deadline,
  clock: NoteSyncDeps,
): RunningJob<J> {
  const api = platform.api(context, deadline);
  const number = context.changeNumber;
  return {
    context,
    api,
    reporter,
    platform,
    clock,
    note:
      number !== undefined && api && context.writesNote !== false
        ? {
            words: platform.words,
            number,
            style: platform.noteStyle,
            order: context.runOrder,
            store: api.notes(number),
            clock,
          }
        : undefined,
  };
}

function coreDeps<J extends CiJobContext>(job: RunningJob<J>): CiCoreDeps {
  const { api } = job;
  return {
    clock: job.clock,
    userAgent: job.platform.userAgent,
    reserveMs: reportReserveMs(job.context.timeoutMs),
    changeRequests: api && {
      state: (number) => api.state(number),
      branchExists: (name) => api.branchExists(name),
    },
  };
}

/** Resolves in the event loop's next turn, after the I/O this one started has been sent. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The `started` hook and the deploying note, after the core's first request went out. */
async function announce<J extends CiJobContext>(job: RunningJob<J>): Promise<void> {
  const { context, platform, reporter } = job;
  await nextTurn();
  await guarded(reporter, 'record the start', () => platform.lifecycle?.started?.(context, reporter));
  if (platform.deployingNote && job.note) {
    const { input } = context;
    await publishNote(
      job,
      {
        kind: 'deploying',
        workspaceName: workspaceName({
          platform: input.platform,
          repository: input.repository,
          changeNumber: context.changeNumber,
          branch: input.branch,
        }),
        vpnConfig: input.vpnConfig,
        commit: input.commit,
        jobUrl: context.jobUrl,
      },
      'deploy',
    );
  }
}

/** Runs a hook; anything it throws but an OutputWriteError becomes a warning. */
async function guarded(
  reporter: JobReporter,
  what: string,
  hook: () => Promise<void> | undefined,
): Promise<OutputWriteError | undefined> {
  try {
    await hook();
  } catch (error) {
    if (error instanceof OutputWriteError) return error;
    reporter.warning(`Could not ${what}: ${describeError(error)}`);
  }
  return undefined;
}

/** Outputs, then the platform's record, then the note; the first output error is returned. */
async function settle<J extends CiJobContext>(
  job: RunningJob<J>,
  outcome: JobOutcome,
  note: NoteState | undefined,
  publish: 'deploy' | 'teardown' | undefined,
  fallbackUrl = '',
): Promise<OutputWriteError | undefined> {
  const { context, platform, reporter } = job;
  job.outcome = outcome;
  let outputError: OutputWriteError | undefined;
  if (outcome.kind !== 'failed') {
    try {
      await platform.writeOutputs(context, outcome, reporter);
    } catch (error) {
      const file = platform.outputFiles(context)[0];
      outputError =
        error instanceof OutputWriteError
          ? error
          : new OutputWriteError(file?.variable ?? 'the output file', file?.path ?? '', fallbackUrl, error);
    }
  }
  await job.announced;
  const hookError = await guarded(reporter, 'record how the job ended', () =>
    platform.lifecycle?.settled?.(context, outcome, note, reporter),
  );
  if (note && publish && job.note) await publishNote(job, note, publish);
  return outputError ?? hookError;
}

async function deploy<J extends CiJobContext>(job: RunningJob<J>): Promise<void> {
  const { context, platform, reporter } = job;
  const running = platform.core.deploy(context.input, reporter, coreDeps(job));
  job.announced = announce(job);
  let result: DeployResult;
  try {
    result = await running;
  } catch (error) {
    if (!(error instanceof DeployCancelledError)) throw error;
    // The change request was closed: the preview is gone, not ready, and that is what was asked.
    // When this run deleted the workspace, the note says so, as a teardown's would. When it
    // deleted nothing, the close's own run already said it: a late run must not replace
    // "Preview deleted" with "already gone".
    const outputError = await settle(
      job,
      { kind: 'cancelled', cancelled: error },
      { kind: 'deleted', result: error.removed, jobUrl: context.jobUrl },
      error.removed.deleted ? 'teardown' : undefined,
    );
    if (outputError) throw outputError;
    // Not a failure, but not what was asked for either: a notice where the platform has one.
    if (reporter.notice) reporter.notice(error.message);
    else reporter.success(`No preview: ${error.message}`);
    return;
  }
  // The preview exists from here on: a failed output write is reported after the note.
  const outputError = await settle(
    job,
    { kind: 'deployed', result },
    { kind: 'deployed', result, commit: context.input.commit, jobUrl: context.jobUrl },
    'deploy',
    result.url,
  );
  const vpn = result.vpnConfig ? ` on VPN config "${result.vpnConfig}"` : '';
  reporter.success(
    `Preview ${result.action} (workspace ${result.name}, id ${result.workspaceId})${vpn}: ${result.url}`,
  );
  if (outputError) throw outputError;
}

async function teardown<J extends CiJobContext>(job: RunningJob<J>): Promise<void> {
  const { context, platform, reporter } = job;
  const result = await platform.core.teardown(context.input, reporter, coreDeps(job));
  const outputError = await settle(
    job,
    { kind: 'deleted', result },
    { kind: 'deleted', result, jobUrl: context.jobUrl },
    'teardown',
  );
  reporter.success(
    result.deleted
      ? `Preview deleted: workspace ${result.name}${result.workspaceId === undefined ? '' : ` (id ${result.workspaceId})`}`
      : `Nothing to delete: no workspace ${result.name}`,
  );
  if (outputError) throw outputError;
}

async function prune<J extends CiJobContext>(job: RunningJob<J>): Promise<void> {
  const { api, context, platform, reporter } = job;
  if (!api) throw platform.apiMissing(context);
  const { changeRequest: noun, prefix } = platform.words;
  const open = await reporter.group(`Open ${noun}s`, async () => {
    const numbers = await api.listOpen().catch((cause: unknown) => {
      // Without the open list nothing can be told closed: say that nothing was deleted.
      throw new CodesphereDeployError(
        `${describeError(cause).replace(/\.$/, '')}; nothing was pruned (prune deletes only previews whose ${noun} it knows to be closed).`,
        { cause },
      );
    });
    reporter.info(
      `${numbers.length} open ${noun}(s) in ${context.input.repository}${
        numbers.length ? `: ${prefix}${numbers.join(`, ${prefix}`)}` : ''
      }`,
    );
    return numbers;
  });
  const result = await platform.core.prune(
    { ...context.input, changeNumber: undefined, openChangeNumbers: open },
    reporter,
    coreDeps(job),
  );
  for (const entry of result.pruned) {
    reporter.info(
      `${result.dryRun ? 'would delete' : 'deleted'} ${entry.name} (id ${entry.workspaceId}): ${entry.reason}`,
    );
  }
  const outputError = await settle(job, { kind: 'pruned', result }, undefined, undefined);
  reporter.success(
    `${result.dryRun ? 'Dry run: would prune' : 'Pruned'} ${result.pruned.length} preview(s); ${result.kept.length} kept`,
  );
  if (outputError) throw outputError;
}

/** Whether the budget ran out: a DeadlineExceededError anywhere in the cause chain. */
function timedOut(error: unknown): boolean {
  return findCause(error, DeadlineExceededError) !== undefined;
}

/** The failed job's last word: the platform's record and the note, in the budget's reserve. */
async function sayFailed<J extends CiJobContext>(job: RunningJob<J>, error: unknown, message: string) {
  const { context } = job;
  const isTimeout = timedOut(error);
  const note: NoteState = {
    kind: 'failed',
    ...failureForComment(error, message),
    timedOut: isTimeout,
    commit: context.input.commit,
    jobUrl: context.jobUrl,
  };
  await settle(
    job,
    { kind: 'failed', error, message, timedOut: isTimeout },
    note,
    context.action === 'teardown' ? 'teardown' : 'deploy',
  );
}

/**
 * The note is a convenience: a failure to write it is a warning, never a failed job. Concurrent
 * runs of one change request converge on one note holding the newest run's state (`syncNote`).
 */
async function publishNote<J extends CiJobContext>(
  job: RunningJob<J>,
  state: NoteState,
  phase: 'deploy' | 'teardown',
): Promise<void> {
  const { note, reporter } = job;
  if (!note) return;
  const order = withPhase(note.order, phase);
  const noun = note.words.note;
  const place = note.words.place(note.number);
  try {
    // A teardown's note is always written: the newer run may be a deploy the close cancels.
    const newer = phase === 'deploy' ? await job.platform.lifecycle?.newerRun?.(job.context) : undefined;
    if (newer !== undefined && compareRunOrder(newer, order) > 0) {
      reporter.info(
        `A newer run (${formatRunOrder(newer)}) has started; the ${noun} on ${place} is left to it.`,
      );
      return;
    }
    const synced = await syncNote(
      note.store,
      {
        body: reporter.redact(renderNote(state, note.style, order)),
        order,
        isOurs: (body) => isPreviewNote(body, note.style),
      },
      note.clock,
    );
    const removed = synced.duplicatesRemoved > 0 ? `; removed ${synced.duplicatesRemoved} duplicate(s)` : '';
    if (synced.outcome === 'newer-kept') {
      reporter.info(
        `The ${noun} on ${place} already shows a newer run (${formatRunOrder(synced.newer)}); left as it is${removed}.`,
      );
    } else {
      reporter.debug(`${synced.outcome} ${noun} ${synced.id} on ${place}${removed}`);
    }
  } catch (error) {
    reporter.warning(`Could not write the preview ${noun} on ${place}: ${describeError(error)}`);
  }
}
