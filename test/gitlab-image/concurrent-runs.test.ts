/**
 * Concurrent pipelines of one merge request (issue 9, case 6), with the built image entry as
 * separate processes against the emulator and the GitLab API double (whose note list/create are
 * not atomic, like GitLab's): one note per merge request whatever the concurrency, and the note
 * never goes back to a commit older than one a pipeline already reported. Pipelines are ordered by
 * CI_PIPELINE_ID; a stop job is newer than the deploy job of its own pipeline.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaceNamed,
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
  type EntryRun,
  type GitLabJob,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];
const CLONE_URL = `${GITLAB_PROJECT.url}.git`;

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
const directories: Array<{ remove(): void }> = [];

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
    mergeRequests: [12, 13, 14].map((iid) => ({ iid, state: 'opened' as const })),
  });
});
afterEach(async () => {
  expectCleanCalls(emulator, gitlab, 'GitLab');
  await gitlab.close();
  for (const dir of directories.splice(0)) dir.remove();
});

/** A commit whose 12-character short form (what the note shows) differs for every n. */
const commit = (n: number) => `${n.toString(16).padStart(12, '0')}${'f'.repeat(28)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One job in its own directory, as on separate runners. */
function runJob(shape: Omit<GitLabJob, 'apiV4Url'>): Promise<EntryRun> {
  const job = jobDirectory('gitlab-concurrent');
  directories.push(job);
  const env = {
    ...gitlabJobEnv({ ...shape, apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
    ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
  };
  return runCheckedEntry(gitlabEntry, env, { dir: job.dir, double: gitlab, secrets: SECRETS });
}

describe('concurrent pipelines of one merge request', () => {
  it('six concurrent deploys leave one note', async () => {
    // The worst interleaving: every job lists the notes before any job creates one.
    gitlab.gate({ method: 'GET', pathIncludes: '/merge_requests/12/notes' }, 6);
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runJob({ mergeRequestIid: 12, sha: commit(12), pipelineId: 80001 + i }),
      ),
    );
    for (const run of runs) expect(run.code, describeRun(run)).toBe(0);
    expect(emulator.state().workspaces.map((w) => w.name)).toEqual(['shop-!12']);
    const notes = gitlab.userNotes(12);
    expect(notes, JSON.stringify(notes, null, 2)).toHaveLength(1);
    expect(notes[0]?.body).toContain('Preview ');
  });

  it('five concurrent pushes finishing in scrambled order: the note names the newest commit', async () => {
    for (let n = 1; n <= 5; n++) emulator.world.push(CLONE_URL, 'feature-13', commit(n));
    // Push n is pipeline 81000 + n; the newest starts first, the oldest last.
    const runs: Array<Promise<EntryRun>> = [];
    for (const n of [5, 2, 4, 1, 3]) {
      runs.push(runJob({ mergeRequestIid: 13, sha: commit(n), pipelineId: 81000 + n }));
      await sleep(250);
    }
    for (const run of await Promise.all(runs)) expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(emulator, 'shop-!13')?.git?.commit).toBe(commit(5));
    const notes = gitlab.userNotes(13);
    expect(notes).toHaveLength(1);
    const body = notes[0]?.body ?? '';
    expect(body).toContain(commit(5).slice(0, 12));
    for (const n of [1, 2, 3, 4]) expect(body).not.toContain(commit(n).slice(0, 12));
  });

  it('a late deploy does not overwrite the stop job\'s "deleted"; a newer pipeline after reopening does', async () => {
    expect((await runJob({ mergeRequestIid: 14, sha: commit(1), pipelineId: 82001 })).code).toBe(0);
    // The MR closes: GitLab runs the stop job of the environment's last deployment's pipeline.
    const stop = await runJob({ mergeRequestIid: 14, stop: true, pipelineId: 82001 });
    expect(stop.code, describeRun(stop)).toBe(0);
    const body = () => gitlab.userNotes(14).map((note) => note.body);
    expect(body()).toEqual([expect.stringMatching(/Preview deleted/)]);

    // A retried deploy job of that same pipeline, then the deploy of an older pipeline, arrive
    // late. Whether they deploy or stop because the MR is closed, their note must not replace
    // the newer "deleted".
    const mr = gitlab.mergeRequests.find((candidate) => candidate.iid === 14);
    if (mr) mr.state = 'closed';
    await runJob({ mergeRequestIid: 14, sha: commit(1), pipelineId: 82001 });
    await runJob({ mergeRequestIid: 14, sha: commit(0), pipelineId: 82000 });
    expect(body()).toEqual([expect.stringMatching(/Preview deleted/)]);

    // Reopened: a new pipeline.
    if (mr) mr.state = 'opened';
    const reopened = await runJob({ mergeRequestIid: 14, sha: commit(3), pipelineId: 82003 });
    expect(reopened.code, describeRun(reopened)).toBe(0);
    expect(body()).toEqual([expect.stringContaining(commit(3).slice(0, 12))]);
    expect(body()[0]).toMatch(/Preview (deployed|updated)/);
  }, 90_000); // five jobs one after the other
});
