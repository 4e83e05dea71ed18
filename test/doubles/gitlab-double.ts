/**
 * A local stand-in for the parts of GitLab's REST API v4 the image calls
 * (https://docs.gitlab.com/api/merge_requests/, https://docs.gitlab.com/api/notes/):
 * - GET  /api/v4/projects/:id/merge_requests?state=opened (offset pagination: x-next-page etc.)
 * - GET  /api/v4/projects/:id/merge_requests/:iid               (one MR, with its state)
 * - GET  /api/v4/projects/:id/merge_requests/:iid/notes
 * - POST /api/v4/projects/:id/merge_requests/:iid/notes           { body }
 * - PUT  /api/v4/projects/:id/merge_requests/:iid/notes/:note_id  { body }
 * - DELETE /api/v4/projects/:id/merge_requests/:iid/notes/:note_id (204)
 * - GET  /api/v4/projects/:id/repository/branches/:branch (URL-encoded name; 404 once deleted)
 * - GET  /api/v4/projects/:id                                   (the project; 404 when another's id)
 * Like GitLab, listing and creating are separate calls (no "create if absent"), note ids increase.
 * `:id` is the numeric project id or the URL-encoded path, as on GitLab. Auth is the
 * `PRIVATE-TOKEN` header (or `Authorization: Bearer`); without it GitLab answers 401.
 */
import { startHttpDouble, type HttpDouble, type Reply, type RouteRequest } from './http-double.js';

export interface GitLabMergeRequest {
  iid: number;
  state: 'opened' | 'closed' | 'merged' | 'locked';
}

export interface GitLabNote {
  id: number;
  body: string;
  system: boolean;
}

export interface GitLabDoubleOptions {
  token: string;
  projectId: number;
  projectPath: string;
  mergeRequests?: GitLabMergeRequest[];
  /** GitLab's maximum is 100; tests lower it to make the adapter page. */
  maxPerPage?: number;
  /** Answer lists without the x-* pagination headers, as a header-stripping proxy would. */
  stripPaginationHeaders?: boolean;
}

export interface GitLabDouble extends HttpDouble {
  mergeRequests: GitLabMergeRequest[];
  /** Notes per MR iid, including system notes the double seeds. */
  notes: Map<number, GitLabNote[]>;
  /** Notes on an MR, without system notes. */
  userNotes(iid: number): GitLabNote[];
  /** Sets an MR's state, adding the MR if the double does not have it (opening, closing, merging it). */
  setState(iid: number, state: GitLabMergeRequest['state']): void;
  /** Branches deleted from the repository: GET .../repository/branches/:branch answers 404; any other branch exists. */
  deletedBranches: Set<string>;
}

const API = '/api/v4/projects/:project';

function paginate<T>(items: T[], query: Record<string, string>, maxPerPage: number, strip = false): Reply {
  const perPage = Math.min(maxPerPage, Math.max(1, Number(query.per_page ?? 20)));
  const page = Math.max(1, Number(query.page ?? 1));
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (strip) return { status: 200, body: slice };
  return {
    status: 200,
    body: slice,
    headers: {
      'x-page': String(page),
      'x-per-page': String(perPage),
      'x-total': String(items.length),
      'x-total-pages': String(totalPages),
      'x-next-page': page < totalPages ? String(page + 1) : '',
      'x-prev-page': page > 1 ? String(page - 1) : '',
    },
  };
}

export async function startGitLabDouble(options: GitLabDoubleOptions): Promise<GitLabDouble> {
  const mergeRequests = [...(options.mergeRequests ?? [])];
  const notes = new Map<number, GitLabNote[]>();
  let nextNoteId = 9000;
  const maxPerPage = options.maxPerPage ?? 100;
  const deletedBranches = new Set<string>();

  const project = (req: RouteRequest): Reply | undefined =>
    req.params.project === String(options.projectId) || req.params.project === options.projectPath
      ? undefined
      : { status: 404, body: { message: '404 Project Not Found' } };
  const mergeRequest = (req: RouteRequest): GitLabMergeRequest | undefined =>
    mergeRequests.find((mr) => String(mr.iid) === req.params.iid);
  const notesOf = (iid: number): GitLabNote[] => {
    let list = notes.get(iid);
    if (!list) {
      // Real MRs carry system notes ("added 1 commit"); the adapter must skip them.
      list = [{ id: nextNoteId++, body: 'added 1 commit', system: true }];
      notes.set(iid, list);
    }
    return list;
  };
  const noteBody = (body: unknown): string | undefined =>
    typeof body === 'object' && body !== null && typeof (body as { body?: unknown }).body === 'string'
      ? (body as { body: string }).body
      : undefined;
  const noMr: Reply = { status: 404, body: { message: '404 Not found' } };

  const double = await startHttpDouble({
    authorize: (req) =>
      req.headers['private-token'] === options.token ||
      req.headers.authorization === `Bearer ${options.token}`,
    unauthorized: { status: 401, body: { message: '401 Unauthorized' } },
    routes: [
      {
        // https://docs.gitlab.com/api/projects/#get-a-single-project (404 for a project the token cannot see)
        method: 'GET',
        pattern: API,
        handle: (req) =>
          project(req) ?? {
            status: 200,
            body: { id: options.projectId, path_with_namespace: options.projectPath },
          },
      },
      {
        // https://docs.gitlab.com/api/branches/#get-single-repository-branch; the double's router
        // decodes the segment, so an unencoded "a/b" finds no route (as on GitLab, 404).
        method: 'GET',
        pattern: `${API}/repository/branches/:branch`,
        handle: (req) => {
          const name = req.params.branch ?? '';
          const refused = project(req);
          if (refused) return refused;
          if (deletedBranches.has(name)) return { status: 404, body: { message: '404 Branch Not Found' } };
          return { status: 200, body: { name, merged: false, protected: false, default: false } };
        },
      },
      {
        method: 'GET',
        pattern: `${API}/merge_requests`,
        handle: (req) => {
          const state = req.query.state ?? 'all';
          const list = mergeRequests
            .filter((mr) => state === 'all' || mr.state === state)
            .map((mr) => ({
              id: 50_000 + mr.iid,
              iid: mr.iid,
              project_id: options.projectId,
              state: mr.state,
            }));
          return project(req) ?? paginate(list, req.query, maxPerPage, options.stripPaginationHeaders);
        },
      },
      {
        method: 'GET',
        pattern: `${API}/merge_requests/:iid`,
        handle: (req) => {
          const mr = mergeRequest(req);
          if (project(req) || !mr) return project(req) ?? noMr;
          return {
            status: 200,
            body: { id: 50_000 + mr.iid, iid: mr.iid, project_id: options.projectId, state: mr.state },
          };
        },
      },
      {
        method: 'GET',
        pattern: `${API}/merge_requests/:iid/notes`,
        handle: (req) => {
          const mr = mergeRequest(req);
          if (project(req) || !mr) return project(req) ?? noMr;
          return paginate(notesOf(mr.iid), req.query, maxPerPage, options.stripPaginationHeaders);
        },
      },
      {
        method: 'POST',
        pattern: `${API}/merge_requests/:iid/notes`,
        handle: (req) => {
          const mr = mergeRequest(req);
          if (project(req) || !mr) return project(req) ?? noMr;
          const body = noteBody(req.body);
          if (body === undefined) return { status: 400, body: { error: 'body is missing' } };
          const note: GitLabNote = { id: nextNoteId++, body, system: false };
          notesOf(mr.iid).push(note);
          return { status: 201, body: note };
        },
      },
      {
        method: 'PUT',
        pattern: `${API}/merge_requests/:iid/notes/:noteId`,
        handle: (req) => {
          const mr = mergeRequest(req);
          if (project(req) || !mr) return project(req) ?? noMr;
          const note = notesOf(mr.iid).find((n) => String(n.id) === req.params.noteId);
          const body = noteBody(req.body);
          if (!note) return { status: 404, body: { message: '404 Note Not Found' } };
          if (body === undefined) return { status: 400, body: { error: 'body is missing' } };
          note.body = body;
          return { status: 200, body: note };
        },
      },
      {
        method: 'DELETE',
        pattern: `${API}/merge_requests/:iid/notes/:noteId`,
        handle: (req) => {
          const mr = mergeRequest(req);
          if (project(req) || !mr) return project(req) ?? noMr;
          const list = notesOf(mr.iid);
          const index = list.findIndex((n) => String(n.id) === req.params.noteId);
          if (index < 0) return { status: 404, body: { message: '404 Note Not Found' } };
          list.splice(index, 1);
          return { status: 204 };
        },
      },
    ],
  });
  return {
    ...double,
    deletedBranches,
    mergeRequests,
    notes,
    userNotes: (iid) => (notes.get(iid) ?? []).filter((n) => !n.system),
    setState(iid, state) {
      const mr = mergeRequests.find((m) => m.iid === iid);
      if (mr) mr.state = state;
      else mergeRequests.push({ iid, state });
    },
  };
}
