/**
 * Races between a merge request's runs and its close (issue 9, cases 2 and 3), run as GitLab runs
 * them: the built entry as separate processes, the Codesphere emulator with a latency fault, and
 * the GitLab API double whose merge requests the test opens and closes at the right moment.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  apiRequests,
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
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  lastLine,
  type EntryRun,
  type GitLabJob,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
const dirs: Array<{ dir: string; remove(): void }> = [];

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  gitlab = await startGitLabDouble({
    token: GITLAB_ACCESS_TOKEN,
    projectId: GITLAB_PROJECT.id,
    projectPath: GITLAB_PROJECT.path,
  });
});
afterEach(async () => {
  expectCleanCalls(emulator, gitlab, 'GitLab');
  await gitlab.close();
  for (const d of dirs.splice(0)) d.remove();
});

/** Each job in its own directory, as concurrent GitLab jobs are. */
function runJob(shape: Omit<GitLabJob, 'apiV4Url'>, extra: Record<string, string> = {}): Promise<EntryRun> {
  const job = jobDirectory('gitlab-race');
  dirs.push(job);
  const env = {
    ...gitlabJobEnv({ ...shape, apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
    ...userVariables(emulator, GITLAB_ACCESS_TOKEN, extra),
  };
  return runCheckedEntry(gitlabEntry, env, { dir: job.dir, double: gitlab, secrets: SECRETS });
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

describe('a merge request closed while its deploy runs', () => {
  it('leaves no workspace when the create lands after the close and the pipeline then fails', async () => {
    gitlab.setState(12, 'opened');
    await fetch(`${emulator.url}/_emulator/pipeline-failures`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stages: ['prepare'] }),
    });
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runJob({ mergeRequestIid: 12 });
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    gitlab.setState(12, 'closed');
    const stopped = await runJob({ mergeRequestIid: 12, stop: true });
    expect(stopped.code, describeRun(stopped)).toBe(0);
    const deployed = await deploying;
    // Failed or not, the deploy of a closed merge request leaves no workspace behind.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Merge request !12 was closed while this deploy ran \(the deploy failed too\): deleted its workspace "shop-!12"/,
    );
    expect(
      gitlab
        .userNotes(12)
        .map((n) => n.body)
        .join('\n'),
    ).not.toContain('is left in place');
  }, 60_000);

  it('leaves no workspace and no "deployed" note when the close lands during a slow create', async () => {
    gitlab.setState(11, 'opened');
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runJob({ mergeRequestIid: 11 });
    // The create is in flight once the emulator took its latency fault; then the MR closes and
    // its stop job runs, finishing its re-checks before the create lands.
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    gitlab.setState(11, 'closed');
    const stopped = await runJob({ mergeRequestIid: 11, stop: true });
    expect(stopped.code, describeRun(stopped)).toBe(0);
    expect(lastLine(stopped)).toBe('✔ Nothing to delete: no workspace shop-!11');
    const deployed = await deploying;
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Merge request !11 was closed while this deploy ran: deleted its workspace "shop-!11" \(id \d+\)/,
    );
    expect(names()).toEqual([]);
    const notes = gitlab.userNotes(11);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.body).not.toContain('Preview deployed');
    expect(notes[0]?.body).toMatch(/Preview (deleted|already gone)/);
    // No dotenv report: a later job must not find an environment URL for a preview that is gone.
    expect(dirs.some((d) => existsSync(path.join(d.dir, 'deploy.env')))).toBe(false);
  }, 60_000);

  it('creates nothing when the merge request is already closed (its stop job ran first)', async () => {
    gitlab.setState(11, 'closed');
    const run = await runJob({ mergeRequestIid: 11 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(lastLine(run)).toBe(
      '✔ No preview: Merge request !11 is closed: nothing deployed, no workspace "shop-!11" exists.',
    );
    expect(apiRequests(emulator).filter((e) => e.method === 'POST' && e.path === '/api/workspaces')).toEqual(
      [],
    );
  }, 60_000);
});

describe('prune while merge requests open', () => {
  it('keeps the preview of an MR opened while the open list was on its way, and of one reopened', async () => {
    await createWorkspace(emulator, 'shop-!18'); // closed: prune's to delete
    await createWorkspace(emulator, 'shop-!20'); // closed when the list is read, reopened before deletion
    backdateWorkspaces(emulator);
    gitlab.setState(18, 'closed');
    gitlab.setState(20, 'closed');
    let release = (): void => {};
    gitlab.delayNext(
      { method: 'GET', pathIncludes: '/merge_requests' },
      new Promise<void>((resolve) => (release = resolve)),
    );
    const pruning = runJob({ branch: 'main' }, { ACTION: 'prune' });
    await waitFor(
      () => (gitlab.calls.some((c) => c.path.endsWith('/merge_requests')) ? true : undefined),
      'the open-MR list request',
      20_000,
    );
    // While the list (read without them) is on its way: !19 opens and deploys, !20 is reopened.
    gitlab.setState(19, 'opened');
    gitlab.setState(20, 'opened');
    const deployed = await runJob({ mergeRequestIid: 19 });
    expect(deployed.code, describeRun(deployed)).toBe(0);
    release();
    const pruned = await pruning;

    expect(pruned.code, describeRun(pruned)).toBe(0);
    expect(names()).toEqual(['shop-!19', 'shop-!20']);
    expect(pruned.text).toMatch(/Keeping "shop-!19" .*created .*less than 10 minutes before/);
    expect(pruned.text).toMatch(/Keeping "shop-!20" .*merge request !20 is open again/);
    expect(lastLine(pruned)).toMatch(/^✔ Pruned 1 preview/);
  }, 60_000);
});

// Prune never touches branch previews, so a create landing after the deleted branch's stop job
// would survive for good: the deploy asks GitLab whether its branch still exists
// (GET /projects/:id/repository/branches/:branch, the name URL-encoded).
describe('a branch deleted while its branch preview deploys', () => {
  it('leaves no workspace when the branch is deleted and its stop job runs during a slow create', async () => {
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: CREATE_LATENCY_MS });
    const deploying = runJob({ branch: 'hotfix/x' });
    await waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    gitlab.deletedBranches.add('hotfix/x');
    const stopped = await runJob({ branch: 'hotfix/x', stop: true });
    expect(stopped.code, describeRun(stopped)).toBe(0);
    const deployed = await deploying;
    // Prune never touches branch previews: whatever survives here survives for good.
    expect(names(), describeRun(deployed)).toEqual([]);
    expect(deployed.code, describeRun(deployed)).toBe(0);
    expect(lastLine(deployed)).toMatch(
      /^✔ No preview: Branch "hotfix\/x" was deleted while this deploy ran: deleted its workspace "shop-hotfix-x-[a-z]{10}" \(id \d+\)/,
    );
    expect(dirs.some((d) => existsSync(path.join(d.dir, 'deploy.env')))).toBe(false);
  }, 60_000);
});
