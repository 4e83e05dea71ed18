/**
 * gitlab-image/src/gitlab-api.ts (GitLab's routes for shared/ci/change-request-api.ts) against the GitLab API double, in process: pagination (and its
 * fail-safe), the MR note found again and edited in place, and errors that carry no token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gitlabApi } from '../../gitlab-image/src/gitlab-api.js';
import type { ChangeRequestApi } from '../../shared/ci/index.js';
import { PlatformApiError } from '../../shared/errors.js';
import { startGitLabDouble, type GitLabDouble, type GitLabDoubleOptions } from '../doubles/gitlab-double.js';

const TOKEN = 'glpat-unit-test-token-000';
let double: GitLabDouble | undefined;

afterEach(async () => {
  await double?.close();
  double = undefined;
});

async function api(options: Partial<GitLabDoubleOptions> = {}, token = TOKEN): Promise<ChangeRequestApi> {
  double = await startGitLabDouble({ token: TOKEN, projectId: 9, projectPath: 'g/p', ...options });
  return gitlabApi(
    { apiV4Url: `${double.url}/api/v4`, projectRef: encodeURIComponent('g/p'), token },
    { sleep: () => Promise.resolve() },
  );
}

describe('GitLabApi', () => {
  it('lists every open MR across pages', async () => {
    const gitlab = await api({
      maxPerPage: 2,
      mergeRequests: [1, 2, 3, 4, 5].map((iid) => ({ iid, state: iid === 3 ? 'merged' : 'opened' })),
    });
    expect(await gitlab.listOpen()).toEqual([1, 2, 4, 5]);
    expect(double?.calls.map((c) => c.query.page)).toEqual(['1', '2']);
  });

  it('refuses a list whose pagination headers are missing instead of treating it as complete', async () => {
    const gitlab = await api({ stripPaginationHeaders: true, mergeRequests: [{ iid: 1, state: 'opened' }] });
    await expect(gitlab.listOpen()).rejects.toThrow(/no x-next-page header.*not guessing/);
  });

  it('lists, creates, edits and deletes MR notes, skipping system notes; a note already gone is not an error', async () => {
    const gitlab = await api({ mergeRequests: [{ iid: 4, state: 'opened' }] });
    const notes = gitlab.notes(4);
    expect(await notes.list()).toEqual([]);
    const first = await notes.create('one');
    const second = await notes.create('two');
    expect(second).toBeGreaterThan(first);
    expect(await notes.update(first, 'one, edited')).toBe(true);
    await notes.remove(second);
    await notes.remove(second);
    expect(await notes.update(second, 'gone')).toBe(false);
    expect(await notes.list()).toEqual([{ id: first, body: 'one, edited' }]);
    expect(double?.userNotes(4).map((n) => n.body)).toEqual(['one, edited']);
  });

  it('fails with the operation and status, never the token', async () => {
    const gitlab = await api({}, 'glpat-wrong-token-1234');
    const error = await gitlab.listOpen().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PlatformApiError);
    expect((error as PlatformApiError).status).toBe(401);
    expect((error as Error).message).toMatch(
      /^list open merge requests failed \(GET http:\/\/127\.0\.0\.1:\d+\/api\/v4\/projects\/g%2Fp\/merge_requests\): HTTP 401/,
    );
    expect((error as Error).message).not.toContain('glpat-wrong-token-1234');
  });

  it('retries a 503 on a GET', async () => {
    const gitlab = await api({ mergeRequests: [{ iid: 1, state: 'opened' }] });
    double?.failNext({ method: 'GET' }, { status: 503, body: { message: 'busy' } }, 2);
    expect(await gitlab.listOpen()).toEqual([1]);
    expect(double?.calls.map((c) => c.status)).toEqual([503, 503, 200]);
  });
});
