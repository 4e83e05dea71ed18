/**
 * What the preview looks like on GitHub: a deployment per run (with statuses), one pull request
 * comment kept up to date, and the list of open pull requests for prune.
 *
 * Deployments and the comment are conveniences: when GitHub refuses them (a token without
 * `deployments: write` / `pull-requests: write`, a fork's read-only token) the preview itself must
 * still deploy. So every call here except `openPullNumbers` turns a failure into one warning and
 * switches that feature off for the rest of the run, instead of failing the job.
 */
// Type only: importing @actions/github's value runs its module-level context, which parses
// GITHUB_EVENT_PATH outside our failure handler (main.ts loads it lazily, inside run()).
import type { getOctokit } from '@actions/github';
import { CodesphereDeployError, errorMessage, systemClock } from '../../shared/index.js';
import {
  attemptTimeoutMs,
  BUDGET_NAME,
  compareRunOrder,
  type Deadline,
  formatRunOrder,
  isPreviewNote,
  type NoteStore,
  parseRunOrder,
  type RunOrder,
  seconds,
  syncNote,
} from '../../shared/ci/index.js';
import type { GitHubRun } from './github-context.js';

export type Octokit = ReturnType<typeof getOctokit>;

/**
 * The run's Octokit, made on the first GitHub call (main.ts): @actions/github is loaded only when
 * a GitHub call is made, off the start-up path. Undefined when there is no token.
 */
export type LazyOctokit = () => Promise<Octokit>;

/** Per-request timeout of GitHub API calls (ms), cut further to what remains of the job's budget. */
export const GITHUB_TIMEOUT_MS = 10_000;

/**
 * Bounds every request of `octokit` (pagination included) by GITHUB_TIMEOUT_MS and the job's
 * deadline, through Octokit's request hook so the toolkit's proxy-aware fetch stays in place. A
 * request that would start with no budget left fails at once. These calls are conveniences
 * (GitHubFeatures turns their failures into warnings), so a GitHub API that never answers costs
 * the job at most one timeout per feature, never a hang.
 */
export function boundRequests(octokit: Octokit, deadline: Deadline): void {
  octokit.hook.wrap('request', async (request, options) => {
    const timeout = attemptTimeoutMs(GITHUB_TIMEOUT_MS, deadline);
    if (timeout <= 0) throw new Error(`not sent: the job's time budget (${BUDGET_NAME}) is used up`);
    const signal = AbortSignal.timeout(timeout);
    // The signal closes the connection, but the toolkit's proxy-aware fetch (undici with
    // @actions/http-client's dispatcher) leaves its promise pending after an abort before the
    // response headers: the race settles the call whatever the fetch does.
    const aborted = new Promise<never>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error(`no answer within ${seconds(timeout)}`)), {
        once: true,
      });
    });
    try {
      return await Promise.race([request({ ...options, request: { ...options.request, signal } }), aborted]);
    } catch (error) {
      if (signal.aborted) throw new Error(`no answer within ${seconds(timeout)}`, { cause: error });
      throw error;
    }
  });
}

/** Where a deployment's payload records the run that created it (see `settleActiveDeployment`). */
const PAYLOAD_KEY = 'codesphere-deploy';

/** The run order a deployment's payload records; `[]` for deployments created without one. */
function payloadRunOrder(payload: unknown): RunOrder {
  let value = payload;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return [];
    }
  }
  if (typeof value !== 'object' || value === null) return [];
  const entry = (value as Record<string, unknown>)[PAYLOAD_KEY];
  if (typeof entry !== 'object' || entry === null) return [];
  const run = (entry as Record<string, unknown>)['run'];
  return parseRunOrder(typeof run === 'string' ? run : undefined);
}

type Feature = 'deployments' | 'comment';

const PERMISSION_HINT: Record<Feature, string> = {
  deployments: 'add "deployments: write" to the workflow\'s permissions',
  comment: 'add "pull-requests: write" and "issues: write" to the workflow\'s permissions',
};

export interface FeatureLog {
  warning(message: string): void;
  debug(message: string): void;
}

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive';

export class GitHubFeatures {
  private readonly disabled = new Set<Feature>();

  constructor(
    private readonly octokit: LazyOctokit | undefined,
    private readonly run: GitHubRun,
    private readonly log: FeatureLog,
  ) {}

  /**
   * Creates a deployment for `environment` at `ref`; undefined when GitHub refused. Its payload
   * records this run's order, so later runs can tell which deployment is the newest.
   */
  async createDeployment(environment: string, ref: string, description: string): Promise<number | undefined> {
    return this.guard('deployments', `create a deployment for "${environment}"`, async (octokit) => {
      const response = await octokit.rest.repos.createDeployment({
        owner: this.run.owner,
        repo: this.run.repo,
        ref,
        environment,
        description: truncate(description, 140),
        // The preview is built by Codesphere, not by GitHub's merge of the base branch, and must
        // not wait for commit statuses: the PR's own checks may still be running.
        auto_merge: false,
        required_contexts: [],
        // Not transient, so that GitHub's auto_inactive retires the previous deployment of the
        // same environment when a new one succeeds; closing the PR retires the last one.
        transient_environment: false,
        production_environment: false,
        payload: { [PAYLOAD_KEY]: { run: formatRunOrder(this.run.runOrder) } },
      });
      return 'id' in response.data ? response.data.id : undefined;
    });
  }

  async setDeploymentStatus(
    deploymentId: number | undefined,
    state: DeploymentState,
    details: { description: string; environmentUrl?: string | undefined },
  ): Promise<void> {
    if (deploymentId === undefined) return;
    await this.guard('deployments', `set deployment ${deploymentId} to ${state}`, async (octokit) => {
      await octokit.rest.repos.createDeploymentStatus({
        owner: this.run.owner,
        repo: this.run.repo,
        deployment_id: deploymentId,
        state,
        description: truncate(details.description, 140),
        log_url: this.run.runUrl,
        ...(details.environmentUrl === undefined ? {} : { environment_url: details.environmentUrl }),
        // GitHub's auto_inactive retires every *prior* (earlier created) deployment of the
        // environment, whatever run it belongs to: with concurrent runs, an older run's success
        // would retire a newer run's deployment created before it. settleActiveDeployment
        // retires by run order instead.
        ...(state === 'success' ? { auto_inactive: false } : {}),
      });
    });
  }

  /**
   * After this run's deployment succeeded: makes the newest run's successful deployment the only
   * active one of the environment. Ranks are the run order in each deployment's payload, then the
   * deployment id; deployments from before run orders existed rank lowest.
   * - a newer run's deployment is already active: ours is marked inactive ("superseded");
   * - otherwise every older one still active is marked inactive.
   * Concurrent runs each do this after their own success, so whichever settles last sees both
   * successes and the newest wins. Reads the environment's newest 100 deployments (older ones were
   * retired by the runs before). Returns what happened, or undefined when GitHub refused.
   */
  async settleActiveDeployment(
    environment: string,
    deploymentId: number | undefined,
  ): Promise<'active' | 'superseded' | undefined> {
    if (deploymentId === undefined) return undefined;
    return this.guard('deployments', `settle the active deployment of "${environment}"`, async (octokit) => {
      const { owner, repo } = this.run;
      const { data: deployments } = await octokit.rest.repos.listDeployments({
        owner,
        repo,
        environment,
        per_page: 100,
      });
      const rank = (d: { id: number; payload: unknown }) => ({ id: d.id, order: payloadRunOrder(d.payload) });
      const newer = (a: ReturnType<typeof rank>, b: ReturnType<typeof rank>) =>
        compareRunOrder(a.order, b.order) || a.id - b.id;
      const ours = deployments.find((d) => d.id === deploymentId);
      const own = ours ? rank(ours) : { id: deploymentId, order: this.run.runOrder };
      const active: Array<ReturnType<typeof rank>> = [];
      for (const deployment of deployments) {
        if (deployment.id === deploymentId) continue;
        const { data: latest } = await octokit.rest.repos.listDeploymentStatuses({
          owner,
          repo,
          deployment_id: deployment.id,
          per_page: 1,
        });
        if (latest[0]?.state === 'success') active.push(rank(deployment));
      }
      const retire = (id: number, description: string) =>
        octokit.rest.repos.createDeploymentStatus({
          owner,
          repo,
          deployment_id: id,
          state: 'inactive',
          description,
          log_url: this.run.runUrl,
        });
      const newest = active.find((d) => newer(d, own) > 0);
      if (newest !== undefined) {
        await retire(deploymentId, `Superseded by deployment ${newest.id} of a newer run`);
        return 'superseded';
      }
      for (const older of active) {
        await retire(older.id, `Superseded by deployment ${deploymentId} of a newer run`);
      }
      return 'active';
    });
  }

  /** Marks every still-active deployment of `environment` inactive; returns how many were changed. */
  async deactivateEnvironment(environment: string): Promise<number> {
    const changed = await this.guard('deployments', `mark "${environment}" inactive`, async (octokit) => {
      const deployments = await octokit.paginate(octokit.rest.repos.listDeployments, {
        owner: this.run.owner,
        repo: this.run.repo,
        environment,
        per_page: 100,
      });
      let count = 0;
      for (const deployment of deployments) {
        const { data: latest } = await octokit.rest.repos.listDeploymentStatuses({
          owner: this.run.owner,
          repo: this.run.repo,
          deployment_id: deployment.id,
          per_page: 1,
        });
        if (latest[0]?.state === 'inactive') continue;
        await octokit.rest.repos.createDeploymentStatus({
          owner: this.run.owner,
          repo: this.run.repo,
          deployment_id: deployment.id,
          state: 'inactive',
          description: 'Preview workspace deleted',
          log_url: this.run.runUrl,
        });
        count += 1;
      }
      return count;
    });
    return changed ?? 0;
  }

  /**
   * Writes our comment on the pull request: one comment per pull request whatever the concurrency,
   * never overwriting a newer run's (shared `syncNote`; `order` is this run's order plus the phase,
   * a teardown being newer than the deploys before it). `body` is the shared note rendered with
   * that order (renderNote, HTML-comment markers); a comment an earlier version wrote with its
   * own marker is recognised (isPreviewNote) and rewritten, never joined by a second one.
   */
  async upsertComment(pullNumber: number, body: string, order: RunOrder): Promise<void> {
    await this.guard('comment', `update the comment on #${pullNumber}`, async (octokit) => {
      const synced = await syncNote(
        this.comments(octokit, pullNumber),
        { body, order, isOurs: (text) => isPreviewNote(text, 'html-comment') },
        // The suite's one sleep and clock (shared/clock.ts), not a copy of its own.
        systemClock,
      );
      if (synced.outcome === 'newer-kept') {
        this.log.debug(
          `The comment on #${pullNumber} shows a newer run (${formatRunOrder(synced.newer)}); left as it is.`,
        );
      }
    });
  }

  private comments(octokit: Octokit, pullNumber: number): NoteStore {
    const { owner, repo } = this.run;
    return {
      list: async () =>
        (
          await octokit.paginate(octokit.rest.issues.listComments, {
            owner,
            repo,
            issue_number: pullNumber,
            per_page: 100,
          })
        ).map((comment) => ({ id: comment.id, body: comment.body ?? '' })),
      create: async (body) =>
        (await octokit.rest.issues.createComment({ owner, repo, issue_number: pullNumber, body })).data.id,
      update: async (id, body) => {
        try {
          await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body });
          return true;
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
      },
      remove: async (id) => {
        try {
          await octokit.rest.issues.deleteComment({ owner, repo, comment_id: id });
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
      },
    };
  }

  /**
   * Numbers of the repository's open pull requests. Throws when they cannot be listed: prune
   * deletes every preview whose PR is not open, so guessing here would delete live previews.
   */
  async openPullNumbers(): Promise<number[]> {
    if (this.octokit === undefined) {
      throw new CodesphereDeployError(
        'Prune needs the "github-token" input to list the open pull requests; it is empty.',
      );
    }
    try {
      const octokit = await this.octokit();
      const pulls = await octokit.paginate(octokit.rest.pulls.list, {
        owner: this.run.owner,
        repo: this.run.repo,
        state: 'open',
        per_page: 100,
      });
      return pulls.map((pull) => pull.number);
    } catch (cause) {
      throw new CodesphereDeployError(
        `Cannot list the open pull requests of ${this.run.repository} (${describeGitHubError(cause)}), so nothing was pruned. ` +
          'Give the workflow "pull-requests: read" permission.',
        { cause },
      );
    }
  }

  private async guard<T>(
    feature: Feature,
    what: string,
    call: (octokit: Octokit) => Promise<T>,
  ): Promise<T | undefined> {
    if (this.octokit === undefined || this.disabled.has(feature)) return undefined;
    try {
      return await call(await this.octokit());
    } catch (error) {
      const status = statusOf(error);
      this.disabled.add(feature);
      const hint =
        status === 403 || status === 404
          ? ` The token may lack permission: ${PERMISSION_HINT[feature]}.`
          : '';
      this.log.warning(
        `GitHub refused to ${what} (${describeGitHubError(error)}).${hint} The preview itself is not affected.`,
      );
      return undefined;
    }
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') {
    return error.status;
  }
  return undefined;
}

/** Status and GitHub's message only: never the request (it carries the Authorization header). */
export function describeGitHubError(error: unknown): string {
  const status = statusOf(error);
  const message = errorMessage(error);
  const firstLine = message.split('\n')[0] ?? '';
  return status === undefined ? firstLine : `HTTP ${status}: ${firstLine}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
