/**
 * The two GitLab REST v4 features the image uses, with the user's ACCESS_TOKEN (a project or
 * personal access token: the job token can neither write MR notes nor list merge requests).
 * - the open merge requests of the project, for prune;
 * - one merge request's state, for the core's ChangeRequests port (a deploy stops when its MR was
 *   closed meanwhile; prune asks again right before each deletion);
 * - whether a branch still exists, the same port's question for branch previews;
 * - the notes of an MR (list, create, edit, delete), through which the core's `syncNote` keeps one
 *   preview note per MR (https://docs.gitlab.com/api/notes/#merge-requests).
 */
import { z } from 'zod';
import type { ChangeRequestState } from '../../shared/index.js';
import {
  type HttpDeps,
  type NoteMarkerStyle,
  type NoteStore,
  PlatformApiError,
  requestJson,
  type StoredNote,
} from '../../shared/ci/index.js';

export const NOTE_STYLE: NoteMarkerStyle = 'html-comment';

const PER_PAGE = 100;
/** 100 pages of 100: a project with more open MRs than that is not something to prune by guesswork. */
const MAX_PAGES = 100;

const mergeRequestList = z.array(z.object({ iid: z.number().int(), state: z.string().optional() }));
const mergeRequest = z.object({ iid: z.number().int(), state: z.string() });
const noteList = z.array(
  z.object({ id: z.number().int(), body: z.string(), system: z.boolean().optional() }),
);
const note = z.object({ id: z.number().int() });
const branch = z.object({ name: z.string() });

export interface GitLabApiOptions {
  apiV4Url: string;
  projectRef: string;
  token: string;
}

export class GitLabApi {
  constructor(
    private readonly options: GitLabApiOptions,
    private readonly deps: HttpDeps,
  ) {}

  private url(path: string, query: Record<string, string | number> = {}): string {
    const url = new URL(`${this.options.apiV4Url}/projects/${this.options.projectRef}${path}`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private get headers(): Record<string, string> {
    return { 'PRIVATE-TOKEN': this.options.token };
  }

  /**
   * Offset pagination: GitLab answers `x-next-page` (empty on the last page). A page without that
   * header (a proxy that strips it) is refused rather than read as the last page: prune would
   * otherwise take the MRs on later pages for closed ones and delete their previews.
   */
  private async *pages<T>(operation: string, path: string, schema: z.ZodType<T[]>): AsyncGenerator<T[]> {
    let page = '1';
    for (let count = 0; page !== ''; count++) {
      if (count >= MAX_PAGES) {
        throw new PlatformApiError(
          operation,
          undefined,
          `${operation}: more than ${MAX_PAGES} pages; giving up.`,
        );
      }
      const response = await requestJson(
        { operation, url: this.url(path, { per_page: PER_PAGE, page }), headers: this.headers, schema },
        this.deps,
      );
      yield response.data;
      const next = response.headers.get('x-next-page');
      if (next === null && response.data.length > 0) {
        throw new PlatformApiError(
          operation,
          response.status,
          `${operation}: the response has no x-next-page header (stripped by a proxy?), so the list may be incomplete; not guessing.`,
        );
      }
      page = next?.trim() ?? '';
    }
  }

  async listOpenMergeRequestIids(): Promise<number[]> {
    const iids: number[] = [];
    for await (const page of this.pages(
      'list open merge requests',
      '/merge_requests?state=opened',
      mergeRequestList,
    )) {
      iids.push(...page.map((mr) => mr.iid));
    }
    return iids;
  }

  /**
   * GET /projects/:id/merge_requests/:iid (https://docs.gitlab.com/api/merge_requests/#get-single-mr):
   * `opened` is open, and so is `locked` (a merge in progress, which may still fail); `closed` and
   * `merged` are closed; any other state is unknown. Throws PlatformApiError when the call fails.
   */
  async mergeRequestState(iid: number): Promise<ChangeRequestState> {
    const response = await requestJson(
      {
        operation: `get merge request !${iid}`,
        url: this.url(`/merge_requests/${iid}`),
        headers: this.headers,
        schema: mergeRequest,
      },
      this.deps,
    );
    const { state } = response.data;
    if (state === 'opened' || state === 'locked') return 'open';
    if (state === 'closed' || state === 'merged') return 'closed';
    return 'unknown';
  }

  /**
   * GET /projects/:id/repository/branches/:branch (https://docs.gitlab.com/api/branches/#get-single-repository-branch):
   * the core's `branchExists` for branch previews. 404 is the one answer that means deleted;
   * any other failure throws PlatformApiError (the core warns and treats the branch as existing).
   * The branch name is URL-encoded (it may hold `/`).
   */
  async branchExists(name: string): Promise<boolean> {
    try {
      await requestJson(
        {
          operation: `get branch "${name}"`,
          url: this.url(`/repository/branches/${encodeURIComponent(name)}`),
          headers: this.headers,
          schema: branch,
        },
        this.deps,
      );
      return true;
    } catch (error) {
      if (error instanceof PlatformApiError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * The MR's notes as `syncNote` uses them: every user note (system notes such as "added 1
   * commit" are GitLab's own and left out), create, edit (false on 404: another job deleted it),
   * delete (a note already gone counts as deleted).
   */
  mergeRequestNotes(iid: number): NoteStore {
    const path = `/merge_requests/${iid}/notes`;
    const notFound = (error: unknown) => error instanceof PlatformApiError && error.status === 404;
    return {
      list: async () => {
        const all: StoredNote[] = [];
        for await (const page of this.pages('list merge request notes', path, noteList)) {
          for (const n of page) if (!n.system) all.push({ id: n.id, body: n.body });
        }
        return all;
      },
      create: async (body) =>
        (
          await requestJson(
            {
              operation: 'create the preview note',
              method: 'POST',
              url: this.url(path),
              headers: this.headers,
              body: { body },
              schema: note,
            },
            this.deps,
          )
        ).data.id,
      update: async (id, body) => {
        try {
          await requestJson(
            {
              operation: 'update the preview note',
              method: 'PUT',
              url: this.url(`${path}/${id}`),
              headers: this.headers,
              body: { body },
              schema: note,
            },
            this.deps,
          );
          return true;
        } catch (error) {
          if (notFound(error)) return false;
          throw error;
        }
      },
      remove: async (id) => {
        try {
          await requestJson(
            {
              operation: 'delete a duplicate preview note',
              method: 'DELETE',
              url: this.url(`${path}/${id}`),
              headers: this.headers,
              schema: z.unknown(),
            },
            this.deps,
          );
        } catch (error) {
          if (!notFound(error)) throw error;
        }
      },
    };
  }
}
