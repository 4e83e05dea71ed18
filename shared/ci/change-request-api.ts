/**
 * The change-request port every CI adapter gives the job runner: one change request's state,
 * whether a branch exists, the open ones for prune, and the note store `syncNote` keeps the preview
 * note in. `changeRequestPort` holds the rules (state words, a 404 read as an answer); GitLab and
 * Bitbucket build it from their REST routes (`changeRequestApi`), GitHub from Octokit calls. The
 * adapters keep only what differs: URLs, auth headers, field names, state words, and pagination.
 */
import { z } from 'zod';
import { requestJson, type HttpDeps, type JsonRequest } from './http.js';
import type { NoteStore, StoredNote } from './note.js';
import { PlatformApiError, type ChangeRequestState } from '../index.js';

/** What the job runner asks of a platform's API (job.ts); present when a platform token allows it. */
export interface ChangeRequestApi {
  /** The core's ChangeRequests port: open, closed or unknown; throws PlatformApiError when the call fails. */
  state(number: number): Promise<ChangeRequestState>;
  /**
   * The same port's question for branch previews: false only when the branch answers 404 and the
   * repository itself answers (a token that cannot see the repository gets 404s too).
   */
  branchExists(name: string): Promise<boolean>;
  /** The numbers of every open change request, all pages, for prune. */
  listOpen(): Promise<number[]>;
  /** The preview note's store on one change request. */
  notes(number: number): NoteStore;
}

/** A platform's REST routes and words, everything that differs between GitLab and Bitbucket. */
export interface ChangeRequestRoutes {
  /** Sent with every call (the token's header). */
  headers: Record<string, string>;
  /** For operation names in errors: `merge request` / `pull request`, `!` / `#`, `note` / `comment`. */
  words: { changeRequest: string; prefix: string; note: string };
  /** GET one change request; its `state` field is read. */
  changeRequestUrl(number: number): string;
  /** The platform's state words: anything in neither list is `unknown`. */
  states: { open: readonly string[]; closed: readonly string[] };
  /** GET one branch (the name already URL-encoded by the caller's route). */
  branchUrl(name: string): string;
  /** GET the repository (GitLab: the project) itself. */
  repositoryUrl: string;
  /** The note collection of a change request (POST creates) and one note in it (PUT, DELETE). */
  notesUrl(number: number): string;
  noteUrl(number: number, id: number): string;
  /** The request body that carries a note's text (`{ body }`, `{ content: { raw } }`). */
  noteBody(text: string): unknown;
  /** Every note (all pages), as the platform lists them; pagination is the platform's own. */
  listNotes(number: number): Promise<StoredNote[]>;
  /** Every open change request's number (all pages). */
  listOpen(): Promise<number[]>;
}

const withState = z.object({ state: z.string() });
const branch = z.object({ name: z.string() });
const withId = z.object({ id: z.number().int() });
const anyBody = z.unknown();

/**
 * A platform's change-request calls as they are sent, before the port's rules: each throws a
 * PlatformApiError, with status 404 when the change request, branch or note is not there.
 */
export interface ChangeRequestCalls {
  /** The platform's words for the states a change request can be in: anything in neither list is `unknown`. */
  states: { open: readonly string[]; closed: readonly string[] };
  /** The state word of one change request. */
  state(number: number): Promise<string>;
  /** Reads one branch (the answer is not used: only whether there is one). */
  getBranch(name: string): Promise<unknown>;
  /** Reads the repository itself (the answer is not used: only whether the token sees it). */
  getRepository(): Promise<unknown>;
  /** Every open change request's number (all pages). */
  listOpen(): Promise<number[]>;
  /** Every note on change request `number` (all pages) the preview note could be. */
  listNotes(number: number): Promise<StoredNote[]>;
  /** Posts a note; resolves to its id. */
  createNote(number: number, text: string): Promise<number>;
  updateNote(number: number, id: number, text: string): Promise<unknown>;
  deleteNote(number: number, id: number): Promise<unknown>;
}

function isNotFound(error: unknown): boolean {
  return error instanceof PlatformApiError && error.status === 404;
}

/** `call`'s value, or `gone` when what it asks for is not there (404); other failures are thrown. */
async function unlessNotFound<T, G>(call: Promise<T>, gone: G): Promise<T | G> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return gone;
    throw error;
  }
}

/**
 * A branch's 404 read as "deleted" only when the repository answers: platforms also send 404 to a
 * token that cannot see the repository, and a deleted branch tears its preview down. Otherwise
 * the repository's failure is thrown (the core then warns and goes on).
 */
async function branchExists(calls: ChangeRequestCalls, name: string): Promise<boolean> {
  const found = await unlessNotFound(
    calls.getBranch(name).then(() => true),
    false,
  );
  if (!found) await calls.getRepository();
  return found;
}

/**
 * The port from a platform's calls: state words read by the platform's lists, and 404s read as
 * answers where another run (or a user) may have been first: a deleted branch is `false`, a note
 * deleted meanwhile is not updated (`false`) and counts as removed.
 */
export function changeRequestPort(calls: ChangeRequestCalls): ChangeRequestApi {
  return {
    state: async (number) => {
      const state = await calls.state(number);
      if (calls.states.open.includes(state)) return 'open';
      if (calls.states.closed.includes(state)) return 'closed';
      return 'unknown';
    },
    branchExists: (name) => branchExists(calls, name),
    listOpen: () => calls.listOpen(),
    notes: (number) => ({
      list: () => calls.listNotes(number),
      create: (text) => calls.createNote(number, text),
      update: (id, text) =>
        unlessNotFound(
          calls.updateNote(number, id, text).then(() => true),
          false,
        ),
      remove: async (id) => {
        await unlessNotFound(calls.deleteNote(number, id), undefined);
      },
    }),
  };
}

/**
 * The port from a platform's routes. Every call goes through `requestJson` (the job's deadline,
 * the one retry policy, errors that name the operation and never a header).
 */
export function changeRequestApi(routes: ChangeRequestRoutes, deps: HttpDeps): ChangeRequestApi {
  const { words } = routes;
  const send = async <T>(request: Omit<JsonRequest<T>, 'headers'>) =>
    (await requestJson({ ...request, headers: routes.headers }, deps)).data;
  return changeRequestPort({
    states: routes.states,
    state: async (number) =>
      (
        await send({
          operation: `get ${words.changeRequest} ${words.prefix}${number}`,
          url: routes.changeRequestUrl(number),
          schema: withState,
        })
      ).state,
    getBranch: (name) =>
      send({ operation: `get branch "${name}"`, url: routes.branchUrl(name), schema: branch }),
    getRepository: () =>
      send({ operation: 'get the repository', url: routes.repositoryUrl, schema: anyBody }),
    listOpen: () => routes.listOpen(),
    listNotes: (number) => routes.listNotes(number),
    createNote: async (number, text) =>
      (
        await send({
          operation: `create the preview ${words.note}`,
          method: 'POST',
          url: routes.notesUrl(number),
          body: routes.noteBody(text),
          schema: withId,
        })
      ).id,
    updateNote: (number, id, text) =>
      send({
        operation: `update the preview ${words.note}`,
        method: 'PUT',
        url: routes.noteUrl(number, id),
        body: routes.noteBody(text),
        schema: withId,
      }),
    deleteNote: (number, id) =>
      send({
        operation: `delete a duplicate preview ${words.note}`,
        method: 'DELETE',
        url: routes.noteUrl(number, id),
        schema: anyBody,
      }),
  });
}

/**
 * Walks a platform's pages: `fetchPage(cursor)` returns a page's items and the next cursor
 * (`undefined` after the last). More than `maxPages` pages is refused rather than cut short: prune
 * would take the change requests on the missing pages for closed ones.
 */
export async function allPages<T, C>(
  operation: string,
  first: C,
  maxPages: number,
  fetchPage: (cursor: C) => Promise<{ items: T[]; next: C | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: C | undefined = first;
  for (let count = 0; cursor !== undefined; count++) {
    if (count >= maxPages) {
      throw new PlatformApiError(
        operation,
        undefined,
        `${operation}: more than ${maxPages} pages; giving up.`,
      );
    }
    const page = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.next;
  }
  return all;
}
