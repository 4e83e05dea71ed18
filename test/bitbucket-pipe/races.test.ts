/**
 * Races between a pull request's pipe runs and its close (issue 9, cases 2 and 3), run as
 * Bitbucket Pipelines runs them: the built pipe as separate processes, the Codesphere emulator
 * with a latency fault, and the Bitbucket API double whose pull requests the test opens,
 * declines and merges at the right moment.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  backdateWorkspaces,
  createWorkspace,
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  waitFor,
  workspaces,
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
  lastLine,
  type BitbucketStep,
  type EntryRun,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN];

let emulator: RunningEmulator;
let bitbucket: BitbucketDouble;
const dirs: Array<{ dir: string; remove(): void }> = [];

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
  });
});
afterEach(async () => {
  expectCleanCalls(emulator, bitbucket, 'Bitbucket');
  await bitbucket.close();
  for (const d of dirs.splice(0)) d.remove();
});

/** Each step in its own clone directory, as concurrent pipelines are. */
function runStep(
  shape: Omit<BitbucketStep, 'apiUrl'>,
  extra: Record<string, string> = {},
): Promise<EntryRun> {
  const step = jobDirectory('bitbucket-race');
  dirs.push(step);
  const env = {
    ...bitbucketStepEnv({ ...shape, apiUrl: bitbucket.url }, step.dir),
    ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN, extra),
  };
  return runCheckedEntry(bitbucketEntry, env, { dir: step.dir, double: bitbucket, secrets: SECRETS });
}

/**
 * How long the deploy's `POST /workspaces` takes: the 4.5 s plus room for a loaded test
 * machine, so that the close run (process start, sign-in, its look and 3 s of re-checks) is
 * over before the create lands, which is the interleaving that kept the preview.
 */
const CREATE_LATENCY_MS = 8_000;

const names = () =>
  workspaces(emulator)
    .map((w) => w.name)
    .sort();

describe('a pull request declined while its deploy runs', () => {
  it('leaves no workspace when the create lands after the decline and the pipeline then fails', async () => {
    bitbucket.setState(12, 'OPEN');
    await fetch(`${emulator.url}/_emulator/pipeline-failures`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stages: ['prepare'] }),
    });
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runStep({ pullRequestId: 12 });
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    bitbucket.setState(12, 'DECLINED');
    const tornDown = await runStep({ pullRequestId: 12 }, { ACTION: 'teardown' });
    expect(tornDown.code, describeRun(tornDown)).toBe(0);
    const deployed = await deploying;
    // Failed or not, the deploy of a declined pull request leaves no workspace behind.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Pull request #12 was closed while this deploy ran \(the deploy failed too\): deleted its workspace "shop-pr-12"/,
    );
  }, 60_000);

  it('leaves no workspace and no "deployed" comment when the decline lands during a slow create', async () => {
    bitbucket.setState(11, 'OPEN');
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runStep({ pullRequestId: 11 });
    // The create is in flight once the emulator took its latency fault; then the PR is declined and
    // its teardown step runs, finishing its re-checks before the create lands.
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    bitbucket.setState(11, 'DECLINED');
    const tornDown = await runStep({ pullRequestId: 11 }, { ACTION: 'teardown' });
    expect(tornDown.code, describeRun(tornDown)).toBe(0);
    expect(lastLine(tornDown)).toBe('✔ Nothing to delete: no workspace shop-pr-11');
    const deployed = await deploying;
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Pull request #11 was closed while this deploy ran: deleted its workspace "shop-pr-11" \(id \d+\)/,
    );
    expect(names()).toEqual([]);
    const comments = bitbucket.comments.get(11) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.content.raw).not.toContain('Preview deployed');
    expect(comments[0]?.content.raw).toMatch(/Preview (deleted|already gone)/);
  }, 60_000);
});

describe('prune while pull requests open', () => {
  it('keeps the preview of a PR opened while the open list was on its way, and of one reopened', async () => {
    await createWorkspace(emulator, 'shop-pr-18'); // merged: prune's to delete
    await createWorkspace(emulator, 'shop-pr-20'); // declined when the list is read, open again before deletion
    backdateWorkspaces(emulator);
    bitbucket.setState(18, 'MERGED');
    bitbucket.setState(20, 'DECLINED');
    let release = (): void => {};
    bitbucket.delayNext(
      { method: 'GET', pathIncludes: '/pullrequests' },
      new Promise<void>((resolve) => (release = resolve)),
    );
    const pruning = runStep({ branch: 'main' }, { ACTION: 'prune' });
    await waitFor(
      () => (bitbucket.calls.some((c) => c.path.endsWith('/pullrequests')) ? true : undefined),
      'the open-PR list request',
      20_000,
    );
    // While the list (read without them) is on its way: #19 opens and deploys, #20 is open again.
    bitbucket.setState(19, 'OPEN');
    bitbucket.setState(20, 'OPEN');
    const deployed = await runStep({ pullRequestId: 19 });
    expect(deployed.code, describeRun(deployed)).toBe(0);
    release();
    const pruned = await pruning;

    expect(pruned.code, describeRun(pruned)).toBe(0);
    expect(names()).toEqual(['shop-pr-19', 'shop-pr-20']);
    expect(pruned.text).toMatch(/Keeping "shop-pr-19" .*created .*less than 10 minutes before/);
    expect(pruned.text).toMatch(/Keeping "shop-pr-20" .*pull request #20 is open again/);
    expect(lastLine(pruned)).toMatch(/^✔ Pruned 1 preview/);
  }, 60_000);
});

// Prune never touches branch previews and Bitbucket runs nothing when a branch is deleted, so a
// create landing after the deletion would survive for good: the deploy asks Bitbucket whether its
// branch still exists (GET /repositories/{workspace}/{repo}/refs/branches/{name}, URL-encoded).
describe('a branch deleted while its branch preview deploys', () => {
  it('leaves no workspace when the branch is deleted during a slow create', async () => {
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runStep({ branch: 'hotfix/x' });
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    bitbucket.deletedBranches.add('hotfix/x');
    const deployed = await deploying;
    // Prune never touches branch previews: whatever survives here survives for good.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Branch "hotfix\/x" was deleted while this deploy ran: deleted its workspace "shop-hotfix-x-[a-z]{10}" \(id \d+\)/,
    );
  }, 60_000);
});
