/**
 * GitLab's REST v4 routes for the shared change-request port (shared/ci/change-request-api.ts),
 * with the user's ACCESS_TOKEN (a project or personal access token: the job token can neither
 * write MR notes nor list merge requests):
 * - the open merge requests of the project, for prune;
 * - one merge request's state (https://docs.gitlab.com/api/merge_requests/#get-single-mr):
 *   `opened` is open, and so is `locked` (a merge in progress, which may still fail); `closed` and
 *   `merged` are closed;
 * - whether a branch still exists (https://docs.gitlab.com/api/branches/#get-single-repository-branch),
 *   the name URL-encoded as one segment (it may hold `/`);
 * - the notes of an MR (https://docs.gitlab.com/api/notes/#merge-requests): every user note,
 *   system notes such as "added 1 commit" being GitLab's own.
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

const PER_PAGE = 100;
/** 100 pages of 100: a project with more open MRs than that is not something to prune by guesswork. */
const MAX_PAGES = 100;

const mergeRequestList = z.array(z.object({ iid: z.number().int() }));
const noteList = z.array(
  z.object({ id: z.number().int(), body: z.string(), system: z.boolean().optional() }),
);

export interface GitLabApiOptions {
  apiV4Url: string;
  projectRef: string;
  token: string;
}

/** The change-request port on GitLab's API for one project. */
export function gitlabApi(options: GitLabApiOptions, deps: HttpDeps): ChangeRequestApi {
  const headers = { 'PRIVATE-TOKEN': options.token };
  const url = (path: string, query: Record<string, string | number> = {}): string => {
    const built = new URL(`${options.apiV4Url}/projects/${options.projectRef}${path}`);
    for (const [key, value] of Object.entries(query)) built.searchParams.set(key, String(value));
    return built.toString();
  };

  /**
   * Offset pagination: GitLab answers `x-next-page` (empty on the last page). A page without that
   * header (a proxy that strips it) is refused rather than read as the last page: prune would
   * otherwise take the MRs on later pages for closed ones and delete their previews.
   */
  const pages = <T>(operation: string, path: string, query: Record<string, string>, schema: z.ZodType<T[]>) =>
    allPages(operation, '1', MAX_PAGES, async (page: string) => {
      const response = await requestJson(
        { operation, url: url(path, { ...query, per_page: PER_PAGE, page }), headers, schema },
        deps,
      );
      const next = response.headers.get('x-next-page');
      if (next === null && response.data.length > 0) {
        throw new PlatformApiError(
          operation,
          response.status,
          `${operation}: the response has no x-next-page header (stripped by a proxy?), so the list may be incomplete; not guessing.`,
        );
      }
      return { items: response.data, next: next?.trim() || undefined };
    });

  return changeRequestApi(
    {
      headers,
      words: { changeRequest: 'merge request', prefix: '!', note: 'note' },
      changeRequestUrl: (iid) => url(`/merge_requests/${iid}`),
      states: { open: ['opened', 'locked'], closed: ['closed', 'merged'] },
      branchUrl: (name) => url(`/repository/branches/${encodeURIComponent(name)}`),
      repositoryUrl: url(''),
      notesUrl: (iid) => url(`/merge_requests/${iid}/notes`),
      noteUrl: (iid, id) => url(`/merge_requests/${iid}/notes/${id}`),
      noteBody: (body) => ({ body }),
      listNotes: async (iid) =>
        (await pages('list merge request notes', `/merge_requests/${iid}/notes`, {}, noteList))
          .filter((note) => !note.system)
          .map(({ id, body }) => ({ id, body })),
      listOpen: async () =>
        (
          await pages('list open merge requests', '/merge_requests', { state: 'opened' }, mergeRequestList)
        ).map((mr) => mr.iid),
    },
    deps,
  );
}
