/**
 * The two Bitbucket Cloud REST 2.0 features the pipe uses, with the user's ACCESS_TOKEN:
 * - which pull requests are still OPEN, for prune (Bitbucket Pipelines has no trigger for a
 *   declined or merged PR, so a scheduled pipeline asks instead);
 * - one pull request's state, for the core's ChangeRequests port (a deploy stops when its PR was
 *   declined or merged meanwhile; prune asks again right before each deletion);
 * - one preview comment per PR, found by its marker and edited in place.
 *
 * Auth: a repository, project or workspace access token is sent as a Bearer token. With
 * ACCESS_TOKEN_USERNAME set, the pair is sent as Basic auth instead (an Atlassian API token with
 * the account's email, or a legacy app password with the username).
 */
import { z } from 'zod';
import { PlatformApiError, requestJson, type HttpDeps } from '../../shared/ci-http.js';
import { isPreviewNote, type NoteMarkerStyle } from '../../shared/ci-note.js';
import type { ChangeRequestState } from '../../shared/deps.js';

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

  /** Creates the PR's preview comment, or rewrites the existing one. */
  async upsertPreviewComment(pullRequestId: number, raw: string): Promise<{ id: number; created: boolean }> {
    const base = `/pullrequests/${pullRequestId}/comments`;
    let existing: number | undefined;
    for await (const page of this.pages(
      'list pull request comments',
      this.repoUrl(`${base}?pagelen=100`),
      commentPage,
    )) {
      existing = page.find((c) => !c.deleted && isPreviewNote(c.content.raw ?? '', NOTE_STYLE))?.id;
      if (existing !== undefined) break;
    }
    const body = { content: { raw } };
    if (existing !== undefined) {
      await requestJson(
        {
          operation: 'update the preview comment',
          method: 'PUT',
          url: this.repoUrl(`${base}/${existing}`),
          headers: this.headers,
          body,
          schema: comment,
        },
        this.deps,
      );
      return { id: existing, created: false };
    }
    const created = await requestJson(
      {
        operation: 'create the preview comment',
        method: 'POST',
        url: this.repoUrl(base),
        headers: this.headers,
        body,
        schema: comment,
      },
      this.deps,
    );
    return { id: created.data.id, created: true };
  }
}
