/**
 * The two Bitbucket Cloud REST 2.0 features the pipe uses, with the user's ACCESS_TOKEN:
 * - which pull requests are still OPEN, for prune (Bitbucket Pipelines has no trigger for a
 *   declined or merged PR, so a scheduled pipeline asks instead);
 * - one pull request's state, for the core's ChangeRequests port (a deploy stops when its PR was
 *   declined or merged meanwhile; prune asks again right before each deletion);
 * - whether a branch still exists, the same port's question for branch previews;
 * - the comments of a PR (list, create, edit, delete), through which the core's `syncNote` keeps
 *   one preview comment per PR.
 *
 * Auth: a repository, project or workspace access token is sent as a Bearer token. With
 * ACCESS_TOKEN_USERNAME set, the pair is sent as Basic auth instead (an Atlassian API token with
 * the account's email, or a legacy app password with the username).
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

export const NOTE_STYLE: NoteMarkerStyle = 'link-reference';

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
const comment = z.object({ id: z.number().int() });
const pullRequest = z.object({ id: z.number().int(), state: z.string() });
const branch = z.object({ name: z.string() });

export interface BitbucketApiOptions {
  apiUrl: string;
  workspace: string;
  repoSlug: string;
  token: string;
  username?: string | undefined;
}

export class BitbucketApi {
  private readonly origin: string;

  constructor(
    private readonly options: BitbucketApiOptions,
    private readonly deps: HttpDeps,
  ) {
    this.origin = new URL(options.apiUrl).origin;
  }

  private repoUrl(path: string): string {
    const { apiUrl, workspace, repoSlug } = this.options;
    return `${apiUrl}/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(repoSlug)}${path}`;
  }

  private get headers(): Record<string, string> {
    const { token, username } = this.options;
    const authorization = username
      ? `Basic ${Buffer.from(`${username}:${token}`, 'utf8').toString('base64')}`
      : `Bearer ${token}`;
    return { authorization };
  }

  /** Follows `next` links, but only on the API's own origin: the token goes nowhere else. */
  private async *pages<T>(
    operation: string,
    firstUrl: string,
    schema: z.ZodType<{ values: T[]; next?: string | undefined }>,
  ): AsyncGenerator<T[]> {
    let url: string | undefined = firstUrl;
    for (let count = 0; url !== undefined; count++) {
      if (count >= MAX_PAGES)
        throw new PlatformApiError(
          operation,
          undefined,
          `${operation}: more than ${MAX_PAGES} pages; giving up.`,
        );
      if (new URL(url).origin !== this.origin) {
        throw new PlatformApiError(
          operation,
          undefined,
          `${operation}: the next page points to another host (${new URL(url).origin}); not following it.`,
        );
      }
      const page: { values: T[]; next?: string | undefined } = (
        await requestJson({ operation, url, headers: this.headers, schema }, this.deps)
      ).data;
      yield page.values;
      url = page.next;
    }
  }

  async listOpenPullRequestIds(): Promise<number[]> {
    const ids: number[] = [];
    const first = this.repoUrl(
      `/pullrequests?state=OPEN&pagelen=${PAGE_LENGTH}&fields=${encodeURIComponent('values.id,values.state,next')}`,
    );
    for await (const page of this.pages('list open pull requests', first, pullRequestPage)) {
      ids.push(...page.filter((pr) => pr.state === undefined || pr.state === 'OPEN').map((pr) => pr.id));
    }
    return ids;
  }

  /**
   * GET /repositories/{workspace}/{repo_slug}/pullrequests/{id}
   * (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/): `OPEN` is open;
   * `MERGED`, `DECLINED` and `SUPERSEDED` are closed; any other state is unknown. Throws
   * PlatformApiError when the call fails.
   */
  async pullRequestState(id: number): Promise<ChangeRequestState> {
    const response = await requestJson(
      {
        operation: `get pull request #${id}`,
        url: this.repoUrl(`/pullrequests/${id}?fields=${encodeURIComponent('id,state')}`),
        headers: this.headers,
        schema: pullRequest,
      },
      this.deps,
    );
    const { state } = response.data;
    if (state === 'OPEN') return 'open';
    if (state === 'MERGED' || state === 'DECLINED' || state === 'SUPERSEDED') return 'closed';
    return 'unknown';
  }

  /**
   * GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}
   * (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-refs/): the core's
   * `branchExists` for branch previews. 404 is the one answer that means deleted; any other
   * failure throws PlatformApiError (the core warns and treats the branch as existing). The name
   * is URL-encoded (it may hold `/`).
   */
  async branchExists(name: string): Promise<boolean> {
    try {
      await requestJson(
        {
          operation: `get branch "${name}"`,
          url: this.repoUrl(`/refs/branches/${encodeURIComponent(name)}?fields=name`),
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
   * The PR's comments as `syncNote` uses them: every comment not deleted (Bitbucket keeps a
   * deleted comment that has replies, flagged `deleted`), create, edit (false on 404: another
   * step deleted it), delete (a comment already gone counts as deleted).
   * https://developer.atlassian.com/cloud/bitbucket/rest/api-group-pullrequests/
   */
  pullRequestComments(pullRequestId: number): NoteStore {
    const base = `/pullrequests/${pullRequestId}/comments`;
    const notFound = (error: unknown) => error instanceof PlatformApiError && error.status === 404;
    return {
      list: async () => {
        const all: StoredNote[] = [];
        for await (const page of this.pages(
          'list pull request comments',
          this.repoUrl(`${base}?pagelen=100`),
          commentPage,
        )) {
          for (const c of page) if (!c.deleted) all.push({ id: c.id, body: c.content.raw ?? '' });
        }
        return all;
      },
      create: async (raw) =>
        (
          await requestJson(
            {
              operation: 'create the preview comment',
              method: 'POST',
              url: this.repoUrl(base),
              headers: this.headers,
              body: { content: { raw } },
              schema: comment,
            },
            this.deps,
          )
        ).data.id,
      update: async (id, raw) => {
        try {
          await requestJson(
            {
              operation: 'update the preview comment',
              method: 'PUT',
              url: this.repoUrl(`${base}/${id}`),
              headers: this.headers,
              body: { content: { raw } },
              schema: comment,
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
              operation: 'delete a duplicate preview comment',
              method: 'DELETE',
              url: this.repoUrl(`${base}/${id}`),
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
