/**
 * The job flow the GitLab image and the Bitbucket pipe share: mask, read the common variables,
 * run deploy, teardown or prune, print the result lines, keep the change request's note, and turn
 * any failure into one `✖` line and exit code 1.
 *
 * What differs between the platforms is passed in by the adapter: how it reads its own context
 * into a `JobInput`, where deploy outputs go (a dotenv report, an output-variables file), how the
 * note is written and what the platform calls it (MR note on `!12`, PR comment on `PR #7`), how
 * open change requests are listed for prune, and how one change request's state is asked (the
 * core's ChangeRequests port, which settles races between a deploy or prune and a close).
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
import {
  CiVariableError,
  inVariableTerms,
  platformSecrets,
  readCiVariables,
  SECRET_VARIABLES,
  type CiVariables,
  type Env,
} from './variables.js';
import type { ConsoleReporter } from './console-reporter.js';
import { checkOutputFiles, OutputWriteError, type OutputFile } from './output-path.js';
import {
  type ChangeRequests,
  type Deadline,
  DeployCancelledError,
  type DeployResult,
  describeError,
  type JobInput,
  type JobKind,
  type PruneResult,
  type Reporter,
  secretsOf,
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

/** The one preview note on the change request, in the platform's words. */
export interface NoteChannel {
  /** What the platform calls it: `note` (GitLab), `comment` (Bitbucket). */
  noun: string;
  /** The change request as the platform writes it: `!12`, `PR #7`. */
  place: string;
  style: NoteMarkerStyle;
  commit: string | undefined;
  jobUrl: string | undefined;
  /**
   * This run's place among the repository's runs, from the platform's run counter (GitLab
   * CI_PIPELINE_ID, Bitbucket BITBUCKET_BUILD_NUMBER); the job's phase is added here. A note
   * written by a newer run is never overwritten.
   */
  order: RunOrder;
  store: NoteStore;
  clock: NoteSyncDeps;
}

/** The open change requests prune keeps previews for, in the platform's words. */
export interface OpenChangeRequests {
  /** `merge request`, `pull request`. */
  noun: string;
  /** What precedes a number: `!`, `#`. */
  prefix: string;
  repository: string;
  list(): Promise<number[]>;
}

/** One job, read from the platform by the adapter. */
export interface CiJob {
  action: JobKind;
  input: JobInput;
  /** Present on a change request when a platform token allows writing the note. */
  note: NoteChannel | undefined;
  /** Platform outputs of a deploy, written before the note and the result line. */
  writeOutputs(result: DeployResult): Promise<void>;
  /** The files `writeOutputs` writes: checked before the deploy starts (output-path.ts). */
  outputFiles: OutputFile[];
  /** Called only by prune, before anything prints; throws when the platform API is not available. */
  openChangeRequests(): OpenChangeRequests;
  /**
   * Asks the platform for one change request's state; absent without a platform token. Deploy
   * uses it to stop when its change request was closed meanwhile, prune before each deletion.
   */
  changeRequests: ChangeRequests | undefined;
}

export interface CiPlatform {
  core: CoreApi;
  userAgent: string;
  /** The platform's own secret variables and derived credentials, masked with ours before anything runs. */
  ownSecrets: string[];
  /** The core's field names -> the platform variables that supply them, for errors in the user's terms. */
  fields: Readonly<Record<string, string>>;
  /**
   * Reads the platform's context; everything it throws is reported like any other failure.
   * `deadline` is the job's (TIMEOUT from the job's start): the adapter bounds its platform API
   * calls by it, so a platform that never answers cannot hold the job past its budget.
   */
  readJob(settings: CiVariables, deadline: Deadline): CiJob;
}

/** Runs one job. Never throws: every failure, whatever was thrown, becomes one `✖` line and exit code 1. */
export async function runCiJob(
  env: Env,
  reporter: ConsoleReporter,
  platform: CiPlatform,
  now: () => number = Date.now,
): Promise<number> {
  const startedAt = now();
  // Before anything can fail or print: every secret the job was given.
  for (const secret of [...platformSecrets(env, SECRET_VARIABLES), ...platform.ownSecrets]) {
    reporter.mask(secret);
  }

  let job: CiJob | undefined;
  // Failures before the core starts (variables, output files) are the job's setup: no note.
  let started = false;
  try {
    const settings = readCiVariables(env);
    for (const secret of [...settings.secrets, ...secretsOf(settings.input)]) reporter.mask(secret);
    job = platform.readJob(settings, { at: startedAt + settings.timeoutMs, now });
    if (job.action === 'deploy') checkOutputFiles(job.outputFiles);
    started = true;
    switch (job.action) {
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
        job.action === 'teardown' ? 'teardown' : 'deploy',
        reporter,
      );
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return 1;
  }
}

function coreDeps(job: CiJob, platform: CiPlatform): CiCoreDeps {
  return { userAgent: platform.userAgent, changeRequests: job.changeRequests };
}

async function deploy(job: CiJob, platform: CiPlatform, reporter: ConsoleReporter): Promise<void> {
  let result: DeployResult;
  try {
    result = await platform.core.deploy(job.input, reporter, coreDeps(job, platform));
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
    await job.writeOutputs(result);
  } catch (error) {
    const file = job.outputFiles[0];
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

async function teardown(job: CiJob, platform: CiPlatform, reporter: ConsoleReporter): Promise<void> {
  const result = await platform.core.teardown(job.input, reporter, coreDeps(job, platform));
  if (job.note) {
    await publishNote(job.note, { kind: 'deleted', result, jobUrl: job.note.jobUrl }, 'teardown', reporter);
  }
  reporter.success(
    result.deleted
      ? `Preview deleted: workspace ${result.name}${result.workspaceId === undefined ? '' : ` (id ${result.workspaceId})`}`
      : `Nothing to delete: no workspace ${result.name}`,
  );
}

async function prune(job: CiJob, platform: CiPlatform, reporter: ConsoleReporter): Promise<void> {
  const changeRequests = job.openChangeRequests();
  const { noun, prefix } = changeRequests;
  const open = await reporter.group(`Open ${noun}s`, async () => {
    const numbers = await changeRequests.list();
    reporter.info(
      `${numbers.length} open ${noun}(s) in ${changeRequests.repository}${
        numbers.length ? `: ${prefix}${numbers.join(`, ${prefix}`)}` : ''
      }`,
    );
    return numbers;
  });
  const result = await platform.core.prune(
    { ...job.input, changeNumber: undefined, openChangeNumbers: open },
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
        `The ${note.noun} on ${note.place} already shows a newer run (${formatRunOrder(synced.newer)}); left as it is${removed}.`,
      );
    } else {
      reporter.debug(`${synced.outcome} ${note.noun} ${synced.id} on ${note.place}${removed}`);
    }
  } catch (error) {
    reporter.warning(`Could not write the preview ${note.noun} on ${note.place}: ${describeError(error)}`);
  }
}
