/**
 * Bitbucket Cloud's REST 2.0 routes for the shared change-request port
 * (shared/ci/change-request-api.ts), with the user's ACCESS_TOKEN
 * (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/):
 * - which pull requests are still OPEN, for prune (Bitbucket Pipelines has no trigger for a
 *   declined or merged PR, so a scheduled pipeline asks instead);
 * - one pull request's state: `OPEN` is open; `MERGED`, `DECLINED` and `SUPERSEDED` are closed;
 * - whether a branch still exists (api-group-refs), the name URL-encoded (it may hold `/`);
 * - the comments of a PR: every comment not deleted (Bitbucket keeps a deleted comment that has
 *   replies, flagged `deleted`).
 *
 * Auth: a repository, project or workspace access token is sent as a Bearer token. With
 * ACCESS_TOKEN_USERNAME set, the pair is sent as Basic auth instead (an Atlassian API token with
 * the account's email, or a legacy app password with the username).
 */
import { z } from 'zod';
import {
  allPages,
  changeRequestApi,
  type ChangeRequestApi,
  type HttpDeps,
  PlatformApiError,
  requestJson,
} from '../../shared/ci/index.js';

/** Bitbucket's maximum page length for pull requests is 50. */
const PAGE_LENGTH = 50;
const MAX_PAGES = 200;

/** Bitbucket's paginated envelope: `values` and, unless it is the last page, the absolute `next` URL. */
function paged<T extends z.ZodType>(item: T) {
  return z.object({ values: z.array(item), next: z.string().optional() });
}

const pullRequestPage = paged(z.object({ id: z.number().int(), state: z.string().optional() }));
const commentPage = paged(
  z.object({
    id: z.number().int(),
    deleted: z.boolean().optional(),
    content: z.object({ raw: z.string() }).partial(),
  }),
);

export interface BitbucketApiOptions {
  apiUrl: string;
  workspace: string;
  repoSlug: string;
  token: string;
  username?: string | undefined;
}

/** The change-request port on Bitbucket's API for one repository. */
export function bitbucketApi(options: BitbucketApiOptions, deps: HttpDeps): ChangeRequestApi {
  const origin = new URL(options.apiUrl).origin;
  const { token, username } = options;
  const headers = {
    authorization: username
      ? `Basic ${Buffer.from(`${username}:${token}`, 'utf8').toString('base64')}`
      : `Bearer ${token}`,
  };
  const repoUrl = (path: string): string =>
    `${options.apiUrl}/repositories/${encodeURIComponent(options.workspace)}/${encodeURIComponent(options.repoSlug)}${path}`;

  /** Follows `next` links, but only on the API's own origin: the token goes nowhere else. */
  const pages = <T>(
    operation: string,
    firstUrl: string,
    schema: z.ZodType<{ values: T[]; next?: string | undefined }>,
  ) =>
    allPages(operation, firstUrl, MAX_PAGES, async (url: string) => {
      if (new URL(url).origin !== origin) {
        throw new PlatformApiError(
          operation,
          undefined,
          `${operation}: the next page points to another host (${new URL(url).origin}); not following it.`,
        );
      }
      const page = (await requestJson({ operation, url, headers, schema }, deps)).data;
      return { items: page.values, next: page.next };
    });

  const comments = (id: number) => `/pullrequests/${id}/comments`;
  return changeRequestApi(
    {
      headers,
      words: { changeRequest: 'pull request', prefix: '#', note: 'comment' },
      changeRequestUrl: (id) => repoUrl(`/pullrequests/${id}?fields=${encodeURIComponent('id,state')}`),
      states: { open: ['OPEN'], closed: ['MERGED', 'DECLINED', 'SUPERSEDED'] },
      branchUrl: (name) => repoUrl(`/refs/branches/${encodeURIComponent(name)}?fields=name`),
      repositoryUrl: repoUrl('?fields=full_name'),
      notesUrl: (id) => repoUrl(comments(id)),
      noteUrl: (id, commentId) => repoUrl(`${comments(id)}/${commentId}`),
      noteBody: (raw) => ({ content: { raw } }),
      listNotes: async (id) =>
        (await pages('list pull request comments', repoUrl(`${comments(id)}?pagelen=100`), commentPage))
          .filter((comment) => !comment.deleted)
          .map((comment) => ({ id: comment.id, body: comment.content.raw ?? '' })),
      listOpen: async () =>
        (
          await pages(
            'list open pull requests',
            repoUrl(
              `/pullrequests?state=OPEN&pagelen=${PAGE_LENGTH}&fields=${encodeURIComponent('values.id,values.state,next')}`,
            ),
            pullRequestPage,
          )
        )
          .filter((pr) => pr.state === undefined || pr.state === 'OPEN')
          .map((pr) => pr.id),
    },
    deps,
  );
}
