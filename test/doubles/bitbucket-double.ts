/**
 * A local stand-in for the parts of Bitbucket Cloud's REST API 2.0 the pipe calls
 * (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/):
 * - GET  /2.0/repositories/:workspace/:repo/pullrequests?state=OPEN   ({ values, next } pages)
 * - GET  /2.0/repositories/:workspace/:repo/pullrequests/:id           (one PR, with its state)
 * - GET  /2.0/repositories/:workspace/:repo/pullrequests/:id/comments
 * - POST /2.0/repositories/:workspace/:repo/pullrequests/:id/comments          { content: { raw } }
 * - PUT  /2.0/repositories/:workspace/:repo/pullrequests/:id/comments/:comment { content: { raw } }
 * - DELETE /2.0/repositories/:workspace/:repo/pullrequests/:id/comments/:comment (204; the comment
 *   stays in lists flagged `deleted`, as Bitbucket keeps it in its thread)
 * - GET  /2.0/repositories/:workspace/:repo/refs/branches/:name (URL-encoded name; 404 once deleted)
 * - GET  /2.0/repositories/:workspace/:repo                     (the repository; 404 when another's)
 * Like Bitbucket, listing and creating are separate calls (no "create if absent"), ids increase.
 * Auth: `Authorization: Bearer <access token>`, or Basic `<username>:<token>` when a username is set.
 */
import { startHttpDouble, type HttpDouble, type Reply, type RouteRequest } from './http-double.js';

export interface BitbucketPullRequest {
  id: number;
  state: 'OPEN' | 'MERGED' | 'DECLINED' | 'SUPERSEDED';
}

export interface BitbucketComment {
  id: number;
  content: { raw: string };
  deleted: boolean;
}

export interface BitbucketDoubleOptions {
  token: string;
  /** With a username, only Basic auth is accepted. */
  username?: string;
  workspace: string;
  repoSlug: string;
  pullRequests?: BitbucketPullRequest[];
  /** Bitbucket caps pagelen at 50 for pull requests; tests lower it to make the pipe page. */
  maxPageLength?: number;
}

export interface BitbucketDouble extends HttpDouble {
  pullRequests: BitbucketPullRequest[];
  comments: Map<number, BitbucketComment[]>;
  /** Sets a PR's state, adding the PR if the double does not have it (opening, declining, merging it). */
  setState(id: number, state: BitbucketPullRequest['state']): void;
  /** Branches deleted from the repository: GET .../refs/branches/:name answers 404; any other branch exists. */
  deletedBranches: Set<string>;
}

function page<T>(items: T[], req: RouteRequest, path: string, maxPageLength: number): Reply {
  const pagelen = Math.min(maxPageLength, Math.max(1, Number(req.query.pagelen ?? 10)));
  const pageNumber = Math.max(1, Number(req.query.page ?? 1));
  const values = items.slice((pageNumber - 1) * pagelen, pageNumber * pagelen);
  const body: Record<string, unknown> = { pagelen, size: items.length, page: pageNumber, values };
  if (pageNumber * pagelen < items.length) {
    const next = new URL(path, req.origin);
    for (const [key, value] of Object.entries(req.query)) next.searchParams.set(key, value);
    next.searchParams.set('page', String(pageNumber + 1));
    body.next = next.toString();
  }
  return { status: 200, body };
}

export async function startBitbucketDouble(options: BitbucketDoubleOptions): Promise<BitbucketDouble> {
  const pullRequests = [...(options.pullRequests ?? [])];
  const comments = new Map<number, BitbucketComment[]>();
  let nextCommentId = 700;
  const maxPageLength = options.maxPageLength ?? 50;
  const deletedBranches = new Set<string>();
  const repo = `/2.0/repositories/:workspace/:repo`;
  const expectedAuth = options.username
    ? `Basic ${Buffer.from(`${options.username}:${options.token}`).toString('base64')}`
    : `Bearer ${options.token}`;

  const wrongRepo = (req: RouteRequest): Reply | undefined =>
    req.params.workspace === options.workspace && req.params.repo === options.repoSlug
      ? undefined
      : { status: 404, body: { type: 'error', error: { message: 'Repository not found' } } };
  const pullRequest = (req: RouteRequest) => pullRequests.find((pr) => String(pr.id) === req.params.id);
  const commentsOf = (id: number): BitbucketComment[] => {
    let list = comments.get(id);
    if (!list) {
      list = [];
      comments.set(id, list);
    }
    return list;
  };
  const rawOf = (body: unknown): string | undefined => {
    const content = (body as { content?: { raw?: unknown } } | undefined)?.content;
    return typeof content?.raw === 'string' ? content.raw : undefined;
  };
  const noPr: Reply = { status: 404, body: { type: 'error', error: { message: 'Pull request not found' } } };
  const path = (req: RouteRequest, suffix: string) =>
    `/2.0/repositories/${req.params.workspace ?? ''}/${req.params.repo ?? ''}${suffix}`;

  const double = await startHttpDouble({
    authorize: (req) => req.headers.authorization === expectedAuth,
    unauthorized: {
      status: 401,
      body: { type: 'error', error: { message: 'Access token expired or invalid' } },
    },
    routes: [
      {
        // https://developer.atlassian.com/cloud/bitbucket/rest/api-group-repositories/ (404 for another's)
        method: 'GET',
        pattern: repo,
        handle: (req) =>
          wrongRepo(req) ?? {
            status: 200,
            body: { type: 'repository', full_name: `${options.workspace}/${options.repoSlug}` },
          },
      },
      {
        // https://developer.atlassian.com/cloud/bitbucket/rest/api-group-refs/; the router decodes
        // the segment, so an unencoded "a/b" finds no route.
        method: 'GET',
        pattern: `${repo}/refs/branches/:name`,
        handle: (req) => {
          const name = req.params.name ?? '';
          const refused = wrongRepo(req);
          if (refused) return refused;
          if (deletedBranches.has(name))
            return { status: 404, body: { type: 'error', error: { message: 'Branch not found' } } };
          return { status: 200, body: { type: 'branch', name, target: { type: 'commit' } } };
        },
      },
      {
        method: 'GET',
        pattern: `${repo}/pullrequests`,
        handle: (req) => {
          // Bitbucket's default, without ?state, is OPEN only.
          const states = (req.query.state ?? 'OPEN').split(',');
          const list = pullRequests
            .filter((pr) => states.includes(pr.state))
            .map((pr) => ({ ...pr, type: 'pullrequest' }));
          return wrongRepo(req) ?? page(list, req, path(req, '/pullrequests'), maxPageLength);
        },
      },
      {
        method: 'GET',
        pattern: `${repo}/pullrequests/:id`,
        handle: (req) => {
          const pr = pullRequest(req);
          if (wrongRepo(req) || !pr) return wrongRepo(req) ?? noPr;
          return { status: 200, body: { type: 'pullrequest', id: pr.id, state: pr.state } };
        },
      },
      {
        method: 'GET',
        pattern: `${repo}/pullrequests/:id/comments`,
        handle: (req) => {
          const pr = pullRequest(req);
          if (wrongRepo(req) || !pr) return wrongRepo(req) ?? noPr;
          return page(commentsOf(pr.id), req, path(req, `/pullrequests/${pr.id}/comments`), maxPageLength);
        },
      },
      {
        method: 'POST',
        pattern: `${repo}/pullrequests/:id/comments`,
        handle: (req) => {
          const pr = pullRequest(req);
          if (wrongRepo(req) || !pr) return wrongRepo(req) ?? noPr;
          const raw = rawOf(req.body);
          if (raw === undefined)
            return { status: 400, body: { type: 'error', error: { message: 'content.raw is required' } } };
          const comment: BitbucketComment = { id: nextCommentId++, content: { raw }, deleted: false };
          commentsOf(pr.id).push(comment);
          return { status: 201, body: comment };
        },
      },
      {
        method: 'PUT',
        pattern: `${repo}/pullrequests/:id/comments/:commentId`,
        handle: (req) => {
          const pr = pullRequest(req);
          if (wrongRepo(req) || !pr) return wrongRepo(req) ?? noPr;
          const comment = commentsOf(pr.id).find((c) => String(c.id) === req.params.commentId);
          const raw = rawOf(req.body);
          if (!comment || comment.deleted)
            return { status: 404, body: { type: 'error', error: { message: 'Comment not found' } } };
          if (raw === undefined)
            return { status: 400, body: { type: 'error', error: { message: 'content.raw is required' } } };
          comment.content.raw = raw;
          return { status: 200, body: comment };
        },
      },
      {
        method: 'DELETE',
        pattern: `${repo}/pullrequests/:id/comments/:commentId`,
        handle: (req) => {
          const pr = pullRequest(req);
          if (wrongRepo(req) || !pr) return wrongRepo(req) ?? noPr;
          const comment = commentsOf(pr.id).find((c) => String(c.id) === req.params.commentId && !c.deleted);
          if (!comment)
            return { status: 404, body: { type: 'error', error: { message: 'Comment not found' } } };
          comment.deleted = true;
          comment.content.raw = '';
          return { status: 204 };
        },
      },
    ],
  });
  return {
    ...double,
    deletedBranches,
    pullRequests,
    comments,
    setState(id, state) {
      const pr = pullRequests.find((p) => p.id === id);
      if (pr) pr.state = state;
      else pullRequests.push({ id, state });
    },
  };
}
