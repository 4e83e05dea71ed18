/**
 * The job flow the GitLab image and the Bitbucket pipe share: mask, read the common variables,
 * run deploy, teardown or prune, print the result lines, keep the change request's note, and turn
 * any failure into one `✖` line and exit code 1.
 *
 * What differs between the platforms is passed in by the adapter: how it reads its own context
 * into a `JobInput`, where deploy outputs go (a dotenv report, an output-variables file), how the
 * note is written and what the platform calls it (MR note on `!12`, PR comment on `PR #7`), and
 * how open change requests are listed for prune.
 */
import { failureForComment } from './ci-log-tail.js';
import { renderNote, type NoteMarkerStyle, type NoteState } from './ci-note.js';
import {
  CiVariableError,
  inVariableTerms,
  platformSecrets,
  readCiVariables,
  SECRET_VARIABLES,
  type CiVariables,
  type Env,
} from './ci-variables.js';
import type { ConsoleReporter } from './console-reporter.js';
import type { DeployResult, JobInput, JobKind, PruneResult, TeardownResult } from './contract.js';
import { describeError } from './describe-error.js';
import type { Reporter } from './reporter.js';
import { secretsOf } from './request.js';

/** What the core exports (shared/index.ts); a parameter so tests can pass a fake. */
export interface CoreApi {
  deploy(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<DeployResult>;
  teardown(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<TeardownResult>;
  prune(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<PruneResult>;
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
  upsert(body: string): Promise<{ id: number; created: boolean }>;
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
  /** Called only by prune, before anything prints; throws when the platform API is not available. */
  openChangeRequests(): OpenChangeRequests;
}

export interface CiPlatform {
  core: CoreApi;
  userAgent: string;
  /** The platform's own secret variables and derived credentials, masked with ours before anything runs. */
  ownSecrets: string[];
  /** The core's field names -> the platform variables that supply them, for errors in the user's terms. */
  fields: Readonly<Record<string, string>>;
  /** Reads the platform's context; everything it throws is reported like any other failure. */
  readJob(settings: CiVariables): CiJob;
}

/** Runs one job. Never throws: every failure, whatever was thrown, becomes one `✖` line and exit code 1. */
export async function runCiJob(env: Env, reporter: ConsoleReporter, platform: CiPlatform): Promise<number> {
  // Before anything can fail or print: every secret the job was given.
  for (const secret of [...platformSecrets(env, SECRET_VARIABLES), ...platform.ownSecrets]) {
    reporter.mask(secret);
  }

  let job: CiJob | undefined;
  try {
    const settings = readCiVariables(env);
    for (const secret of [...settings.secrets, ...secretsOf(settings.input)]) reporter.mask(secret);
    job = platform.readJob(settings);
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
    // A variable error means the job never started: nothing for the change request's readers.
    if (job?.note && !(error instanceof CiVariableError)) {
      await publishNote(
        job.note,
        {
          kind: 'failed',
          ...failureForComment(error, message),
          commit: job.note.commit,
          jobUrl: job.note.jobUrl,
        },
        reporter,
      );
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return 1;
  }
}

async function deploy(job: CiJob, platform: CiPlatform, reporter: ConsoleReporter): Promise<void> {
  const result = await platform.core.deploy(job.input, reporter, { userAgent: platform.userAgent });
  await job.writeOutputs(result);
  if (job.note) {
    await publishNote(
      job.note,
      { kind: 'deployed', result, commit: job.note.commit, jobUrl: job.note.jobUrl },
      reporter,
    );
  }
  const vpn = result.vpnConfig ? ` on VPN config "${result.vpnConfig}"` : '';
  reporter.success(
    `Preview ${result.action} (workspace ${result.name}, id ${result.workspaceId})${vpn}: ${result.url}`,
  );
}

async function teardown(job: CiJob, platform: CiPlatform, reporter: ConsoleReporter): Promise<void> {
  const result = await platform.core.teardown(job.input, reporter, { userAgent: platform.userAgent });
  if (job.note) await publishNote(job.note, { kind: 'deleted', result, jobUrl: job.note.jobUrl }, reporter);
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
    { userAgent: platform.userAgent },
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

/** The note is a convenience: a failure to write it is a warning, never a failed job. */
async function publishNote(note: NoteChannel, state: NoteState, reporter: ConsoleReporter): Promise<void> {
  try {
    const written = await note.upsert(reporter.redact(renderNote(state, note.style)));
    reporter.debug(`${written.created ? 'created' : 'updated'} ${note.noun} ${written.id} on ${note.place}`);
  } catch (error) {
    reporter.warning(`Could not write the preview ${note.noun} on ${note.place}: ${describeError(error)}`);
  }
}
