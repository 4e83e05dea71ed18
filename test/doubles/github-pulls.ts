/**
 * Pull requests and branches in the GitHub double (https://docs.github.com/rest/pulls/pulls,
 * .../branches/branches): the open-pull-request list, one pull request with its state, one
 * branch (404 once deleted) and the repository (.../repos/repos#get-a-repository). The shapes are GitHub's `pull-request-simple` and `pull-request`.
 */
import { createRequire } from 'node:module';
import type { Route, RouteRequest } from './http-double.js';
import { botUser, notFound, now, repoUrl, type GitHubRepo } from './github-rest.js';

/** What the pull request routes read, at the time of each call. */
export interface PullState {
  /** Pull request numbers the list reports as open (and pulls.get as `open`). */
  openPulls: number[];
  /** Pull request numbers pulls.get reports as `closed`; a number in neither list is open. */
  closedPulls: number[];
  /** Branches repos.getBranch reports as missing (404); every other branch exists. */
  deletedBranches: Set<string>;
}

const REPOSITORY_LINKS = [
  'archive', 'assignees', 'blobs', 'branches', 'collaborators', 'comments', 'commits', 'compare',
  'contents', 'contributors', 'deployments', 'downloads', 'events', 'forks', 'git_commits', 'git_refs',
  'git_tags', 'hooks', 'issue_comment', 'issue_events', 'issues', 'keys', 'labels', 'languages', 'merges',
  'milestones', 'notifications', 'pulls', 'releases', 'stargazers', 'statuses', 'subscribers',
  'subscription', 'tags', 'teams', 'trees',
]; // prettier-ignore

/** GitHub's documented example `name` (@octokit/openapi), with `fields` set. */
function exampleBody(name: string, fields: Record<string, unknown>): unknown {
  const require = createRequire(import.meta.url);
  const spec = require('@octokit/openapi/generated/api.github.com.json') as {
    components: { examples: Record<string, { value: Record<string, unknown> }> };
  };
  return { ...spec.components.examples[name]?.value, ...fields };
}

/** The pull request and branch routes, reading `state`. */
export function pullRoutes(repo: GitHubRepo, state: PullState): Route[] {
  const { owner } = repo;
  const html = `https://github.com/${owner}/${repo.repo}`;
  const repositoryBody = (req: RouteRequest) => {
    const api = repoUrl(repo, req);
    const open = state.openPulls.length;
    return {
      ...Object.fromEntries(
        REPOSITORY_LINKS.map((name) => [`${name}_url`, `${api}/${name.replace(/_/g, '/')}`]),
      ),
      id: 4711,
      node_id: 'R_shop',
      name: repo.repo,
      full_name: `${owner}/${repo.repo}`,
      owner: botUser,
      private: false,
      description: null,
      fork: false,
      url: api,
      html_url: html,
      clone_url: `${html}.git`,
      git_url: `git://github.com/${owner}/${repo.repo}.git`,
      ssh_url: `git@github.com:${owner}/${repo.repo}.git`,
      svn_url: html,
      mirror_url: null,
      homepage: null,
      language: 'TypeScript',
      default_branch: 'main',
      ...{ forks: 0, forks_count: 0, open_issues: open, open_issues_count: open, stargazers_count: 0 },
      ...{ watchers: 0, watchers_count: 0, size: 120, has_downloads: true, has_issues: true },
      ...{ has_projects: false, has_wiki: false, has_pages: false, archived: false, disabled: false },
      license: null,
      pushed_at: now(),
      created_at: now(),
      updated_at: now(),
    };
  };
  const end = (ref: string, sha: string, req: RouteRequest) => ({
    ref,
    sha,
    label: `${owner}:${ref}`,
    repo: repositoryBody(req),
    user: botUser,
  });
  const pullBody = (req: RouteRequest, n: number) => {
    const api = `${repoUrl(repo, req)}/pulls/${n}`;
    const issue = `${repoUrl(repo, req)}/issues/${n}`;
    const links = {
      self: api,
      html: `${html}/pull/${n}`,
      issue,
      comments: `${issue}/comments`,
      review_comments: `${api}/comments`,
      review_comment: `${repoUrl(repo, req)}/pulls/comments{/number}`,
      commits: `${api}/commits`,
      statuses: `${repoUrl(repo, req)}/statuses/${'b'.repeat(40)}`,
    };
    return {
      url: api,
      id: 5000 + n,
      node_id: `PR_${n}`,
      html_url: links.html,
      diff_url: `${links.html}.diff`,
      patch_url: `${links.html}.patch`,
      issue_url: issue,
      commits_url: links.commits,
      review_comments_url: links.review_comments,
      review_comment_url: links.review_comment,
      comments_url: links.comments,
      statuses_url: links.statuses,
      number: n,
      state: 'open',
      locked: false,
      title: `PR ${n}`,
      user: botUser,
      body: null,
      labels: [],
      ...{ milestone: null, assignee: null, closed_at: null, merged_at: null, merge_commit_sha: null },
      created_at: now(),
      updated_at: now(),
      draft: false,
      author_association: 'MEMBER',
      auto_merge: null,
      head: end(`feature-${n}`, 'b'.repeat(40), req),
      base: end('main', 'c'.repeat(40), req),
      _links: Object.fromEntries(Object.entries(links).map(([name, href]) => [name, { href }])),
    };
  };
  /** pulls.get's shape: the list's fields plus the ones only a single pull request carries. */
  const fullPullBody = (req: RouteRequest, n: number, pullState: 'open' | 'closed') => ({
    ...pullBody(req, n),
    state: pullState,
    closed_at: pullState === 'closed' ? now() : null,
    ...{ merged: false, mergeable: null, mergeable_state: 'unknown', merged_by: null },
    ...{ maintainer_can_modify: false, comments: 0, review_comments: 0, commits: 1 },
    ...{ additions: 1, deletions: 0, changed_files: 1 },
  });

  return [
    {
      method: 'GET',
      pattern: `${repo.prefix}/pulls`,
      handle: (req) => ({
        status: 200,
        body: req.query['state'] === 'open' ? state.openPulls.map((n) => pullBody(req, n)) : [],
      }),
    },
    {
      method: 'GET',
      pattern: `${repo.prefix}/pulls/:number`,
      handle: (req) => {
        const n = Number(req.params['number']);
        return { status: 200, body: fullPullBody(req, n, state.closedPulls.includes(n) ? 'closed' : 'open') };
      },
    },
    {
      method: 'GET',
      pattern: `${repo.prefix}/branches/:branch`,
      handle: (req) => {
        const branch = req.params['branch'] ?? '';
        return state.deletedBranches.has(branch)
          ? notFound()
          : { status: 200, body: exampleBody('branch-get', { name: branch }) };
      },
    },
    {
      method: 'GET',
      pattern: repo.prefix,
      handle: () => ({
        status: 200,
        // The example lacks the required `language`; its optional fork parent and source are left out.
        body: exampleBody('full-repository-default-response', {
          name: repo.repo,
          full_name: `${owner}/${repo.repo}`,
          language: 'TypeScript',
          parent: undefined,
          source: undefined,
        }),
      }),
    },
  ];
}
