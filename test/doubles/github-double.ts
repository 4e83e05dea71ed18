/**
 * A local stand-in for the parts of GitHub's REST API the action uses, on the shared HTTP double
 * (calls recorded, faults, delays and gates): deployments and their statuses
 * (github-deployments.ts), issue comments (github-comments.ts), pull requests and branches
 * (github-pulls.ts). It keeps state across calls, so a second run finds the first run's comment,
 * and can refuse a resource family with the 403 GitHub sends to a token without the permission.
 * Requests and responses follow @octokit/openapi closely enough that github-openapi.ts validates both.
 */
import { commentRoutes, type CommentRecord } from './github-comments.js';
import { deploymentRoutes, type DeploymentRecord } from './github-deployments.js';
import { pullRoutes, type PullState } from './github-pulls.js';
import { badCredentials, refusable } from './github-rest.js';
import { startHttpDouble, type HttpDouble } from './http-double.js';

export type { RecordedCall } from './http-double.js';
export type { CommentRecord } from './github-comments.js';
export type { DeploymentRecord, StatusRecord } from './github-deployments.js';

/** A resource family the double can refuse with 403. */
export type Refusable = 'deployments' | 'comments' | 'pulls';

export interface GitHubDouble extends HttpDouble, PullState {
  deployments: DeploymentRecord[];
  comments: CommentRecord[];
  /** Opens (or reopens) a pull request: listed as open from now on. */
  openPull(number: number): void;
  /** Closes a pull request, as a merge or a close in the UI does. */
  closePull(number: number): void;
  /** Families answered with 403 (pulls includes branches: both need `contents`/`pull-requests` read). */
  refuse: Set<Refusable>;
}

/**
 * Starts the double on a loopback port for `owner/repo` (default acme/shop). With `token`, only
 * `token <token>` or `Bearer <token>` is accepted; without it, any Authorization header is.
 */
export async function startGitHubDouble(
  options: { owner?: string; repo?: string; token?: string } = {},
): Promise<GitHubDouble> {
  const owner = options.owner ?? 'acme';
  const name = options.repo ?? 'shop';
  let id = 1000;
  const repo = { owner, repo: name, prefix: `/repos/${owner}/${name}`, nextId: () => id++ };
  const state = {
    deployments: [] as DeploymentRecord[],
    comments: [] as CommentRecord[],
    openPulls: [] as number[],
    closedPulls: [] as number[],
    deletedBranches: new Set<string>(),
    refuse: new Set<Refusable>(),
    openPull(number: number) {
      state.closedPulls = state.closedPulls.filter((n) => n !== number);
      if (!state.openPulls.includes(number)) state.openPulls.push(number);
    },
    closePull(number: number) {
      state.openPulls = state.openPulls.filter((n) => n !== number);
      if (!state.closedPulls.includes(number)) state.closedPulls.push(number);
    },
  };
  const refused = (family: Refusable) => () => state.refuse.has(family);
  const http = await startHttpDouble({
    authorize: (req) =>
      options.token === undefined
        ? req.headers.authorization !== undefined
        : [`token ${options.token}`, `Bearer ${options.token}`].includes(req.headers.authorization ?? ''),
    unauthorized: badCredentials(),
    routes: [
      ...refusable(deploymentRoutes(repo, state.deployments), refused('deployments')),
      ...refusable(commentRoutes(repo, state.comments), refused('comments')),
      ...refusable(pullRoutes(repo, state), refused('pulls')),
    ],
  });
  return Object.assign(state, http);
}
