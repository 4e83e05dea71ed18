/**
 * Concurrent pipelines of one pull request (issue 9, case 6), with the built pipe as separate
 * processes against the emulator and the Bitbucket API double (whose comment list/create are not
 * atomic, like Bitbucket's): one comment per pull request whatever the concurrency, and the
 * comment never goes back to a commit older than one a pipeline already reported. Pipelines are
 * ordered by BITBUCKET_BUILD_NUMBER.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaceNamed,
} from '../doubles/fixture.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  type BitbucketStep,
  type EntryRun,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN];
const CLONE_URL = `https://bitbucket.org/${BITBUCKET_REPO.workspace}/${BITBUCKET_REPO.slug}.git`;

let emulator: RunningEmulator;
let bitbucket: BitbucketDouble;
const directories: Array<{ remove(): void }> = [];

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  bitbucket = await startBitbucketDouble({
    token: BITBUCKET_ACCESS_TOKEN,
    workspace: BITBUCKET_REPO.workspace,
    repoSlug: BITBUCKET_REPO.slug,
    pullRequests: [7, 8, 9].map((id) => ({ id, state: 'OPEN' as const })),
  });
});
afterEach(async () => {
  expectCleanCalls(emulator, bitbucket, 'Bitbucket');
  await bitbucket.close();
  for (const dir of directories.splice(0)) dir.remove();
});

/** A commit whose 12-character short form (what the comment shows) differs for every n. */
const commit = (n: number) => `${n.toString(16).padStart(12, '0')}${'a'.repeat(28)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The comments a reader sees (Bitbucket keeps deleted ones with replies as `deleted`). */
const comments = (id: number) => (bitbucket.comments.get(id) ?? []).filter((c) => !c.deleted);

/** One step in its own clone directory, as on separate runners. */
function runStep(
  shape: Omit<BitbucketStep, 'apiUrl'>,
  extra: Record<string, string> = {},
): Promise<EntryRun> {
  const step = jobDirectory('bitbucket-concurrent');
  directories.push(step);
  const env = {
    ...bitbucketStepEnv({ ...shape, apiUrl: bitbucket.url }, step.dir),
    ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN, extra),
  };
  return runCheckedEntry(bitbucketEntry, env, { dir: step.dir, double: bitbucket, secrets: SECRETS });
}

describe('concurrent pipelines of one pull request', () => {
  it('six concurrent deploys leave one comment', async () => {
    // The worst interleaving: every step lists the comments before any step creates one.
    bitbucket.gate({ method: 'GET', pathIncludes: '/pullrequests/7/comments' }, 6);
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runStep({ pullRequestId: 7, commit: commit(7), buildNumber: 401 + i }),
      ),
    );
    for (const run of runs) expect(run.code, describeRun(run)).toBe(0);
    expect(emulator.state().workspaces.map((w) => w.name)).toEqual(['shop-pr-7']);
    expect(comments(7), JSON.stringify(comments(7), null, 2)).toHaveLength(1);
  });

  it('five concurrent pushes finishing in scrambled order: the comment names the newest commit', async () => {
    for (let n = 1; n <= 5; n++) emulator.world.push(CLONE_URL, 'feature-8', commit(n));
    // Push n is build 500 + n; the newest starts first, the oldest last.
    const runs: Array<Promise<EntryRun>> = [];
    for (const n of [5, 2, 4, 1, 3]) {
      runs.push(runStep({ pullRequestId: 8, commit: commit(n), buildNumber: 500 + n }));
      await sleep(250);
    }
    for (const run of await Promise.all(runs)) expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(emulator, 'shop-pr-8')?.git?.commit).toBe(commit(5));
    expect(comments(8)).toHaveLength(1);
    const body = comments(8)[0]?.content.raw ?? '';
    expect(body).toContain(commit(5).slice(0, 12));
    for (const n of [1, 2, 3, 4]) expect(body).not.toContain(commit(n).slice(0, 12));
  });

  it('a late deploy does not overwrite a newer teardown\'s "deleted"; a newer deploy does', async () => {
    expect((await runStep({ pullRequestId: 9, commit: commit(1), buildNumber: 601 })).code).toBe(0);
    const teardown = await runStep({ pullRequestId: 9, buildNumber: 603 }, { ACTION: 'teardown' });
    expect(teardown.code, describeRun(teardown)).toBe(0);
    // Build 602 (a push before the teardown) arrives late. Whether it deploys or stops because the
    // pull request is declined, its comment must not replace the newer "deleted".
    const pr = bitbucket.pullRequests.find((candidate) => candidate.id === 9);
    if (pr) pr.state = 'DECLINED';
    await runStep({ pullRequestId: 9, commit: commit(2), buildNumber: 602 });
    const body = () => comments(9).map((c) => c.content.raw);
    expect(body()).toEqual([expect.stringMatching(/Preview deleted/)]);

    if (pr) pr.state = 'OPEN';
    expect((await runStep({ pullRequestId: 9, commit: commit(4), buildNumber: 604 })).code).toBe(0);
    expect(body()).toEqual([expect.stringContaining(commit(4).slice(0, 12))]);
  });
});
