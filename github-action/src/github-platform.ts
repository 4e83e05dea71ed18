/**
 * GitHub as a CiPlatform for the shared job runner (shared/ci/job.ts): its words, the step
 * outputs and job summary and the log (all through the toolkit), the change-request API on
 * Octokit (github-api.ts) and the deployments as lifecycle hooks (deployments.ts): created with
 * an in_progress status as the deploy starts, then success, failure or inactive as it ends.
 * Deployments are conveniences: the first refusal is one warning and turns them off for the run.
 */
import { CodesphereDeployError, describeError, type DeployResult } from '../../shared/index.js';
import {
  type CiPlatform,
  type CoreApi,
  type JobOutcome,
  type JobReporter,
  renderNote,
  secretFreeOutputs,
  servicesOutput,
  withheldWarning,
} from '../../shared/ci/index.js';
import { type GitHubDeployments, gitHubDeployments } from './deployments.js';
import { gitHubApi } from './github-api.js';
import type { GitHubJob } from './github-context.js';
import { lazyOctokit } from './octokit.js';
import { ActionsReporter, CoreLog } from './reporter.js';
import { renderPruneSummary } from './summary.js';

/** Output names as action.yml declares them (a test checks the two agree). */
export const OUTPUT = {
  deploymentUrl: 'deployment-url',
  workspaceId: 'workspace-id',
  workspaceName: 'workspace-name',
  vpnConfig: 'vpn-config',
  result: 'result',
  vpnCheck: 'vpn-check',
  healthCheck: 'health-check',
  services: 'services',
  githubDeploymentId: 'github-deployment-id',
  pruned: 'pruned',
} as const;

/** What the platform needs besides the job: the core, its user agent, and how to make Octokit. */
export interface GitHubDeps {
  core: CoreApi;
  userAgent: string;
  /** The run's Octokit (octokit.ts lazyOctokit by default; tests may pass their own). */
  octokit?: typeof lazyOctokit;
  /** The toolkit, in call order (reporter.ts; the bundled @actions/core by default). */
  log?: CoreLog;
}

function deployOutputs(result: DeployResult): Record<string, string> {
  const services = servicesOutput(result);
  return {
    [OUTPUT.deploymentUrl]: result.url,
    [OUTPUT.workspaceId]: String(result.workspaceId),
    [OUTPUT.workspaceName]: result.name,
    [OUTPUT.vpnConfig]: result.vpnConfig ?? '',
    [OUTPUT.result]: result.action,
    // A failed check fails the deploy (the core throws): a result's check passed or was skipped.
    ...(result.vpnCheck.status === 'passed' ? { [OUTPUT.vpnCheck]: 'ok' } : {}),
    ...(result.healthCheck === undefined ? {} : { [OUTPUT.healthCheck]: 'ok' }),
    ...(services === undefined ? {} : { [OUTPUT.services]: services }),
  };
}

function outcomeOutputs(outcome: JobOutcome): Record<string, string> {
  switch (outcome.kind) {
    case 'deployed':
      return deployOutputs(outcome.result);
    case 'cancelled':
      return { [OUTPUT.workspaceName]: outcome.cancelled.removed.name, [OUTPUT.result]: 'cancelled' };
    case 'deleted': {
      const { result } = outcome;
      return {
        [OUTPUT.workspaceName]: result.name,
        ...(result.workspaceId === undefined ? {} : { [OUTPUT.workspaceId]: String(result.workspaceId) }),
        [OUTPUT.result]: result.deleted ? 'deleted' : 'nothing-to-delete',
      };
    }
    case 'pruned':
      return {
        [OUTPUT.result]: 'pruned',
        [OUTPUT.pruned]: JSON.stringify(outcome.result.pruned.map((item) => item.name)),
      };
    case 'skipped':
      return { [OUTPUT.result]: 'skipped' };
    case 'failed':
      return {};
  }
}

/** The GitHub platform of one run (it keeps the run's deployment between the hooks). */
export function githubPlatform(deps: GitHubDeps): CiPlatform<GitHubJob> {
  let deployments: GitHubDeployments | undefined;
  let deploymentId: number | undefined;
  let log: ActionsReporter | undefined;
  const toolkit = deps.log ?? new CoreLog();
  /**
   * Sets step outputs through the toolkit (core's file format and delimiter rule). One whose value
   * holds a masked secret is not set: a warning names it, never its value. Rejects when the
   * runner's output file is missing (the preview exists by then: the caller reports it so).
   */
  const setOutputs = async (entries: Record<string, string>, reporter: JobReporter) => {
    const { written, withheld } = secretFreeOutputs(entries, (value) => reporter.holdsSecret(value));
    if (withheld.length > 0) reporter.warning(withheldWarning(withheld, 'the step outputs (GITHUB_OUTPUT)'));
    await toolkit.use((core) => {
      for (const [name, value] of Object.entries(written)) core.setOutput(name, value);
    });
  };
  /** Appends redacted Markdown to the job summary; a summary that cannot be written is a warning. */
  const addSummary = async (job: GitHubJob, markdown: string, reporter: JobReporter) => {
    if (job.files.summary === undefined) return reporter.debug('No GITHUB_STEP_SUMMARY; no job summary.');
    try {
      await toolkit.use((core) => core.summary.addRaw(reporter.redact(markdown), true).write());
    } catch (error) {
      reporter.warning(
        `The job summary could not be written (${describeError(error)}); the preview itself is not affected.`,
      );
    }
  };
  /** A deployments call; the first refusal warns once and turns deployments off. */
  const recorded = async <T>(reporter: JobReporter, call: (d: GitHubDeployments) => Promise<T>) => {
    if (deployments === undefined) return undefined;
    try {
      return await call(deployments);
    } catch (error) {
      deployments = undefined;
      reporter.warning(`${describeError(error)} The preview itself is not affected.`);
      return undefined;
    }
  };

  return {
    core: deps.core,
    userAgent: deps.userAgent,
    words: { changeRequest: 'pull request', prefix: '#', place: (n) => `#${n}`, note: 'comment' },
    noteStyle: 'html-comment',
    sections: 'headers',
    reporter: () => (log = new ActionsReporter(toolkit)),
    deployingNote: true,
    api: (job, deadline) => {
      if (job.inputs.githubToken === '') return undefined;
      const octokit = (deps.octokit ?? lazyOctokit)(
        job.inputs.githubToken,
        job.run.apiUrl,
        deps.userAgent,
        deadline,
      );
      // Descriptions are people-read: redacted like the log (a failure message may quote a secret).
      deployments = gitHubDeployments(octokit, job.run, (text) => log?.redact(text) ?? text);
      return gitHubApi(octokit, job.run);
    },
    apiMissing: () =>
      new CodesphereDeployError(
        'Prune needs the "github-token" input to list the open pull requests; it is empty.',
      ),
    outputFiles: (job) => [
      { variable: 'GITHUB_OUTPUT', path: job.files.output },
      { variable: 'GITHUB_STEP_SUMMARY', path: job.files.summary },
    ],
    writeOutputs: (_job, outcome, reporter) => setOutputs(outcomeOutputs(outcome), reporter),
    lifecycle: {
      // Checked before the comment is written: a newer run's deployment means it will say its own word.
      newerRun: async (job) => (deployments ? deployments.newerRun(job.environment) : undefined),
      started: async (job, reporter) => {
        const { input } = job;
        deploymentId = await recorded(reporter, (d) =>
          d.create(job.environment, input.commit || input.branch, `Codesphere preview of ${input.branch}`),
        );
        if (deploymentId === undefined) return;
        const id = deploymentId;
        await recorded(reporter, (d) => d.setStatus(id, 'in_progress', 'Deploying to Codesphere'));
      },
      settled: async (job, outcome, note, reporter) => {
        const id = deploymentId;
        if (id !== undefined) {
          const failed = await setOutputs({ [OUTPUT.githubDeploymentId]: String(id) }, reporter).then(
            () => undefined,
            (error: unknown) => (error instanceof Error ? error : new Error(describeError(error))),
          );
          await settleDeployment(job, outcome, id, reporter);
          // The deploy's own failure is what a failed job reports; this output adds nothing to it.
          if (failed !== undefined && outcome.kind !== 'failed') throw failed;
        }
        if (outcome.kind === 'deleted') {
          const count = await recorded(reporter, (d) => d.deactivate(job.environment));
          if (count) reporter.info(`Marked ${count} deployment(s) of "${job.environment}" inactive.`);
        }
        if (outcome.kind === 'pruned')
          await addSummary(job, renderPruneSummary(outcome.result, job.run.runUrl), reporter);
        else if (note) await addSummary(job, renderNote(note, 'html-comment'), reporter);
      },
    },
  };

  async function settleDeployment(job: GitHubJob, outcome: JobOutcome, id: number, reporter: JobReporter) {
    switch (outcome.kind) {
      case 'deployed': {
        const { result } = outcome;
        await recorded(reporter, (d) =>
          d.setStatus(id, 'success', `Preview ${result.action}: ${result.name}`, result.url),
        );
        const settled = await recorded(reporter, (d) => d.settle(job.environment, id));
        if (settled === 'superseded') {
          reporter.info(
            `A newer run's deployment of "${job.environment}" exists; this one is marked inactive.`,
          );
        }
        return;
      }
      case 'failed':
        await recorded(reporter, (d) =>
          d.setStatus(id, 'failure', outcome.timedOut ? `Timed out: ${outcome.message}` : outcome.message),
        );
        return;
      case 'cancelled': {
        const { changeRequest } = outcome.cancelled;
        const what = changeRequest.startsWith('branch') ? 'deleted' : 'closed';
        await recorded(reporter, (d) =>
          d.setStatus(id, 'inactive', `${changeRequest} was ${what}: preview removed`),
        );
        return;
      }
      default:
        return;
    }
  }
}
