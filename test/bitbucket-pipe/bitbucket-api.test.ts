/**
 * bitbucket-pipe/src/bitbucket-api.ts (Bitbucket's routes for shared/ci/change-request-api.ts) against the Bitbucket API double, in process: `next` pages,
 * the token never sent to another host, the PR comment edited in place, Basic auth.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bitbucketApi } from '../../bitbucket-pipe/src/bitbucket-api.js';
import type { ChangeRequestApi } from '../../shared/ci/index.js';
import {
  startBitbucketDouble,
  type BitbucketDouble,
  type BitbucketDoubleOptions,
} from '../doubles/bitbucket-double.js';

const TOKEN = 'bb-unit-test-token-0000';
let double: BitbucketDouble | undefined;

afterEach(async () => {
  await double?.close();
  double = undefined;
});

async function api(
  options: Partial<BitbucketDoubleOptions> = {},
  username?: string,
): Promise<ChangeRequestApi> {
  double = await startBitbucketDouble({ token: TOKEN, workspace: 'acme', repoSlug: 'shop', ...options });
  return bitbucketApi(
    { apiUrl: `${double.url}/2.0`, workspace: 'acme', repoSlug: 'shop', token: TOKEN, username },
    { sleep: () => Promise.resolve() },
  );
}

describe('BitbucketApi', () => {
  it('follows `next` until the last page and keeps only OPEN pull requests', async () => {
    const bitbucket = await api({
      maxPageLength: 2,
      pullRequests: [1, 2, 3, 4, 5].map((id) => ({ id, state: id === 2 ? 'DECLINED' : 'OPEN' })),
    });
    expect(await bitbucket.listOpen()).toEqual([1, 3, 4, 5]);
    expect(double?.calls.map((c) => c.query.page ?? '1')).toEqual(['1', '2']);
    expect(double?.calls[0]?.query).toMatchObject({ state: 'OPEN', pagelen: '50' });
  });

  it('does not send the token to a `next` link on another host', async () => {
    const bitbucket = await api();
    double?.failNext(
      { method: 'GET' },
      {
        status: 200,
        body: {
          values: [{ id: 1 }],
          next: 'http://198.51.100.9/2.0/repositories/acme/shop/pullrequests?page=2',
        },
      },
    );
    await expect(bitbucket.listOpen()).rejects.toThrow(/points to another host.*not following/);
    expect(double?.calls).toHaveLength(1);
  });

  it('lists, creates, edits and deletes PR comments, skipping deleted ones; a comment already gone is not an error', async () => {
    const bitbucket = await api(
      { username: 'ci@example.com', pullRequests: [{ id: 7, state: 'OPEN' }] },
      'ci@example.com',
    );
    const comments = bitbucket.notes(7);
    expect(await comments.list()).toEqual([]);
    const first = await comments.create('one');
    const second = await comments.create('two');
    expect(second).toBeGreaterThan(first);
    expect(await comments.update(first, 'one, edited')).toBe(true);
    await comments.remove(second);
    await comments.remove(second);
    expect(await comments.update(second, 'gone')).toBe(false);
    expect(await comments.list()).toEqual([{ id: first, body: 'one, edited' }]);
    expect(double?.calls.every((c) => c.authorized)).toBe(true);
  });

  it('refuses Bearer auth where the double expects Basic (and the reverse), naming the status', async () => {
    double = await startBitbucketDouble({
      token: TOKEN,
      username: 'ci@example.com',
      workspace: 'acme',
      repoSlug: 'shop',
    });
    const bearer = bitbucketApi(
      { apiUrl: `${double.url}/2.0`, workspace: 'acme', repoSlug: 'shop', token: TOKEN },
      { sleep: () => Promise.resolve() },
    );
    await expect(bearer.listOpen()).rejects.toThrow(/HTTP 401/);
  });
});
