/**
 * The job flow the GitLab image and the Bitbucket pipe share: mask, run deploy, teardown or prune,
 * print the result lines, keep the change request's note, and turn any failure into one `✖` line
 * and exit code 1.
 *
 * It receives the job's context, read once by the adapter (context.ts), never the environment.
 * What differs between the platforms is the adapter's `CiPlatform`: where deploy outputs go (a
 * dotenv report, an output-variables file), what the platform calls its change request and note
 * (MR note on `!12`, PR comment on `PR #7`), and its change-request API (change-request-api.ts),
 * which writes the note, lists open change requests for prune and answers the core's
 * ChangeRequests port (settling races between a deploy or prune and a close).
 */
import { failureForComment } from './log-tail.js';
import {
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
import type { CiContext, CiJobContext } from './context.js';
import { checkOutputFiles, type OutputFile } from './output-path.js';
import {
  type ChangeRequests,
  CiVariableError,
  type Deadline,
  DeployCancelledError,
  type DeployResult,
  describeError,
  type JobInput,
  OutputWriteError,
  type PruneResult,
  type Reporter,
  type TeardownResult,
} from '../index.js';

/** The ports an adapter passes to the core (a subset of shared/workflow/deps.ts CoreDeps). */
export interface CiCoreDeps {
  userAgent?: string;
  changeRequests?: ChangeRequests | undefined;
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
  /** The preview note: `note` (GitLab), `comment` (Bitbucket). */
  note: string;
}

/** One CI platform as the job runner uses it; `J` is the adapter's context. */
export interface CiPlatform<J extends CiJobContext> {
  core: CoreApi;
  userAgent: string;
  words: PlatformWords;
  noteStyle: NoteMarkerStyle;
  /** How the log marks phases: GitLab's collapsible sections, or plain headers. */
  sections: SectionStyle;
  /** The core's field names -> the platform variables that supply them, for errors in the user's terms. */
  fields: Readonly<Record<string, string>>;
  /**
   * The platform's change-request API for this job, when its token (and API URL) allow it. Its
   * calls are bounded by `deadline`, the job's (TIMEOUT from the job's start), so a platform
   * that never answers cannot hold the job past its budget.
   */
  api(job: J, deadline: Deadline): ChangeRequestApi | undefined;
  /** Why prune cannot run when `api` gave none (an error naming the variable to set). */
  apiMissing(job: J): Error;
  /** The files `writeOutputs` writes: checked before the deploy starts (output-path.ts). */
  outputFiles(job: J): OutputFile[];
  /** Platform outputs of a deploy, written before the note and the result line. */
  writeOutputs(job: J, result: DeployResult, reporter: ConsoleReporter): Promise<void>;
}

/** Where the job's log goes and its clock. */
export interface CiRuntime {
  stdout: TextSink;
  /** Warnings and errors; the same sink as stdout keeps one log in order. */
  stderr: TextSink;
  clock: NoteSyncDeps;
}

/** The job as it runs: its context and what the platform gives it. */
interface RunningJob<J extends CiJobContext> {
  context: J;
  api: ChangeRequestApi | undefined;
  /** Present on a change request when the platform API allows writing the note. */
  note: NoteChannel | undefined;
}

/** The one preview note on the change request. */
interface NoteChannel {
  words: PlatformWords;
  number: number;
  style: NoteMarkerStyle;
  commit: string | undefined;
  jobUrl: string | undefined;
  order: RunOrder;
  store: NoteStore;
  clock: NoteSyncDeps;
}

/**
 * Runs one job from its context. Never throws: every failure, whatever was thrown (a variable set
 * wrongly included), becomes one `✖` line and exit code 1.
 */
export async function runCiJob<J extends CiJobContext>(
  read: CiContext<J>,
  platform: CiPlatform<J>,
  runtime: CiRuntime,
): Promise<number> {
  const { clock } = runtime;
  const startedAt = clock.now();
  const reporter = new ConsoleReporter({
    stdout: runtime.stdout,
    stderr: runtime.stderr,
    sections: platform.sections,
    color: read.color,
    debug: read.debug,
    now: () => clock.now(),
  });
  // Before anything can fail or print: every secret the job was given.
  for (const secret of read.secrets) reporter.mask(secret);

  let job: RunningJob<J> | undefined;
  // Failures before the core starts (variables, output files) are the job's setup: no note.
  let started = false;
  try {
    if (!read.ok) throw read.error;
    job = connect(read.job, platform, { at: startedAt + read.job.timeoutMs, now: () => clock.now() }, clock);
    const { context } = job;
    const { words } = platform;
    const number = context.changeNumber;
    reporter.debug(
      `repository ${context.input.repository}, branch ${context.input.branch || '(none)'}, ${
        number === undefined ? `no ${words.changeRequest}` : words.place(number)
      }, job ${context.action}`,
    );
    if (context.action === 'deploy') checkOutputFiles(platform.outputFiles(context));
    started = true;
    switch (context.action) {
      case 'deploy':
        await deploy(job, platform, reporter);
        break;
      case 'teardown':
        await teardown(job, platform, reporter);
        break;
      case 'prune':
        await prune(job, platform, reporter);
        break;
    }
    return 0;
  } catch (error) {
    const message = describeError(inVariableTerms(error, platform.fields));
    // A variable error means the job never started: nothing for the change request's readers. An
    // output file that failed after the deploy already has its "deployed" note.
    if (job?.note && started && !(error instanceof CiVariableError) && !(error instanceof OutputWriteError)) {
      await publishNote(
        job.note,
        {
          kind: 'failed',
          ...failureForComment(error, message),
          commit: job.note.commit,
          jobUrl: job.note.jobUrl,
        },
        job.context.action === 'teardown' ? 'teardown' : 'deploy',
        reporter,
      );
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return 1;
  }
}

function connect<J extends CiJobContext>(
  context: J,
  platform: CiPlatform<J>,
  deadline: Deadline,
  clock: NoteSyncDeps,
): RunningJob<J> {
  const api = platform.api(context, deadline);
  const number = context.changeNumber;
  return {
    context,
    api,
    note:
      number !== undefined && api
        ? {
            words: platform.words,
            number,
            style: platform.noteStyle,
            commit: context.input.commit,
            jobUrl: context.jobUrl,
            order: context.runOrder,
            store: api.notes(number),
            clock,
          }
        : undefined,
  };
}

function coreDeps<J extends CiJobContext>(job: RunningJob<J>, platform: CiPlatform<J>): CiCoreDeps {
  const { api } = job;
  return {
    userAgent: platform.userAgent,
    changeRequests: api && {
      state: (number) => api.state(number),
      branchExists: (name) => api.branchExists(name),
    },
  };
}

async function deploy<J extends CiJobContext>(
  job: RunningJob<J>,
  platform: CiPlatform<J>,
  reporter: ConsoleReporter,
): Promise<void> {
  let result: DeployResult;
  try {
    result = await platform.core.deploy(job.context.input, reporter, coreDeps(job, platform));
  } catch (error) {
    if (!(error instanceof DeployCancelledError)) throw error;
    // The change request was closed: the preview is gone, not ready, and that is what was asked.
    // No outputs (there is no URL). When this run deleted the workspace, the note says so, as a
    // teardown's would, and ranks as one (phase 'teardown'). When it deleted nothing, the close's
    // own run already wrote what there is to say: a late run of the same pipeline must not replace
    // "Preview deleted" with "already gone".
    if (job.note && error.removed.deleted) {
      await publishNote(
        job.note,
        { kind: 'deleted', result: error.removed, jobUrl: job.note.jobUrl },
        'teardown',
        reporter,
      );
    }
    reporter.success(`No preview: ${error.message}`);
    return;
  }
  // The preview exists from here on: a failed output write is reported as what it is, after the
  // note says the preview is deployed.
  let outputError: OutputWriteError | undefined;
  try {
    await platform.writeOutputs(job.context, result, reporter);
  } catch (error) {
    const file = platform.outputFiles(job.context)[0];
    outputError =
      error instanceof OutputWriteError
        ? error
        : new OutputWriteError(file?.variable ?? 'the output file', file?.path ?? '', result.url, error);
  }
  if (job.note) {
    await publishNote(
      job.note,
      { kind: 'deployed', result, commit: job.note.commit, jobUrl: job.note.jobUrl },
      'deploy',
      reporter,
    );
  }
  const vpn = result.vpnConfig ? ` on VPN config "${result.vpnConfig}"` : '';
  reporter.success(
    `Preview ${result.action} (workspace ${result.name}, id ${result.workspaceId})${vpn}: ${result.url}`,
  );
  if (outputError) throw outputError;
}

async function teardown<J extends CiJobContext>(
  job: RunningJob<J>,
  platform: CiPlatform<J>,
  reporter: ConsoleReporter,
): Promise<void> {
  const result = await platform.core.teardown(job.context.input, reporter, coreDeps(job, platform));
  if (job.note) {
    await publishNote(job.note, { kind: 'deleted', result, jobUrl: job.note.jobUrl }, 'teardown', reporter);
  }
  reporter.success(
    result.deleted
      ? `Preview deleted: workspace ${result.name}${result.workspaceId === undefined ? '' : ` (id ${result.workspaceId})`}`
      : `Nothing to delete: no workspace ${result.name}`,
  );
}

async function prune<J extends CiJobContext>(
  job: RunningJob<J>,
  platform: CiPlatform<J>,
  reporter: ConsoleReporter,
): Promise<void> {
  const { api, context } = job;
  if (!api) throw platform.apiMissing(context);
  const { changeRequest: noun, prefix } = platform.words;
  const open = await reporter.group(`Open ${noun}s`, async () => {
    const numbers = await api.listOpen();
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
    coreDeps(job, platform),
  );
  for (const entry of result.pruned) {
    reporter.info(
      `${result.dryRun ? 'would delete' : 'deleted'} ${entry.name} (id ${entry.workspaceId}): ${entry.reason}`,
    );
  }
  reporter.success(
    `${result.dryRun ? 'Dry run: would prune' : 'Pruned'} ${result.pruned.length} preview(s); ${result.kept.length} kept`,
  );
}

/**
 * The note is a convenience: a failure to write it is a warning, never a failed job. Concurrent
 * runs of one change request converge on one note holding the newest run's state (`syncNote`).
 */
async function publishNote(
  note: NoteChannel,
  state: NoteState,
  phase: 'deploy' | 'teardown',
  reporter: ConsoleReporter,
): Promise<void> {
  const order = withPhase(note.order, phase);
  const noun = note.words.note;
  const place = note.words.place(note.number);
  try {
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
