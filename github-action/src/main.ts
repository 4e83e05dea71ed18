/**
 * The GitHub Action: its context in (read once, github-context.ts), one core job, GitHub features
 * out (deployments, the pull request comment, outputs and the job summary through StepWriter).
 *
 * `run()` never throws and never exits the process: every failure, whatever was thrown, ends in
 * `failJob`, which fails the step exactly once. Tests import `run` and pass their own `deps`
 * (an env object among them); `index.ts` only calls it.
 */
import {
  type CoreDeps,
  deploy,
  DeployCancelledError,
  type DeployResult,
  describeError,
  type JobInput,
  prune,
  type PruneResult,
  parseRequest,
  type Reporter,
  secretsOf,
  systemClock,
  teardown,
  type TeardownResult,
  VERSION,
  workspaceName,
} from '../../shared/index.js';
import {
  checkOutputFiles,
  type Deadline,
  failureForComment,
  type NoteState,
  OutputWriteError,
  renderNote,
  timeoutMsOf,
  withPhase,
  servicesOutput,
} from '../../shared/ci/index.js';
import {
  type GitHubContext,
  type GitHubRun,
  type PullRequestTrigger,
  readGitHubContext,
} from './github-context.js';
import { boundRequests, GitHubFeatures, type LazyOctokit, type Octokit } from './github-features.js';
import { type ActionInputs, type RunnerEnv, secretInputValues } from './inputs.js';
import { OUTPUT, StepWriter } from './outputs.js';
import { pickJob } from './pick-job.js';
import { pullRequestStates } from './pull-state.js';
import { ActionsReporter } from './reporter.js';
import { renderPruneSummary } from './summary.js';

/** The core's entry points (shared/index.ts), as the brief agreed them. */
export interface CoreJobs {
  deploy(input: JobInput, reporter: Reporter, deps?: Partial<CoreDeps>): Promise<DeployResult>;
  teardown(input: JobInput, reporter: Reporter, deps?: Partial<CoreDeps>): Promise<TeardownResult>;
  prune(input: JobInput, reporter: Reporter, deps?: Partial<CoreDeps>): Promise<PruneResult>;
}

export interface RunDeps {
  /** The core's entry points (tests may wrap them). */
  jobs: CoreJobs;
  /** Clock, sleep and user agent for the core. */
  coreDeps: Partial<CoreDeps>;
  /** The runner's environment (INPUT_*, GITHUB_*), read once by readGitHubContext. */
  env: RunnerEnv;
  /** An Octokit whose every request is bounded by the job's deadline (github-features.ts boundRequests). */
  createOctokit(token: string, baseUrl: string, deadline: Deadline): Promise<Octokit>;
}

/** The action's User-Agent, with the suite's one version (package.json, shared/version.ts). */
const USER_AGENT = `codesphere-deploy-github-action/${VERSION}`;

const defaultDeps: RunDeps = {
  jobs: { deploy, teardown, prune },
  coreDeps: { userAgent: USER_AGENT },
  env: process.env,
  createOctokit: async (token, baseUrl, deadline) => {
    // Loaded here, not at the top: @actions/github parses GITHUB_EVENT_PATH when its module is
    // evaluated, which would crash with a raw stack before run()'s failure handler exists. By now
    // readGitHubRun has read that file and reported any problem with it.
    const { getOctokit } = await import('@actions/github');
    const octokit = getOctokit(token, { baseUrl, userAgent: USER_AGENT });
    boundRequests(octokit, deadline);
    return octokit;
  },
};

export async function run(overrides: Partial<RunDeps> = {}): Promise<void> {
  const deps: RunDeps = { ...defaultDeps, ...overrides };
  const reporter = new ActionsReporter();
  try {
    // Before anything is printed or requested: the runner masks these in the log from here on.
    for (const secret of secretInputValues(deps.env)) reporter.mask(secret);
    const context = readGitHubContext(deps.env);
    const { inputs } = context;
    // Values of secret-looking names in `env` (TOKEN, PASSWORD, ...), as the core defines them.
    for (const secret of secretsOf(inputs.core)) reporter.mask(secret);
    // The job's deadline (timeoutSeconds from now) bounds the GitHub API calls too; the core
    // keeps its own, from the same input.
    const now = () => (deps.coreDeps.clock ?? systemClock).now();
    const deadline: Deadline = { at: now() + timeoutMsOf(inputs.core.timeoutSeconds), now };
    await runJob(deps, reporter, context, deadline);
  } catch (error) {
    failJob(reporter, error);
  }
  // The log is written in order once @actions/core is loaded (reporter.ts): all of it is out
  // before run() returns, and index.ts exits.
  await reporter.flushed();
}

/** Where one job writes: the log (also the core's port), outputs and summary, GitHub's API, the comment. */
interface Channels {
  reporter: ActionsReporter;
  writer: StepWriter;
  features: GitHubFeatures;
  page: ResultPage;
}

async function runJob(deps: RunDeps, reporter: ActionsReporter, context: GitHubContext, deadline: Deadline) {
  const { inputs, run: github, files } = context;
  const job = pickJob(github.trigger, inputs.action);
  // Before anything is created: the runner's files for outputs and the summary must be writable.
  checkOutputFiles([
    { variable: 'GITHUB_OUTPUT', path: files.output },
    { variable: 'GITHUB_STEP_SUMMARY', path: files.summary },
  ]);
  const writer = new StepWriter(files, reporter);
  const setOutputs = (entries: Record<string, string>): void => {
    const failed = writer.outputs(entries);
    if (failed !== undefined) throw failed;
  };
  const { trigger } = github;
  if (job.kind === 'skip') {
    reporter.notice(`Nothing to do: ${job.why}.`);
    setOutputs({ [OUTPUT.result]: 'skipped' });
    return;
  }
  if (trigger.kind === 'pull_request' && job.kind !== 'prune' && lacksCredentials(inputs)) {
    const who = isDependabot(trigger, github) ? 'Dependabot' : trigger.fromFork ? 'a fork' : undefined;
    if (who !== undefined) {
      // GitHub withholds secrets from these runs: a red check would only punish the contributor.
      reporter.notice(
        `Skipping the Codesphere preview of #${trigger.number}: pull requests from ${who} get no secrets, ` +
          'so no Codesphere credentials are available. A maintainer can run the workflow on the branch instead.',
      );
      setOutputs({ [OUTPUT.result]: 'skipped' });
      return;
    }
  }
  reporter.info(`Job: ${job.kind} (${job.why}).`);

  // Made on the first GitHub call, once: loading @actions/github and building Octokit is not
  // what the core's first request waits for.
  let made: Promise<Octokit> | undefined;
  const octokit: LazyOctokit | undefined =
    inputs.githubToken === ''
      ? undefined
      : () => (made ??= deps.createOctokit(inputs.githubToken, github.apiUrl, deadline));
  const features = new GitHubFeatures(octokit, github, reporter);
  const jobInput = toJobInput(inputs, github);
  const page = new ResultPage(reporter, writer, github, inputs.comment ? features : undefined);
  const channels: Channels = { reporter, writer, features, page };
  // Deploy and prune ask GitHub whether a pull request is still open where a close may race them.
  const coreDeps: Partial<CoreDeps> = {
    ...deps.coreDeps,
    ...(octokit === undefined ? {} : { changeRequests: pullRequestStates(octokit, github) }),
  };

  switch (job.kind) {
    case 'deploy':
      return runDeploy({ ...deps, coreDeps }, channels, jobInput, context);
    case 'teardown':
      return runTeardown(deps, channels, jobInput, github);
    case 'prune': {
      const openChangeNumbers = await features.openPullNumbers();
      reporter.info(`Open pull requests: ${openChangeNumbers.map((n) => `#${n}`).join(', ') || 'none'}.`);
      const result = await deps.jobs.prune({ ...jobInput, openChangeNumbers }, reporter, coreDeps);
      setOutputs({
        [OUTPUT.result]: 'pruned',
        [OUTPUT.pruned]: JSON.stringify(result.pruned.map((item) => item.name)),
      });
      writer.summary(renderPruneSummary(result, github.runUrl));
      return;
    }
  }
}

async function runDeploy(
  deps: RunDeps,
  { reporter, writer, features, page }: Channels,
  input: JobInput,
  { run: github, files }: GitHubContext,
): Promise<void> {
  const { trigger } = github;
  const environment = environmentName(github);
  const commit = input.commit ?? '';
  const pullNumber = trigger.kind === 'pull_request' ? trigger.number : undefined;
  // An input the core refuses is an input error, reported before anything exists: not a GitHub
  // deployment marked failed and a "deployment failed" comment on the pull request. (The core
  // validates again; the check is synchronous and costs the start-up nothing measurable.)
  parseRequest(input, 'deploy');
  // GitHub's side of the start (deployment, in_progress, "deploying" comment) runs alongside the
  // core's first requests instead of before them: it never throws, and nothing in the deploy
  // depends on it. Every later GitHub call waits for it, so the calls stay in order.
  const announce = async (): Promise<number | undefined> => {
    // The core's first request goes out first (it is sent in the turn deploy() starts): the
    // GitHub side loads Octokit and calls GitHub while the core waits for Codesphere's answer.
    await nextTurn();
    const id = await features.createDeployment(
      environment,
      commit || input.branch,
      `Codesphere preview of ${input.branch}`,
    );
    // Its output is written with the others (writeOutputs): a failing GITHUB_OUTPUT must not
    // reject this promise, which runs alongside the deploy.
    await features.setDeploymentStatus(id, 'in_progress', { description: 'Deploying to Codesphere' });
    await page.comment(pullNumber, {
      kind: 'deploying',
      workspaceName: workspaceName({
        platform: 'github',
        repository: github.repository,
        changeNumber: pullNumber,
        branch: input.branch,
      }),
      vpnConfig: input.vpnConfig,
      commit,
      jobUrl: github.runUrl,
    });
    return id;
  };
  const announced = announce();

  let result: DeployResult;
  try {
    result = await deps.jobs.deploy(input, reporter, deps.coreDeps);
  } catch (error) {
    if (error instanceof DeployCancelledError)
      return reportCancelled(error, { reporter, writer, features, page }, announced, pullNumber);
    // Report the failure where people look (deployment, comment, summary), then let the one
    // failure handler fail the job. These calls never throw, so the original error survives.
    const message = reporter.redact(failureMessage(error));
    const failedId = await announced;
    // The deploy's own failure is what the job reports; a failing output file adds nothing to it.
    if (failedId !== undefined) writer.outputs({ [OUTPUT.githubDeploymentId]: String(failedId) });
    await features.setDeploymentStatus(failedId, 'failure', { description: message });
    await page.publish(
      { kind: 'failed', ...failureForComment(error, message), commit, jobUrl: github.runUrl },
      pullNumber,
    );
    throw error;
  }
  // Outputs first: the preview exists, and later steps need them whatever GitHub's API does.
  const outputs: Record<string, string> = {
    [OUTPUT.deploymentUrl]: result.url,
    [OUTPUT.workspaceId]: String(result.workspaceId),
    [OUTPUT.workspaceName]: result.name,
    [OUTPUT.vpnConfig]: result.vpnConfig ?? '',
    [OUTPUT.result]: result.action,
  };
  // A failed VPN check fails the deploy (the core throws): a result's check passed or was skipped.
  if (result.vpnCheck.status === 'passed') outputs[OUTPUT.vpnCheck] = 'ok';
  if (result.healthCheck !== undefined) outputs[OUTPUT.healthCheck] = 'ok'; // a deployed result's check passed
  const services = servicesOutput(result);
  if (services !== undefined) outputs[OUTPUT.services] = services;
  const failedWrite = writer.outputs(outputs);
  const deploymentId = await announced;
  const idWrite =
    deploymentId === undefined
      ? undefined
      : writer.outputs({ [OUTPUT.githubDeploymentId]: String(deploymentId) });
  const outputError =
    (failedWrite ?? idWrite)
      ? new OutputWriteError('GITHUB_OUTPUT', files.output ?? '', result.url, failedWrite ?? idWrite)
      : undefined;

  await features.setDeploymentStatus(deploymentId, 'success', {
    description: `Preview ${result.action}: ${result.name}`,
    environmentUrl: result.url,
  });
  const settled = await features.settleActiveDeployment(environment, deploymentId);
  if (settled === 'superseded') {
    reporter.info(
      `A newer run's deployment of "${environment}" is already active; this one is marked inactive.`,
    );
  }
  await page.publish({ kind: 'deployed', result, commit, jobUrl: github.runUrl }, pullNumber);
  if (outputError) throw outputError;
}

/**
 * The pull request was closed before this deploy could report: the core deleted the workspace.
 * Success with a notice (the close is the user's latest wish), a deployment marked inactive and a
 * comment that says the preview is removed, never "ready".
 */
async function reportCancelled(
  cancelled: DeployCancelledError,
  { reporter, writer, features, page }: Channels,
  announced: Promise<number | undefined>,
  pullNumber: number | undefined,
): Promise<void> {
  const deploymentId = await announced;
  await features.setDeploymentStatus(deploymentId, 'inactive', {
    description: `${cancelled.changeRequest} was ${cancelled.changeRequest.startsWith('branch') ? 'deleted' : 'closed'}: preview removed`,
  });
  const failedWrite = writer.outputs({
    [OUTPUT.workspaceName]: cancelled.removed.name,
    [OUTPUT.result]: 'cancelled',
  });
  await page.publish({ kind: 'deleted', result: cancelled.removed }, pullNumber);
  if (failedWrite !== undefined) throw failedWrite;
  reporter.notice(cancelled.message);
}

async function runTeardown(
  deps: RunDeps,
  { reporter, writer, features, page }: Channels,
  input: JobInput,
  github: GitHubRun,
): Promise<void> {
  const result = await deps.jobs.teardown(input, reporter, deps.coreDeps);
  const environment = environmentName(github);
  const deactivated = await features.deactivateEnvironment(environment);
  if (deactivated > 0) reporter.info(`Marked ${deactivated} deployment(s) of "${environment}" inactive.`);
  const failedWrite = writer.outputs({
    [OUTPUT.workspaceName]: result.name,
    ...(result.workspaceId === undefined ? {} : { [OUTPUT.workspaceId]: String(result.workspaceId) }),
    [OUTPUT.result]: result.deleted ? 'deleted' : 'nothing-to-delete',
  });
  const pullNumber = github.trigger.kind === 'pull_request' ? github.trigger.number : undefined;
  await page.publish({ kind: 'deleted', result, jobUrl: github.runUrl }, pullNumber);
  if (failedWrite !== undefined) throw failedWrite;
}

/**
 * The pull request comment and the job summary, both the shared note (shared/ci/note.ts), so
 * GitHub says what GitLab's and Bitbucket's notes say, in the same layout. Redacted before
 * anything is written.
 */
class ResultPage {
  constructor(
    private readonly reporter: ActionsReporter,
    private readonly writer: StepWriter,
    private readonly github: GitHubRun,
    private readonly commenter: GitHubFeatures | undefined,
  ) {}

  async comment(pullNumber: number | undefined, state: NoteState): Promise<void> {
    if (pullNumber === undefined || this.commenter === undefined) return;
    const order = withPhase(this.github.runOrder, state.kind === 'deleted' ? 'teardown' : 'deploy');
    const body = this.reporter.redact(renderNote(state, 'html-comment', order));
    await this.commenter.upsertComment(pullNumber, body, order);
  }

  async publish(state: NoteState, pullNumber: number | undefined): Promise<void> {
    await this.comment(pullNumber, state);
    this.writer.summary(renderNote(state, 'html-comment'));
  }
}

/** The one failure handler: any thrown value, one failed step, secrets redacted. */
export function failJob(reporter: ActionsReporter, error: unknown): void {
  if (error instanceof Error && error.stack !== undefined) reporter.debug(error.stack);
  reporter.fail(failureMessage(error));
}

/** Resolves in the event loop's next turn, after the I/O this one started has been sent. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The core's wording for any thrown value: its own errors as they are, anything else described. */
export function failureMessage(error: unknown): string {
  return describeError(error);
}

function toJobInput(inputs: ActionInputs, github: GitHubRun): JobInput {
  const { trigger } = github;
  const base: JobInput = {
    ...inputs.core,
    platform: 'github',
    repository: github.repository,
    isPrivateRepo: github.isPrivate,
    gitUrl: `${github.serverUrl}/${github.repository}.git`,
    branch: '',
  };
  if (trigger.kind === 'pull_request') {
    return {
      ...base,
      gitUrl: trigger.gitUrl,
      branch: trigger.branch,
      commit: trigger.sha,
      changeNumber: trigger.number,
    };
  }
  if (trigger.kind === 'branch') {
    return { ...base, gitUrl: trigger.gitUrl, branch: trigger.branch, commit: trigger.sha || undefined };
  }
  return base;
}

/** The official action's environment name, so the deployment history of its previews continues. */
export function environmentName(github: GitHubRun): string {
  const { trigger } = github;
  if (trigger.kind === 'pull_request') return `Codesphere Preview #${trigger.number}`;
  if (trigger.kind === 'branch') return `Codesphere Preview ${trigger.branch}`;
  return 'Codesphere Preview';
}

function lacksCredentials(inputs: ActionInputs): boolean {
  const { apiToken, email, password } = inputs.core;
  return !apiToken && !(email && password);
}

function isDependabot(trigger: PullRequestTrigger, github: GitHubRun): boolean {
  return trigger.author === 'dependabot[bot]' || github.actor === 'dependabot[bot]';
}
