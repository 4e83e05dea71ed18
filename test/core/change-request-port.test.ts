/**
 * shared/ci/change-request-api.ts changeRequestPort, the rules every platform's change-request API
 * shares: the platform's state words, and a 404 read as an answer (a deleted branch, a note another
 * run removed) while every other failure is passed on. The platforms' own routes are covered by
 * their API tests and the process-level suites.
 */
import { describe, expect, it } from 'vitest';
import { PlatformApiError } from '../../shared/index.js';
import { changeRequestPort, type ChangeRequestCalls } from '../../shared/ci/change-request-api.js';

const refused = (status: number) => new PlatformApiError('call', status, `HTTP ${status}`);

/** Calls that answer as a platform would, with every write recorded and `fail` thrown where set. */
function platform(
  fail: Partial<Record<'getBranch' | 'getRepository' | 'updateNote' | 'deleteNote', Error>> = {},
) {
  const writes: string[] = [];
  const calls: ChangeRequestCalls = {
    states: { open: ['opened', 'locked'], closed: ['closed', 'merged'] },
    state: (number) => Promise.resolve(['opened', 'locked', 'merged', 'draft'][number] ?? 'closed'),
    getBranch: (name) => (fail.getBranch ? Promise.reject(fail.getBranch) : Promise.resolve({ name })),
    getRepository: () =>
      fail.getRepository ? Promise.reject(fail.getRepository) : Promise.resolve({ name: 'shop' }),
    listOpen: () => Promise.resolve([1, 2]),
    listNotes: (number) => Promise.resolve([{ id: number * 10, body: 'note' }]),
    createNote: (number, text) => {
      writes.push(`create ${number} ${text}`);
      return Promise.resolve(99);
    },
    updateNote: (number, id, text) => {
      writes.push(`update ${number}/${id} ${text}`);
      return fail.updateNote ? Promise.reject(fail.updateNote) : Promise.resolve({ id });
    },
    deleteNote: (number, id) => {
      writes.push(`delete ${number}/${id}`);
      return fail.deleteNote ? Promise.reject(fail.deleteNote) : Promise.resolve(undefined);
    },
  };
  return { port: changeRequestPort(calls), writes };
}

describe('changeRequestPort', () => {
  it('reads state words by the platform lists; a word in neither is unknown', async () => {
    const { port } = platform();
    expect(await Promise.all([0, 1, 2, 3, 4].map((n) => port.state(n)))).toEqual([
      'open',
      'open',
      'closed',
      'unknown',
      'closed',
    ]);
  });

  it('a branch exists unless the platform answers 404; other failures are thrown', async () => {
    expect(await platform().port.branchExists('feature')).toBe(true);
    expect(await platform({ getBranch: refused(404) }).port.branchExists('gone')).toBe(false);
    await expect(platform({ getBranch: refused(403) }).port.branchExists('x')).rejects.toThrow('HTTP 403');
    await expect(platform({ getBranch: new Error('socket hang up') }).port.branchExists('x')).rejects.toThrow(
      'socket hang up',
    );
  });

  it('a branch 404 is not "deleted" when the repository itself is not there for the token', async () => {
    // GitLab, Bitbucket and GitHub answer 404 to a token that cannot see the repository: a preview
    // must not be torn down for that.
    const hidden = platform({ getBranch: refused(404), getRepository: refused(404) });
    await expect(hidden.port.branchExists('feature')).rejects.toThrow('HTTP 404');
    const failing = platform({ getBranch: refused(404), getRepository: refused(503) });
    await expect(failing.port.branchExists('feature')).rejects.toThrow('HTTP 503');
  });

  it('passes lists and creates through to the platform', async () => {
    const { port, writes } = platform();
    expect(await port.listOpen()).toEqual([1, 2]);
    expect(await port.notes(4).list()).toEqual([{ id: 40, body: 'note' }]);
    expect(await port.notes(4).create('hello')).toBe(99);
    expect(writes).toEqual(['create 4 hello']);
  });

  it('an update of a note deleted meanwhile (404) is false, not an error; other failures are thrown', async () => {
    const ok = platform();
    expect(await ok.port.notes(4).update(40, 'v2')).toBe(true);
    expect(ok.writes).toEqual(['update 4/40 v2']);
    expect(
      await platform({ updateNote: refused(404) })
        .port.notes(4)
        .update(40, 'v2'),
    ).toBe(false);
    await expect(
      platform({ updateNote: refused(500) })
        .port.notes(4)
        .update(40, 'v2'),
    ).rejects.toThrow('HTTP 500');
  });

  it('removing a note already gone (404) counts as removed; other failures are thrown', async () => {
    const gone = platform({ deleteNote: refused(404) });
    await expect(gone.port.notes(4).remove(40)).resolves.toBeUndefined();
    expect(gone.writes).toEqual(['delete 4/40']);
    await expect(
      platform({ deleteNote: refused(401) })
        .port.notes(4)
        .remove(40),
    ).rejects.toThrow('HTTP 401');
  });
});
