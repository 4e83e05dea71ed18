/**
 * One run's GitHub context, read once from a plain env object (as danger-js builds its CI
 * providers): the inputs, the GITHUB_* variables, the event payload (parsed with zod at this
 * boundary, so a payload lacking a field fails naming the event and the field) and the runner's
 * files. Nothing after `readGitHubContext` reads the environment.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CodesphereDeployError, type JobInput, type JobKind, secretsOf } from '../../shared/index.js';
import {
  type CiContext,
  type CiJobContext,
  type RunOrder,
  runOrderOf,
  timeoutMsOf,
} from '../../shared/ci/index.js';
import { type ActionInputs, readInputs, type RunnerEnv, secretInputValues } from './inputs.js';
import { pickJob } from './pick-job.js';

const repositorySchema = z.object({
  full_name: z.string(),
  name: z.string(),
  clone_url: z.string(),
  private: z.boolean().optional(),
  owner: z.object({ login: z.string() }),
});

/** Ids are positive whole numbers, as GitHub sends them (never "9.0" or -1: see values.ts parseId). */
const idSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** A pull_request(_target) payload, read into its trigger (the event's name aside). */
const pullRequestEventSchema = z
  .object({
    action: z.string(),
    number: idSchema,
    pull_request: z.object({
      number: idSchema,
      user: z.object({ login: z.string() }).nullable().optional(),
      head: z.object({
        ref: z.string(),
        sha: z.string(),
        // null when the fork was deleted after the PR was opened
        repo: repositorySchema.nullable(),
      }),
      base: z.object({ ref: z.string(), repo: repositorySchema }),
    }),
    repository: repositorySchema,
  })
  .transform(({ action, pull_request: pr }): Omit<PullRequestTrigger, 'kind' | 'event'> => ({
    action,
    number: pr.number,
    branch: pr.head.ref,
    sha: pr.head.sha,
    gitUrl: pr.head.repo?.clone_url ?? pr.base.repo.clone_url,
    fromFork: pr.head.repo === null || pr.head.repo.full_name !== pr.base.repo.full_name,
    author: pr.user?.login,
  }));

/** The repository's visibility, where the event's payload gives it (a private one clones with credentials). */
const privateRepository = z.object({ repository: z.object({ private: z.boolean() }) });

const pushEventSchema = z.object({
  ref: z.string(),
  after: z.string().optional(),
  deleted: z.boolean().optional(),
  repository: repositorySchema.partial().optional(),
});

/** What a preview is built from: a branch, its commit, and where to clone it from. */
interface TriggerSource {
  /** `pull_request` or `pull_request_target`; `push` or `workflow_dispatch`. */
  event: string;
  branch: string;
  sha: string;
  gitUrl: string;
}

/** The PR's head branch and commit (a fork's clone URL for fork PRs). */
export interface PullRequestTrigger extends TriggerSource {
  kind: 'pull_request';
  /** opened, synchronize, closed, ... */
  action: string;
  number: number;
  fromFork: boolean;
  author: string | undefined;
}

export interface BranchTrigger extends TriggerSource {
  kind: 'branch';
  /** A push that deleted the branch. */
  deleted: boolean;
}

export interface OtherTrigger {
  kind: 'other';
  event: string;
}

export type Trigger = PullRequestTrigger | BranchTrigger | OtherTrigger;

export interface GitHubRun {
  owner: string;
  repo: string;
  /** owner/repo */
  repository: string;
  serverUrl: string;
  apiUrl: string;
  /** Link to this workflow run, for deployment statuses and the comment. */
  runUrl: string;
  actor: string;
  isPrivate: boolean | undefined;
  trigger: Trigger;
  /**
   * [GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT]: the run id increases across the repository's workflows
   * (GITHUB_RUN_NUMBER is per workflow) and a re-run keeps it with a higher attempt.
   */
  runOrder: RunOrder;
}

/** The runner's files for this step (absent outside a runner: nothing is written there). */
export interface RunnerFiles {
  /** GITHUB_OUTPUT: step outputs, read by later steps. */
  output: string | undefined;
  /** GITHUB_STEP_SUMMARY: the job summary's Markdown. */
  summary: string | undefined;
}

/** A GitHub job, read once: the common job context plus the inputs, the run and the runner's files. */
export interface GitHubJob extends CiJobContext {
  inputs: ActionInputs;
  run: GitHubRun;
  files: RunnerFiles;
  /** The preview's GitHub environment (the official action's names, so its history continues). */
  environment: string;
}

/**
 * Reads the whole context from the runner's environment. Never throws: the secret inputs are
 * read first (masked before anything prints); an invalid input or a context that is not GitHub's
 * becomes the context's `error` (ConfigError, ContextError).
 */
export function readGitHubContext(env: RunnerEnv): CiContext<GitHubJob> {
  const secrets = secretInputValues(env);
  const log = { secrets, debug: false, color: false };
  try {
    const inputs = readInputs(env);
    // Values of secret-looking names in `env` (TOKEN, PASSWORD, ...), as the core defines them.
    secrets.push(...secretsOf(inputs.core));
    const run = readGitHubRun(env);
    const files = {
      output: env['GITHUB_OUTPUT'] || undefined,
      summary: env['GITHUB_STEP_SUMMARY'] || undefined,
    };
    const input = toJobInput(inputs, run);
    const picked = pickJob(run.trigger, inputs.action);
    const job: GitHubJob = {
      action: picked.kind === 'skip' ? 'deploy' : picked.kind,
      skip:
        picked.kind === 'skip' ? `Nothing to do: ${picked.why}.` : withheldSecrets(picked.kind, inputs, run),
      input,
      changeNumber: run.trigger.kind === 'pull_request' ? run.trigger.number : undefined,
      accessToken: inputs.githubToken || undefined,
      timeoutMs: timeoutMsOf(inputs.core.timeoutSeconds),
      jobUrl: run.runUrl,
      runOrder: run.runOrder,
      writesNote: inputs.comment,
      inputs,
      run,
      files,
      environment: environmentName(run.trigger),
    };
    return { ...log, ok: true, job };
  } catch (error) {
    return { ...log, ok: false, error };
  }
}

/**
 * GitHub withholds secrets from pull requests of forks and Dependabot: without credentials such a
 * run is skipped with a notice (a red check would only punish the contributor).
 */
function withheldSecrets(kind: JobKind, inputs: ActionInputs, run: GitHubRun): string | undefined {
  const { trigger } = run;
  const { apiToken, email, password } = inputs.core;
  if (trigger.kind !== 'pull_request' || kind === 'prune' || apiToken || (email && password))
    return undefined;
  const dependabot = trigger.author === 'dependabot[bot]' || run.actor === 'dependabot[bot]';
  const who = dependabot ? 'Dependabot' : trigger.fromFork ? 'a fork' : undefined;
  if (who === undefined) return undefined;
  return (
    `Skipping the Codesphere preview of #${trigger.number}: pull requests from ${who} get no secrets, ` +
    'so no Codesphere credentials are available. A maintainer can run the workflow on the branch instead.'
  );
}

/** The core's input: the inputs, and the branch and commit the trigger names (none for other events). */
function toJobInput(inputs: ActionInputs, run: GitHubRun): JobInput {
  const { trigger } = run;
  const source = trigger.kind === 'other' ? undefined : trigger;
  return {
    ...inputs.core,
    platform: 'github',
    repository: run.repository,
    isPrivateRepo: run.isPrivate,
    gitUrl: source?.gitUrl ?? `${run.serverUrl}/${run.repository}.git`,
    branch: source?.branch ?? '',
    commit: source?.sha || undefined,
    changeNumber: trigger.kind === 'pull_request' ? trigger.number : undefined,
  };
}

/** The official action's environment name, so the deployment history of its previews continues. */
export function environmentName(trigger: Trigger): string {
  if (trigger.kind === 'pull_request') return `Codesphere Preview #${trigger.number}`;
  if (trigger.kind === 'branch') return `Codesphere Preview ${trigger.branch}`;
  return 'Codesphere Preview';
}

/** The run's GitHub context is not what the action needs (user-facing, like the core's errors). */
export class ContextError extends CodesphereDeployError {
  override readonly name = 'ContextError';
}

/** Reads the runner's GITHUB_* variables and the event payload file. */
export function readGitHubRun(env: RunnerEnv): GitHubRun {
  const repository = env['GITHUB_REPOSITORY'] ?? '';
  const [owner, repo, ...rest] = repository.split('/');
  if (owner === undefined || owner === '' || repo === undefined || repo === '' || rest.length > 0) {
    throw new ContextError(
      `GITHUB_REPOSITORY is "${repository}"; expected format {owner}/{repo}. Is this running inside GitHub Actions?`,
    );
  }
  const serverUrl = (env['GITHUB_SERVER_URL'] ?? 'https://github.com').replace(/\/+$/, '');
  const apiUrl = (env['GITHUB_API_URL'] ?? 'https://api.github.com').replace(/\/+$/, '');
  const runId = env['GITHUB_RUN_ID'];
  const runUrl = runId
    ? `${serverUrl}/${repository}/actions/runs/${runId}`
    : `${serverUrl}/${repository}/actions`;
  const event = env['GITHUB_EVENT_NAME'] ?? '';
  const payload = readPayload(env['GITHUB_EVENT_PATH']);
  const defaultGitUrl = `${serverUrl}/${repository}.git`;
  const trigger = toTrigger(event, payload, env, defaultGitUrl);
  return {
    owner,
    repo,
    repository,
    serverUrl,
    apiUrl,
    runUrl,
    actor: env['GITHUB_ACTOR'] ?? '',
    isPrivate: privateRepository.safeParse(payload).data?.repository.private,
    trigger,
    runOrder: runOrderOf([runId, env['GITHUB_RUN_ATTEMPT'] ?? '1']),
  };
}

/** Why the event payload file could not be read, by the error's code. */
const UNREADABLE: Readonly<Record<string, string>> = { ENOENT: 'does not exist', EISDIR: 'is a folder' };

/**
 * The event payload file. Read here, where a failure becomes the context's error, and never by
 * @actions/github's module-level context (see octokit.ts): an absent or malformed file is one clear
 * error naming the file. The parser's message is not quoted: it echoes a fragment of the file.
 */
function readPayload(path: string | undefined): unknown {
  if (path === undefined || path === '') return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    const why = UNREADABLE[code] ?? `cannot be read (${code})`;
    throw new ContextError(
      `The event payload file GITHUB_EVENT_PATH=${path} ${why}; the runner writes it for every job. Is this running inside GitHub Actions?`,
      { cause },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ContextError(
      `The event payload file GITHUB_EVENT_PATH=${path} is not valid JSON (${text.trim() === '' ? 'it is empty' : `${text.length} characters`}); the runner writes it as JSON for every job.`,
      { cause },
    );
  }
}

function toTrigger(event: string, payload: unknown, env: RunnerEnv, defaultGitUrl: string): Trigger {
  if (event === 'pull_request' || event === 'pull_request_target') {
    const parsed = pullRequestEventSchema.safeParse(payload);
    if (!parsed.success) {
      throw new ContextError(
        `The ${event} event payload is not what GitHub sends: ${z.prettifyError(parsed.error)}`,
      );
    }
    return { kind: 'pull_request', event, ...parsed.data };
  }
  if (event === 'push' || event === 'workflow_dispatch') {
    // A payload without a ref leaves the branch and commit to the runner's GITHUB_* variables.
    const push = pushEventSchema.safeParse(payload).data;
    const ref = push?.ref ?? env['GITHUB_REF'] ?? '';
    const branch = ref.startsWith('refs/heads/')
      ? ref.slice('refs/heads/'.length)
      : (env['GITHUB_REF_NAME'] ?? ref);
    if (branch === '' || ref.startsWith('refs/tags/')) {
      throw new ContextError(
        `A branch preview needs a branch; this ${event} is for "${ref || '(no ref)'}". Run it on a branch.`,
      );
    }
    const sha = push?.after ?? env['GITHUB_SHA'] ?? '';
    return {
      kind: 'branch',
      event,
      branch,
      sha: /^0+$/.test(sha) ? (env['GITHUB_SHA'] ?? '') : sha,
      gitUrl: push?.repository?.clone_url ?? defaultGitUrl,
      deleted: push?.deleted === true,
    };
  }
  return { kind: 'other', event };
}
