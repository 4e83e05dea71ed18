/**
 * The two GitLab REST v4 features the image uses, with the user's ACCESS_TOKEN (a project or
 * personal access token: the job token can neither write MR notes nor list merge requests).
 * - the open merge requests of the project, for prune;
 * - one merge request's state, for the core's ChangeRequests port (a deploy stops when its MR was
 *   closed meanwhile; prune asks again right before each deletion);
 * - one preview note per MR, found by its marker and edited in place.
 */
import { z } from 'zod';
import { PlatformApiError, requestJson, type HttpDeps } from '../../shared/ci-http.js';
import { isPreviewNote, type NoteMarkerStyle } from '../../shared/ci-note.js';
import type { ChangeRequestState } from '../../shared/deps.js';

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

  /** Creates the MR's preview note, or rewrites the existing one. Returns the note id. */
  async upsertPreviewNote(iid: number, body: string): Promise<{ id: number; created: boolean }> {
    let existing: number | undefined;
    for await (const page of this.pages(
      'list merge request notes',
      `/merge_requests/${iid}/notes`,
      noteList,
    )) {
      existing = page.find((candidate) => !candidate.system && isPreviewNote(candidate.body, NOTE_STYLE))?.id;
      if (existing !== undefined) break;
    }
    if (existing !== undefined) {
      await requestJson(
        {
          operation: 'update the preview note',
          method: 'PUT',
          url: this.url(`/merge_requests/${iid}/notes/${existing}`),
          headers: this.headers,
          body: { body },
          schema: note,
        },
        this.deps,
      );
      return { id: existing, created: false };
    }
    const created = await requestJson(
      {
        operation: 'create the preview note',
        method: 'POST',
        url: this.url(`/merge_requests/${iid}/notes`),
        headers: this.headers,
        body: { body },
        schema: note,
      },
      this.deps,
    );
    return { id: created.data.id, created: true };
  }
}
