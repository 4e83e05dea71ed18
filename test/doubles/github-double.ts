/**
 * A local stand-in for the parts of GitHub's REST API the action uses: deployments and their
 * statuses (with auto_inactive as GitHub documents it), issue comments (list, create, edit,
 * delete; like GitHub, no atomic "create if absent", ids increasing), and open pull requests. It keeps state across calls (so a second run
 * finds the first run's comment), records every request for assertions, and can refuse a
 * resource with the 403 GitHub sends to a token without the permission.
 *
 * Bodies follow GitHub's shapes closely enough that test/doubles/github-openapi.ts validates both
 * the requests it receives and the responses it sends against @octokit/openapi.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  /** Path without the query string, e.g. /repos/acme/shop/deployments. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
  /** Status the double answered with. */
  status: number;
  response: unknown;
}

export interface DeploymentRecord {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  /** What the creator sent as `payload` (GitHub returns it as given). */
  payload: Record<string, unknown> | string;
  created_at: string;
  statuses: StatusRecord[];
}

export interface StatusRecord {
  id: number;
  state: string;
  description: string;
  environment_url: string;
  log_url: string;
  created_at: string;
}

export interface CommentRecord {
  id: number;
  issue: number;
  body: string;
  user: string;
}

/** A resource family the double can refuse with 403. */
export type Refusable = 'deployments' | 'comments' | 'pulls';

export interface GitHubDouble {
  url: string;
  calls: RecordedCall[];
  deployments: DeploymentRecord[];
  comments: CommentRecord[];
  /** Pull request numbers that pulls.list reports as open (and pulls.get as `open`). */
  openPulls: number[];
  /**
   * Pull request numbers pulls.get reports as `closed`. A number in neither list is reported open
   * by pulls.get: every run's event comes from a pull request that exists, and tests that do not
   * care about the state need not declare it.
   */
  closedPulls: number[];
  /** Branches repos.getBranch reports as missing (404); every other branch exists. */
  deletedBranches: Set<string>;
  /** Opens (or reopens) a pull request: listed as open from now on. */
  openPull(number: number): void;
  /** Closes a pull request, as a merge or a close in the UI does. */
  closePull(number: number): void;
  /**
   * How long the open-pull-request list takes to arrive: milliseconds, or until the promise
   * settles. The list is read when the request arrives and sent later, so a PR opened meanwhile
   * is missing from it, as from a slow list on GitHub.
   */
  listDelay: number | Promise<unknown>;
  refuse: Set<Refusable>;
  /** Calls that matched no route (should stay empty). */
  unhandled: RecordedCall[];
  close(): Promise<void>;
}

const SHA = /^[0-9a-f]{40}$/;

export async function startGitHubDouble(
  options: { owner?: string; repo?: string; token?: string } = {},
): Promise<GitHubDouble> {
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'shop';
  let nextId = 1000;
  const now = () => new Date().toISOString();
  const double: GitHubDouble = {
    url: '',
    calls: [],
    deployments: [],
    comments: [],
    openPulls: [],
    closedPulls: [],
    deletedBranches: new Set(),
    openPull(number) {
      double.closedPulls = double.closedPulls.filter((n) => n !== number);
      if (!double.openPulls.includes(number)) double.openPulls.push(number);
    },
    closePull(number) {
      double.openPulls = double.openPulls.filter((n) => n !== number);
      if (!double.closedPulls.includes(number)) double.closedPulls.push(number);
    },
    listDelay: 0,
    refuse: new Set(),
    unhandled: [],
    close: async () => {},
  };

  const user = {
    login: 'github-actions[bot]',
    id: 41898282,
    node_id: 'MDM6Qm90NDE4OTgyODI=',
    avatar_url: 'https://avatars.githubusercontent.com/in/15368?v=4',
    gravatar_id: '',
    url: 'https://api.github.com/users/github-actions%5Bbot%5D',
    html_url: 'https://github.com/apps/github-actions',
    followers_url: 'https://api.github.com/users/github-actions%5Bbot%5D/followers',
    following_url: 'https://api.github.com/users/github-actions%5Bbot%5D/following{/other_user}',
    gists_url: 'https://api.github.com/users/github-actions%5Bbot%5D/gists{/gist_id}',
    starred_url: 'https://api.github.com/users/github-actions%5Bbot%5D/starred{/owner}{/repo}',
    subscriptions_url: 'https://api.github.com/users/github-actions%5Bbot%5D/subscriptions',
    organizations_url: 'https://api.github.com/users/github-actions%5Bbot%5D/orgs',
    repos_url: 'https://api.github.com/users/github-actions%5Bbot%5D/repos',
    events_url: 'https://api.github.com/users/github-actions%5Bbot%5D/events{/privacy}',
    received_events_url: 'https://api.github.com/users/github-actions%5Bbot%5D/received_events',
    type: 'Bot',
    site_admin: false,
  };
  const repoUrl = () => `${double.url}/repos/${owner}/${repo}`;

  const deploymentBody = (d: DeploymentRecord) => ({
    url: `${repoUrl()}/deployments/${d.id}`,
    id: d.id,
    node_id: `DE_${d.id}`,
    sha: d.sha,
    ref: d.ref,
    task: 'deploy',
    payload: d.payload,
    original_environment: d.environment,
    environment: d.environment,
    description: d.description,
    creator: user,
    created_at: d.created_at,
    updated_at: d.created_at,
    statuses_url: `${repoUrl()}/deployments/${d.id}/statuses`,
    repository_url: repoUrl(),
    transient_environment: d.transient_environment,
    production_environment: d.production_environment,
  });
  const statusBody = (d: DeploymentRecord, s: StatusRecord) => ({
    url: `${repoUrl()}/deployments/${d.id}/statuses/${s.id}`,
    id: s.id,
    node_id: `DES_${s.id}`,
    state: s.state,
    creator: user,
    description: s.description,
    environment: d.environment,
    target_url: s.log_url,
    created_at: s.created_at,
    updated_at: s.created_at,
    deployment_url: `${repoUrl()}/deployments/${d.id}`,
    repository_url: repoUrl(),
    environment_url: s.environment_url,
    log_url: s.log_url,
  });
  const commentBody = (c: CommentRecord) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${repoUrl()}/issues/comments/${c.id}`,
    html_url: `https://github.com/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
    body: c.body,
    user: { ...user, login: c.user },
    created_at: now(),
    updated_at: now(),
    issue_url: `${repoUrl()}/issues/${c.issue}`,
    author_association: 'NONE',
  });

  type Route = {
    method: string;
    pattern: RegExp;
    family: Refusable;
    handle(match: RegExpExecArray, body: unknown, query: Record<string, string>): [number, unknown];
  };
  const prefix = `/repos/${owner}/${repo}`;
  const routes: Route[] = [
    {
      method: 'POST',
      pattern: new RegExp(`^${prefix}/deployments$`),
      family: 'deployments',
      handle: (_m, body) => {
        const b = body as Record<string, unknown>;
        const ref = typeof b['ref'] === 'string' ? b['ref'] : '';
        const d: DeploymentRecord = {
          id: nextId++,
          ref,
          sha: SHA.test(ref) ? ref : 'a'.repeat(40),
          environment: typeof b['environment'] === 'string' ? b['environment'] : 'production',
          description: typeof b['description'] === 'string' ? b['description'] : null,
          transient_environment: b['transient_environment'] === true,
          production_environment: b['production_environment'] === true,
          payload:
            typeof b['payload'] === 'string' || (typeof b['payload'] === 'object' && b['payload'] !== null)
              ? (b['payload'] as Record<string, unknown> | string)
              : {},
          created_at: now(),
          statuses: [],
        };
        double.deployments.push(d);
        return [201, deploymentBody(d)];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/deployments$`),
      family: 'deployments',
      handle: (_m, _b, query) => {
        const list = double.deployments
          .filter((d) => query['environment'] === undefined || d.environment === query['environment'])
          .reverse(); // newest first, like GitHub
        return [200, list.map(deploymentBody)];
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${prefix}/deployments/(\\d+)/statuses$`),
      family: 'deployments',
      handle: (m, body) => {
        const d = double.deployments.find((x) => x.id === Number(m[1]));
        if (d === undefined) return [404, notFound()];
        const b = body as Record<string, unknown>;
        const s: StatusRecord = {
          id: nextId++,
          state: String(b['state']),
          description: typeof b['description'] === 'string' ? b['description'] : '',
          environment_url: typeof b['environment_url'] === 'string' ? b['environment_url'] : '',
          log_url: typeof b['log_url'] === 'string' ? b['log_url'] : '',
          created_at: now(),
        };
        d.statuses.push(s);
        // GitHub's auto_inactive (default true), as documented: "Adds a new inactive status to
        // all prior non-transient, non-production environment deployments with the same
        // repository and environment name as the created status's deployment. An inactive
        // status is only added to deployments that had a success state." Prior: created before
        // this deployment (lower id), whatever order their runs finish in.
        if (s.state === 'success' && b['auto_inactive'] !== false) {
          for (const prior of double.deployments) {
            if (prior.id >= d.id || prior.environment !== d.environment) continue;
            if (prior.transient_environment || prior.production_environment) continue;
            if (prior.statuses.at(-1)?.state !== 'success') continue;
            prior.statuses.push({ ...s, id: nextId++, state: 'inactive', environment_url: '' });
          }
        }
        return [201, statusBody(d, s)];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/deployments/(\\d+)/statuses$`),
      family: 'deployments',
      handle: (m, _b, query) => {
        const d = double.deployments.find((x) => x.id === Number(m[1]));
        if (d === undefined) return [404, notFound()];
        const perPage = Number(query['per_page'] ?? 30);
        return [
          200,
          [...d.statuses]
            .reverse()
            .slice(0, perPage)
            .map((s) => statusBody(d, s)),
        ];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/issues/(\\d+)/comments$`),
      family: 'comments',
      handle: (m) => [200, double.comments.filter((c) => c.issue === Number(m[1])).map(commentBody)],
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${prefix}/issues/(\\d+)/comments$`),
      family: 'comments',
      handle: (m, body) => {
        const c: CommentRecord = {
          id: nextId++,
          issue: Number(m[1]),
          body: String((body as Record<string, unknown>)['body']),
          user: 'github-actions[bot]',
        };
        double.comments.push(c);
        return [201, commentBody(c)];
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${prefix}/issues/comments/(\\d+)$`),
      family: 'comments',
      handle: (m, body) => {
        const c = double.comments.find((x) => x.id === Number(m[1]));
        if (c === undefined) return [404, notFound()];
        c.body = String((body as Record<string, unknown>)['body']);
        return [200, commentBody(c)];
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${prefix}/issues/comments/(\\d+)$`),
      family: 'comments',
      handle: (m) => {
        const index = double.comments.findIndex((x) => x.id === Number(m[1]));
        if (index < 0) return [404, notFound()];
        double.comments.splice(index, 1);
        return [204, undefined];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/pulls$`),
      family: 'pulls',
      handle: (_m, _b, query) => {
        if (query['state'] !== 'open') return [200, []];
        return [200, double.openPulls.map((n) => pullBody(n))];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/branches/([^/]+)$`),
      family: 'pulls',
      handle: (m) => {
        const branch = decodeURIComponent(m[1] ?? '');
        if (double.deletedBranches.has(branch)) return [404, notFound()];
        return [200, branchBody(branch)];
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${prefix}/pulls/(\\d+)$`),
      family: 'pulls',
      handle: (m) => {
        const n = Number(m[1]);
        return [200, fullPullBody(n, double.closedPulls.includes(n) ? 'closed' : 'open')];
      },
    },
  ];

  const repositoryBody = () => {
    const api = repoUrl();
    const urls = Object.fromEntries(
      [
        'archive',
        'assignees',
        'blobs',
        'branches',
        'collaborators',
        'comments',
        'commits',
        'compare',
        'contents',
        'contributors',
        'deployments',
        'downloads',
        'events',
        'forks',
        'git_commits',
        'git_refs',
        'git_tags',
        'hooks',
        'issue_comment',
        'issue_events',
        'issues',
        'keys',
        'labels',
        'languages',
        'merges',
        'milestones',
        'notifications',
        'pulls',
        'releases',
        'stargazers',
        'statuses',
        'subscribers',
        'subscription',
        'tags',
        'teams',
        'trees',
      ].map((name) => [`${name}_url`, `${api}/${name.replace(/_/g, '/')}`]),
    );
    return {
      ...urls,
      id: 4711,
      node_id: 'R_shop',
      name: repo,
      full_name: `${owner}/${repo}`,
      owner: user,
      private: false,
      description: null,
      fork: false,
      url: api,
      html_url: `https://github.com/${owner}/${repo}`,
      clone_url: `https://github.com/${owner}/${repo}.git`,
      git_url: `git://github.com/${owner}/${repo}.git`,
      ssh_url: `git@github.com:${owner}/${repo}.git`,
      svn_url: `https://github.com/${owner}/${repo}`,
      mirror_url: null,
      homepage: null,
      language: 'TypeScript',
      default_branch: 'main',
      forks: 0,
      forks_count: 0,
      open_issues: double.openPulls.length,
      open_issues_count: double.openPulls.length,
      stargazers_count: 0,
      watchers: 0,
      watchers_count: 0,
      size: 120,
      has_downloads: true,
      has_issues: true,
      has_projects: false,
      has_wiki: false,
      has_pages: false,
      archived: false,
      disabled: false,
      license: null,
      pushed_at: now(),
      created_at: now(),
      updated_at: now(),
    };
  };

  const pullBody = (n: number) => {
    const api = `${repoUrl()}/pulls/${n}`;
    const html = `https://github.com/${owner}/${repo}/pull/${n}`;
    const link = (href: string) => ({ href });
    return {
      url: api,
      id: 5000 + n,
      node_id: `PR_${n}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      issue_url: `${repoUrl()}/issues/${n}`,
      commits_url: `${api}/commits`,
      review_comments_url: `${api}/comments`,
      review_comment_url: `${repoUrl()}/pulls/comments{/number}`,
      comments_url: `${repoUrl()}/issues/${n}/comments`,
      statuses_url: `${repoUrl()}/statuses/${'b'.repeat(40)}`,
      number: n,
      state: 'open',
      locked: false,
      title: `PR ${n}`,
      user,
      body: null,
      labels: [],
      milestone: null,
      assignee: null,
      created_at: now(),
      updated_at: now(),
      closed_at: null,
      merged_at: null,
      merge_commit_sha: null,
      draft: false,
      author_association: 'MEMBER',
      auto_merge: null,
      head: {
        ref: `feature-${n}`,
        sha: 'b'.repeat(40),
        label: `${owner}:feature-${n}`,
        repo: repositoryBody(),
        user,
      },
      base: { ref: 'main', sha: 'c'.repeat(40), label: `${owner}:main`, repo: repositoryBody(), user },
      _links: {
        self: link(api),
        html: link(html),
        issue: link(`${repoUrl()}/issues/${n}`),
        comments: link(`${repoUrl()}/issues/${n}/comments`),
        review_comments: link(`${api}/comments`),
        review_comment: link(`${repoUrl()}/pulls/comments{/number}`),
        commits: link(`${api}/commits`),
        statuses: link(`${repoUrl()}/statuses/${'b'.repeat(40)}`),
      },
    };
  };

  /** pulls.get's shape: the list's fields plus the ones only a single pull request carries. */
  const fullPullBody = (n: number, state: 'open' | 'closed') => ({
    ...pullBody(n),
    state,
    closed_at: state === 'closed' ? now() : null,
    merged: false,
    mergeable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    maintainer_can_modify: false,
    comments: 0,
    review_comments: 0,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  });

  const pullList = routes.find((r) => r.method === 'GET' && r.pattern.source.endsWith('/pulls$'));

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const call: RecordedCall = {
      method,
      path: url.pathname,
      query,
      body,
      authorization: req.headers.authorization,
      status: 0,
      response: undefined,
    };
    double.calls.push(call);
    let status = 404;
    let response: unknown = notFound();
    const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (route === undefined) {
      double.unhandled.push(call);
    } else if (!validToken(req.headers.authorization)) {
      status = 401;
      response = {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      };
    } else if (double.refuse.has(route.family)) {
      status = 403;
      response = {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
        status: '403',
      };
    } else {
      const match = route.pattern.exec(url.pathname);
      if (match !== null) [status, response] = route.handle(match, body, query);
    }
    call.status = status;
    call.response = response;
    // The answer is what GitHub knew when the request arrived; it just takes this long to arrive.
    if (route === pullList) {
      const delay = double.listDelay;
      await (typeof delay === 'number'
        ? new Promise((resolve) => setTimeout(resolve, delay))
        : delay.catch(() => undefined));
    }
    if (response === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(response));
  }

  function validToken(header: string | undefined): boolean {
    if (options.token === undefined) return header !== undefined;
    return header === `token ${options.token}` || header === `Bearer ${options.token}`;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  double.url = `http://127.0.0.1:${port}`;
  double.close = () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
  return double;
}

function notFound() {
  return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
}

/** GitHub's documented example of a branch (@octokit/openapi `branch-get`), named `branch`. */
function branchBody(branch: string): unknown {
  const require = createRequire(import.meta.url);
  const spec = require('@octokit/openapi/generated/api.github.com.json') as {
    components: { examples: Record<string, { value: Record<string, unknown> }> };
  };
  const example = spec.components.examples['branch-get']?.value ?? {};
  return { ...example, name: branch };
}
