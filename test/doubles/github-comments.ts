/**
 * Issue comments in the GitHub double (https://docs.github.com/rest/issues/comments): list,
 * create, edit and delete a pull request's comments. Like GitHub, there is no atomic "create if
 * absent" and ids increase.
 */
import type { Route, RouteRequest } from './http-double.js';
import { botUser, field, notFound, now, repoUrl, type GitHubRepo } from './github-rest.js';

export interface CommentRecord {
  id: number;
  issue: number;
  body: string;
  user: string;
}

/** The comment routes, reading and writing `comments`. */
export function commentRoutes(repo: GitHubRepo, comments: CommentRecord[]): Route[] {
  const commentBody = (req: RouteRequest, c: CommentRecord) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${repoUrl(repo, req)}/issues/comments/${c.id}`,
    html_url: `https://github.com/${repo.owner}/${repo.repo}/pull/${c.issue}#issuecomment-${c.id}`,
    body: c.body,
    user: { ...botUser, login: c.user },
    created_at: now(),
    updated_at: now(),
    issue_url: `${repoUrl(repo, req)}/issues/${c.issue}`,
    author_association: 'NONE',
  });
  const indexOf = (req: RouteRequest) => comments.findIndex((c) => String(c.id) === req.params['id']);
  const onIssue = `${repo.prefix}/issues/:issue/comments`;
  const one = `${repo.prefix}/issues/comments/:id`;
  return [
    {
      method: 'GET',
      pattern: onIssue,
      handle: (req) => ({
        status: 200,
        body: comments.filter((c) => String(c.issue) === req.params['issue']).map((c) => commentBody(req, c)),
      }),
    },
    {
      method: 'POST',
      pattern: onIssue,
      handle: (req) => {
        const issue = Number(req.params['issue']);
        const c: CommentRecord = {
          id: repo.nextId(),
          issue,
          body: field(req.body, 'body', ''),
          user: botUser.login,
        };
        comments.push(c);
        return { status: 201, body: commentBody(req, c) };
      },
    },
    {
      method: 'PATCH',
      pattern: one,
      handle: (req) => {
        const c = comments[indexOf(req)];
        if (c === undefined) return notFound();
        c.body = field(req.body, 'body', '');
        return { status: 200, body: commentBody(req, c) };
      },
    },
    {
      method: 'DELETE',
      pattern: one,
      handle: (req) => {
        const index = indexOf(req);
        if (index < 0) return notFound();
        comments.splice(index, 1);
        return { status: 204 };
      },
    },
  ];
}
