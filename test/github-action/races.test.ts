/**
 * Races between a pull request's runs and its close (issue 9, cases 2 and 3), run as the GitHub
 * runner runs them: the built action as separate processes, the Codesphere emulator with a latency
 * fault, and the GitHub API double whose pull requests the test opens and closes at the right moment.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { backdateWorkspaces, createWorkspace } from '../doubles/fixture.js';
import {
  assertNoSecretLeaks,
  describeRun,
  runPullRequest,
  startFixtureEmulator,
  startGitHubDouble,
  waitFor,
  type GitHubDouble,
} from './fixture.js';
import { DEMO_TOKEN, runAction } from './harness.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { CLONE_URL, pushPayload, schedulePayload } from './payloads.js';

let emulator: RunningEmulator;
let github: GitHubDouble;

beforeAll(async () => {
  emulator = await startFixtureEmulator();
  warmUpGitHubValidation();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  github = await startGitHubDouble({ token: undefined });
});
afterEach(async () => {
  expect(github.unhandled, 'GitHub calls the double does not know').toEqual([]);
  expect(validateGitHubCalls(github.calls), 'GitHub calls against @octokit/openapi').toEqual([]);
  expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
  await github.close();
});

/**
 * How long the deploy's `POST /workspaces` takes: the issue's 4.5 s plus room for a loaded test
 * machine, so that the close run (process start, sign-in, its look and 3 s of re-checks) is
 * over before the create lands, which is the interleaving that kept the preview.
 */
const CREATE_LATENCY_MS = 8_000;

const names = () =>
  emulator
    .state()
    .workspaces.map((w) => w.name)
    .sort();

describe('a pull request closed while its deploy runs', () => {
  it('leaves no workspace, no "ready" comment and no active deployment when the close lands during a slow create', async () => {
    github.openPull(11);
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runPullRequest({ emulator, github }, { action: 'opened', number: 11 });
    // The create is in flight once the emulator took its latency fault; then the PR closes and its
    // close run starts, finishing its re-checks before the create lands.
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    github.closePull(11);
    const closed = await runPullRequest({ emulator, github }, { action: 'closed', number: 11 });
    expect(closed.code, describeRun(closed)).toBe(0);
    expect(closed.outputs['result']).toBe('nothing-to-delete');
    const deployed = await deploying;
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(deployed.outputs['result']).toBe('cancelled');
    expect(deployed.stdout).toMatch(
      /::notice::Pull request #11 was closed while this deploy ran: deleted its workspace "shop-#11" \(id \d+\)/,
    );
    expect(names()).toEqual([]);
    const comments = github.comments.filter((c) => c.issue === 11);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).not.toContain('✅ Preview');
    expect(comments[0]?.body).toContain('🗑️ Preview deleted');
    for (const deployment of github.deployments) {
      expect(deployment.statuses.at(-1)?.state, `deployment ${deployment.id}`).toBe('inactive');
    }
  }, 60_000);

  it('creates nothing when the pull request is already closed (its close run went first)', async () => {
    github.closePull(11);
    const run = await runPullRequest({ emulator, github }, { action: 'synchronize', number: 11 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.outputs['result']).toBe('cancelled');
    expect(run.stdout).toContain(
      '::notice::Pull request #11 is closed: nothing deployed, no workspace "shop-#11" exists.',
    );
    expect(emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces')).toEqual(
      [],
    );
  }, 60_000);
});

describe('prune while pull requests open', () => {
  it('keeps the preview of a PR opened while the open list was on its way, and of one reopened', async () => {
    await createWorkspace(emulator, 'shop-#18'); // closed: prune's to delete
    await createWorkspace(emulator, 'shop-#20'); // closed when the list is read, reopened before deletion
    backdateWorkspaces(emulator);
    github.closePull(18);
    github.closePull(20);
    let release = (): void => {};
    github.listDelay = new Promise<void>((resolve) => (release = resolve));
    const pruning = runAction({
      eventName: 'schedule',
      payload: schedulePayload(),
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team' },
    });
    await waitFor(
      () => (github.calls.some((c) => c.method === 'GET' && c.path.endsWith('/pulls')) ? true : undefined),
      'the open-PR list request',
      20_000,
    );
    // While the list (read without them) is on its way: #19 opens and deploys, #20 is reopened.
    github.openPull(19);
    github.openPull(20);
    const deployed = await runPullRequest({ emulator, github }, { action: 'opened', number: 19 });
    expect(deployed.code, describeRun(deployed)).toBe(0);
    release();
    const pruned = await pruning;
    assertNoSecretLeaks(pruned, github);

    expect(pruned.code, describeRun(pruned)).toBe(0);
    expect(names()).toEqual(['shop-#19', 'shop-#20']);
    expect(JSON.parse(pruned.outputs['pruned'] ?? '[]')).toEqual(['shop-#18']);
    expect(pruned.stdout).toMatch(/Keeping "shop-#19" .*created .*less than 10 minutes before/);
    expect(pruned.stdout).toMatch(/Keeping "shop-#20" .*pull request #20 is open again/);
  }, 60_000);
});

describe('a pull request closed while its deploy runs, and the deploy then fails', () => {
  it('leaves no workspace when the create lands after the close and the pipeline then fails', async () => {
    github.openPull(12);
    await fetch(`${emulator.url}/_emulator/pipeline-failures`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stages: ['prepare'] }),
    });
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runPullRequest({ emulator, github }, { action: 'opened', number: 12 });
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    github.closePull(12);
    const closed = await runPullRequest({ emulator, github }, { action: 'closed', number: 12 });
    expect(closed.code, describeRun(closed)).toBe(0);
    const deployed = await deploying;
    // The close was the last thing asked: whatever the deploy's own failure, no workspace remains.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(deployed.outputs['result']).toBe('cancelled');
    expect(deployed.stdout).toMatch(
      /::notice::Pull request #12 was closed while this deploy ran \(the deploy failed too\): deleted its workspace "shop-#12"/,
    );
    const comments = github.comments.filter((c) => c.issue === 12);
    expect(comments.map((c) => c.body).join('\n')).not.toContain('is left in place');
  }, 60_000);
});

// Prune never touches branch previews, so a create landing after the deleting push's teardown would
// survive for good: the deploy asks GitHub whether its branch still exists (repos.getBranch).
describe('a branch deleted while its branch preview deploys', () => {
  it('leaves no workspace when the deleting push lands during a slow create', async () => {
    const commit = emulator.world.push(CLONE_URL, 'hotfix/x');
    const branchRun = (payload: object) =>
      runAction({
        eventName: 'push',
        payload,
        githubApiUrl: github.url,
        inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
      });
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = branchRun(pushPayload('hotfix/x', commit));
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    github.deletedBranches.add('hotfix/x');
    const deleted = await branchRun(pushPayload('hotfix/x', commit, { deleted: true }));
    expect(deleted.code, describeRun(deleted)).toBe(0);
    const deployed = await deploying;
    // Prune never touches branch previews: whatever survives here survives for good.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(deployed.outputs['result']).toBe('cancelled');
    expect(deployed.stdout).toMatch(
      /::notice::Branch "hotfix\/x" was deleted while this deploy ran: deleted its workspace "shop-hotfix-x-[a-z]{10}"/,
    );
  }, 60_000);
});
