/**
 * The change-request port of the GitLab and Bitbucket adapters, built once here from each
 * platform's REST routes: one change request's state, whether a branch exists, the open ones for
 * prune, and the note store `syncNote` keeps the preview note in. The adapters keep only what
 * differs: URLs, auth headers, field names, state words, and their pagination.
 */
import { z } from 'zod';
import { requestJson, type HttpDeps, type JsonRequest } from './http.js';
import type { NoteStore, StoredNote } from './note.js';
import { PlatformApiError, type ChangeRequestState } from '../index.js';

/** What the job runner asks of a platform's API (job.ts); present when a platform token allows it. */
export interface ChangeRequestApi {
  /** The core's ChangeRequests port: open, closed or unknown; throws PlatformApiError when the call fails. */
  state(number: number): Promise<ChangeRequestState>;
  /** The same port's question for branch previews: false only on 404 (deleted). */
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

function isNotFound(error: unknown): boolean {
  return error instanceof PlatformApiError && error.status === 404;
}

/**
 * The port from a platform's routes. Every call goes through `requestJson` (the job's deadline,
 * the one retry policy, errors that name the operation and never a header).
 */
export function changeRequestApi(routes: ChangeRequestRoutes, deps: HttpDeps): ChangeRequestApi {
  const { words } = routes;
  const send = <T>(request: Omit<JsonRequest<T>, 'headers'>) =>
    requestJson({ ...request, headers: routes.headers }, deps);
  return {
    state: async (number) => {
      const { state } = (
        await send({
          operation: `get ${words.changeRequest} ${words.prefix}${number}`,
          url: routes.changeRequestUrl(number),
          schema: withState,
        })
      ).data;
      if (routes.states.open.includes(state)) return 'open';
      if (routes.states.closed.includes(state)) return 'closed';
      return 'unknown';
    },
    branchExists: async (name) => {
      try {
        await send({ operation: `get branch "${name}"`, url: routes.branchUrl(name), schema: branch });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    listOpen: () => routes.listOpen(),
    notes: (number) => ({
      list: () => routes.listNotes(number),
      create: async (text) =>
        (
          await send({
            operation: `create the preview ${words.note}`,
            method: 'POST',
            url: routes.notesUrl(number),
            body: routes.noteBody(text),
            schema: withId,
          })
        ).data.id,
      // False on 404: another run deleted it.
      update: async (id, text) => {
        try {
          await send({
            operation: `update the preview ${words.note}`,
            method: 'PUT',
            url: routes.noteUrl(number, id),
            body: routes.noteBody(text),
            schema: withId,
          });
          return true;
        } catch (error) {
          if (isNotFound(error)) return false;
          throw error;
        }
      },
      // A note already gone counts as removed.
      remove: async (id) => {
        try {
          await send({
            operation: `delete a duplicate preview ${words.note}`,
            method: 'DELETE',
            url: routes.noteUrl(number, id),
            schema: anyBody,
          });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      },
    }),
  };
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
