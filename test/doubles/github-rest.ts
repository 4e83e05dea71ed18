/**
 * What the GitHub double's resource modules share: the repository they serve, ids that increase
 * across resources (as GitHub's do), GitHub's error bodies, and the bot user that writes.
 */
import type { Reply, Route, RouteRequest } from './http-double.js';

/** The repository a GitHub double serves and the counters its resources share. */
export interface GitHubRepo {
  owner: string;
  repo: string;
  /** `/repos/{owner}/{repo}`: the prefix of every route. */
  prefix: string;
  /** The next id: deployments, statuses and comments draw from one increasing sequence. */
  nextId(): number;
}

/** The API URL of the repository, on the double's own origin. */
export const repoUrl = (repo: GitHubRepo, req: RouteRequest) => `${req.origin}${repo.prefix}`;

export const now = () => new Date().toISOString();

const error = (status: number, message: string): Reply => ({
  status,
  body: { message, documentation_url: 'https://docs.github.com/rest', status: String(status) },
});

export const notFound = (): Reply => error(404, 'Not Found');
export const badCredentials = (): Reply => error(401, 'Bad credentials');

/**
 * Answers the routes with the 403 GitHub sends to a token without the permission while `refused()`
 * holds, and as usual otherwise.
 */
export function refusable(routes: Route[], refused: () => boolean): Route[] {
  return routes.map((route) => ({
    ...route,
    handle: (req) => (refused() ? error(403, 'Resource not accessible by integration') : route.handle(req)),
  }));
}

/** A string field of a JSON request body, or `fallback`. */
export function field<T>(body: unknown, name: string, fallback: T): string | T {
  const value: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, name) : undefined;
  return typeof value === 'string' ? value : fallback;
}

const BOT = 'https://api.github.com/users/github-actions%5Bbot%5D';

/** The user the workflow token writes as (GitHub's `simple-user` shape). */
export const botUser = {
  login: 'github-actions[bot]',
  id: 41898282,
  node_id: 'MDM6Qm90NDE4OTgyODI=',
  avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
  gravatar_id: '',
  url: BOT,
  html_url: 'https://github.com/apps/github-actions',
  followers_url: `${BOT}/followers`,
  following_url: `${BOT}/following{/other_user}`,
  gists_url: `${BOT}/gists{/gist_id}`,
  starred_url: `${BOT}/starred{/owner}{/repo}`,
  subscriptions_url: `${BOT}/subscriptions`,
  organizations_url: `${BOT}/orgs`,
  repos_url: `${BOT}/repos`,
  events_url: `${BOT}/events{/privacy}`,
  received_events_url: `${BOT}/received_events`,
  type: 'Bot',
  site_admin: false,
};
