/**
 * The GitHub Action: inputs and the GitHub context in, one core job, GitHub features out.
 *
 * `run()` never throws and never exits the process: every failure, whatever was thrown, ends in
 * `failJob`, which calls `core.setFailed` exactly once. Tests import `run` and pass their own
 * `deps`; `index.ts` only calls it.
 */
import * as core from '@actions/core';
import {
  type CoreDeps,
  deploy,
  DeployCancelledError,
  type DeployResult,
  describeError,
  type JobInput,
  prune,
  type PruneResult,
  type Reporter,
  secretsOf,
  systemClock,
  teardown,
  type TeardownResult,
  workspaceName,
} from '../../shared/index.js';
import {
  checkOutputFiles,
  type Deadline,
  failureForComment,
  OutputWriteError,
  timeoutMsOf,
  withPhase,
} from '../../shared/ci/index.js';
import { readGitHubRun, type GitHubRun, type PullRequestTrigger } from './github-context.js';
import { boundRequests, GitHubFeatures, type Octokit } from './github-features.js';
import { maskSecretInputs, readInputs, type ActionInputs } from './inputs.js';
import { renderOutcome, type Outcome } from './markdown.js';
import { OUTPUT } from './outputs.js';
import { pickJob } from './pick-job.js';
import { pullRequestStates } from './pull-state.js';
import { ActionsReporter } from './reporter.js';

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
  /** The runner's environment: GITHUB_* variables. Inputs are read by @actions/core from process.env. */
  env: NodeJS.ProcessEnv;
  /** An Octokit whose every request is bounded by the job's deadline (github-features.ts boundRequests). */
  createOctokit(token: string, baseUrl: string, deadline: Deadline): Promise<Octokit>;
}

const USER_AGENT = 'codesphere-deploy-github-action/0.1';

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
    maskSecretInputs((secret) => reporter.mask(secret));
    const inputs = readInputs();
    // Values of secret-looking names in `env` (TOKEN, PASSWORD, ...), as the core defines them.
    for (const secret of secretsOf(inputs.core)) reporter.mask(secret);
    // The job's deadline (timeoutSeconds from now) bounds the GitHub API calls too; the core
    // keeps its own, from the same input.
    const now = () => (deps.coreDeps.clock ?? systemClock).now();
    const deadline: Deadline = { at: now() + timeoutMsOf(inputs.core.timeoutSeconds), now };
    const github = readGitHubRun(deps.env);
    await runJob(deps, reporter, inputs, github, deadline);
  } catch (error) {
    failJob(reporter, error);
  }
}

async function runJob(
  deps: RunDeps,
  reporter: ActionsReporter,
  inputs: ActionInputs,
  github: GitHubRun,
  deadline: Deadline,
) {
  const job = pickJob(github.trigger, inputs.action);
  // Before anything is created: the runner's files for outputs and the summary must be writable.
  checkOutputFiles([
    { variable: 'GITHUB_OUTPUT', path: deps.env['GITHUB_OUTPUT'] },
    { variable: 'GITHUB_STEP_SUMMARY', path: deps.env['GITHUB_STEP_SUMMARY'] },
  ]);
  const { trigger } = github;
  if (job.kind === 'skip') {
    reporter.notice(`Nothing to do: ${job.why}.`);
    reporter.output(OUTPUT.result, 'skipped');
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
      reporter.output(OUTPUT.result, 'skipped');
      return;
    }
  }
  reporter.info(`Job: ${job.kind} (${job.why}).`);

  const octokit =
    inputs.githubToken === ''
      ? undefined
      : await deps.createOctokit(inputs.githubToken, github.apiUrl, deadline);
  const features = new GitHubFeatures(octokit, github, reporter);
  const jobInput = toJobInput(inputs, github);
  const page = new ResultPage(reporter, github, inputs.comment ? features : undefined);
  // Deploy and prune ask GitHub whether a pull request is still open where a close may race them.
  const coreDeps: Partial<CoreDeps> = {
    ...deps.coreDeps,
    ...(octokit === undefined ? {} : { changeRequests: pullRequestStates(octokit, github) }),
  };

  switch (job.kind) {
    case 'deploy':
      return runDeploy({ ...deps, coreDeps }, reporter, features, page, jobInput, github);
    case 'teardown':
      return runTeardown(deps, reporter, features, page, jobInput, github);
    case 'prune': {
      const openChangeNumbers = await features.openPullNumbers();
      reporter.info(`Open pull requests: ${openChangeNumbers.map((n) => `#${n}`).join(', ') || 'none'}.`);
      const result = await deps.jobs.prune({ ...jobInput, openChangeNumbers }, reporter, coreDeps);
      reporter.output(OUTPUT.result, 'pruned');
      reporter.output(OUTPUT.pruned, JSON.stringify(result.pruned.map((item) => item.name)));
      await page.publish({ kind: 'pruned', result }, undefined);
      return;
    }
  }
}

async function runDeploy(
  deps: RunDeps,
  reporter: ActionsReporter,
  features: GitHubFeatures,
  page: ResultPage,
  input: JobInput,
  github: GitHubRun,
): Promise<void> {
  const { trigger } = github;
  const environment = environmentName(github);
  const commit = input.commit ?? '';
  const pullNumber = trigger.kind === 'pull_request' ? trigger.number : undefined;
  // GitHub's side of the start (deployment, in_progress, "deploying" comment) runs alongside the
  // core's first requests instead of before them: it never throws, and nothing in the deploy
  // depends on it. Every later GitHub call waits for it, so the calls stay in order.
  const announce = async (): Promise<number | undefined> => {
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
    });
    return id;
  };
  const announced = announce();

  let result: DeployResult;
  try {
    result = await deps.jobs.deploy(input, reporter, deps.coreDeps);
  } catch (error) {
    if (error instanceof DeployCancelledError)
      return reportCancelled(error, reporter, features, page, announced, pullNumber);
    // Report the failure where people look (deployment, comment, summary), then let the one
    // failure handler fail the job. These calls never throw, so the original error survives.
    const message = reporter.redact(failureMessage(error));
    const failedId = await announced;
    // The deploy's own failure is what the job reports; a failing output file adds nothing to it.
    if (failedId !== undefined) writeOutputs(reporter, { [OUTPUT.githubDeploymentId]: String(failedId) });
    await features.setDeploymentStatus(failedId, 'failure', { description: message });
    await page.publish(
      { kind: 'failed', ...failureForComment(error, message), vpnConfig: input.vpnConfig, commit },
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
  if (result.healthCheck !== undefined) outputs[OUTPUT.healthCheck] = result.healthCheck.ok ? 'ok' : 'failed';
  const failedWrite = writeOutputs(reporter, outputs);
  const deploymentId = await announced;
  const idWrite =
    deploymentId === undefined
      ? undefined
      : writeOutputs(reporter, { [OUTPUT.githubDeploymentId]: String(deploymentId) });
  const outputError =
    (failedWrite ?? idWrite)
      ? new OutputWriteError(
          'GITHUB_OUTPUT',
          deps.env['GITHUB_OUTPUT'] ?? '',
          result.url,
          failedWrite ?? idWrite,
        )
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
  await page.publish({ kind: 'deployed', result, commit }, pullNumber);
  if (outputError) throw outputError;
}

/**
 * The pull request was closed before this deploy could report: the core deleted the workspace.
 * Success with a notice (the close is the user's latest wish), a deployment marked inactive and a
 * comment that says the preview is removed, never "ready".
 */
async function reportCancelled(
  cancelled: DeployCancelledError,
  reporter: ActionsReporter,
  features: GitHubFeatures,
  page: ResultPage,
  announced: Promise<number | undefined>,
  pullNumber: number | undefined,
): Promise<void> {
  const deploymentId = await announced;
  await features.setDeploymentStatus(deploymentId, 'inactive', {
    description: `${cancelled.changeRequest} was ${cancelled.changeRequest.startsWith('branch') ? 'deleted' : 'closed'}: preview removed`,
  });
  reporter.output(OUTPUT.workspaceName, cancelled.removed.name);
  reporter.output(OUTPUT.result, 'cancelled');
  await page.publish({ kind: 'deleted', result: cancelled.removed }, pullNumber);
  reporter.notice(cancelled.message);
}

async function runTeardown(
  deps: RunDeps,
  reporter: ActionsReporter,
  features: GitHubFeatures,
  page: ResultPage,
  input: JobInput,
  github: GitHubRun,
): Promise<void> {
  const result = await deps.jobs.teardown(input, reporter, deps.coreDeps);
  const environment = environmentName(github);
  const deactivated = await features.deactivateEnvironment(environment);
  if (deactivated > 0) reporter.info(`Marked ${deactivated} deployment(s) of "${environment}" inactive.`);
  reporter.output(OUTPUT.workspaceName, result.name);
  if (result.workspaceId !== undefined) reporter.output(OUTPUT.workspaceId, String(result.workspaceId));
  reporter.output(OUTPUT.result, result.deleted ? 'deleted' : 'nothing-to-delete');
  const pullNumber = github.trigger.kind === 'pull_request' ? github.trigger.number : undefined;
  await page.publish({ kind: 'deleted', result }, pullNumber);
}

/**
 * Writes step outputs (GITHUB_OUTPUT); returns the error of the first write that failed instead
 * of throwing, so the caller reports it as what it is (the preview exists by then).
 */
function writeOutputs(reporter: ActionsReporter, outputs: Record<string, string>): unknown {
  try {
    // Through the reporter: a value holding a masked secret is withheld, never redacted.
    for (const [name, value] of Object.entries(outputs)) reporter.output(name, value);
    return undefined;
  } catch (error) {
    return error ?? new Error('unknown error');
  }
}

/** The job summary and the pull request comment, both from one rendered outcome. */
class ResultPage {
  constructor(
    private readonly reporter: ActionsReporter,
    private readonly github: GitHubRun,
    private readonly commenter: GitHubFeatures | undefined,
  ) {}

  async comment(pullNumber: number | undefined, outcome: Outcome): Promise<void> {
    if (pullNumber === undefined || this.commenter === undefined) return;
    const order = withPhase(this.github.runOrder, outcome.kind === 'deleted' ? 'teardown' : 'deploy');
    await this.commenter.upsertComment(pullNumber, this.render(outcome), order);
  }

  async publish(outcome: Outcome, pullNumber: number | undefined): Promise<void> {
    await this.comment(pullNumber, outcome);
    const parts = [this.render(outcome), ...this.reporter.collectedSummary()];
    await writeSummary(this.reporter, parts.join('\n\n'));
  }

  private render(outcome: Outcome): string {
    const forPullRequest = this.github.trigger.kind === 'pull_request';
    return this.reporter.redact(renderOutcome(outcome, { runUrl: this.github.runUrl, forPullRequest }));
  }
}

async function writeSummary(reporter: ActionsReporter, markdown: string): Promise<void> {
  const file = process.env['GITHUB_STEP_SUMMARY'];
  try {
    await core.summary.addRaw(reporter.redact(markdown), true).write();
  } catch (error) {
    // Outside the runner there is no GITHUB_STEP_SUMMARY: a missing summary fails nothing. One
    // that the runner named but that cannot be written (checked before the job) is worth a warning.
    if (file === undefined || file === '') reporter.debug(`No job summary written: ${failureMessage(error)}`);
    else
      reporter.warning(
        `The job summary could not be written to GITHUB_STEP_SUMMARY="${file}" (${(error as NodeJS.ErrnoException).code ?? failureMessage(error)}); the preview itself is not affected.`,
      );
  }
}

/** The one failure handler: any thrown value, one `setFailed`, secrets redacted. */
export function failJob(reporter: ActionsReporter, error: unknown): void {
  if (error instanceof Error && error.stack !== undefined) reporter.debug(error.stack);
  core.setFailed(reporter.clean(failureMessage(error)));
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
