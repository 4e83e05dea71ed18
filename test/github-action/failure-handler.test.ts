/**
 * The one failure handler: whatever the core throws (an Error, a string, a plain object,
 * undefined), the job fails exactly once with a readable, secret-free message. In-process, with
 * the core's entry points replaced, since a thrown non-Error cannot be provoked from outside.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../../github-action/src/main.js';
import type { CoreApi } from '../../shared/ci/index.js';
import { pullRequestPayload } from './payloads.js';
import { DEMO_TOKEN, inputVariable } from './harness.js';

let written: string[];
/** The whole context as one plain object: run() reads nothing else (no process.env stubs). */
let env: Record<string, string>;

beforeEach(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-failure-'));
  const eventPath = path.join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(pullRequestPayload({ action: 'opened', number: 3 })));
  writeFileSync(path.join(dir, 'out'), '');
  env = {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: path.join(dir, 'out'),
    GITHUB_STEP_SUMMARY: '',
  };
  for (const [name, value] of Object.entries({
    apiToken: DEMO_TOKEN,
    team: 'My Team',
    action: 'auto',
    comment: 'true',
    'github-token': '',
  })) {
    env[inputVariable(name)] = value;
  }
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = 0;
});

// The point of these tests: a dependency that rejects with something that is not an Error.
// eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
const rejectWith = <T>(value: unknown): Promise<T> => Promise.reject(value);

const failing = (thrown: unknown): CoreApi => ({
  deploy: () => rejectWith(thrown),
  teardown: () => rejectWith(thrown),
  prune: () => rejectWith(thrown),
});

describe('failJob: any thrown value fails the job exactly once', () => {
  it.each<[string, unknown, string]>([
    ['an Error', new Error('socket hang up'), 'Unexpected Error: socket hang up'],
    ['a string', 'plain string thrown', 'plain string thrown'],
    ['an object', { code: 42 }, '{"code":42}'],
    ['undefined', undefined, 'undefined'],
    ['an Error carrying the token', new Error(`bad token ${DEMO_TOKEN}`), 'bad token ***'],
  ])('%s', async (_name, thrown, expected) => {
    await run({ core: failing(thrown), env });
    const errors = written
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('::error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(expected);
    expect(errors[0]).not.toContain(DEMO_TOKEN);
    expect(process.exitCode).toBe(1);
  });

  it('does not fail when the job succeeds', async () => {
    const jobs: CoreApi = {
      ...failing('unused'),
      deploy: () =>
        Promise.resolve({
          workspaceId: 1,
          name: 'shop-#3',
          url: 'https://1-3000.example.test',
          vpnConfig: null,
          action: 'created' as const,
          changes: [],
          vpnCheck: { status: 'skipped' as const, reason: 'no vpnCheck target was given' },
          timings: {},
        }),
    };
    await run({ core: jobs, env });
    expect(written.join('')).not.toContain('::error');
    expect(process.exitCode ?? 0).toBe(0);
  });
});
