/**
 * Concurrent runs of one pull request (issue 9, case 6), with the built action as separate
 * processes against the emulator and the GitHub API double (whose comment list/create are not
 * atomic, like GitHub's): one comment per pull request whatever the concurrency, and neither the
 * comment nor the active deployment goes back to a commit older than one a run already reported.
 * Runs are ordered by GITHUB_RUN_ID (then GITHUB_RUN_ATTEMPT), as the runner sets them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  describeRun,
  runPullRequest,
  startFixtureEmulator,
  startGitHubDouble,
  type GitHubDouble,
} from './fixture.js';
import type { ActionRun } from './harness.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { CLONE_URL, type PullRequestOptions } from './payloads.js';

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
  github.openPulls.push(41, 42, 43);
});
afterEach(async () => {
  expect(github.unhandled, 'GitHub calls the double does not know').toEqual([]);
  expect(validateGitHubCalls(github.calls), 'GitHub calls against @octokit/openapi').toEqual([]);
  expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
  await github.close();
});

/** A commit whose 7-character short form (what the comment shows) differs for every n. */
const commit = (n: number) => `${n.toString(16).padStart(7, '0')}${'e'.repeat(33)}`;

function runAs(runId: number, pr: PullRequestOptions): Promise<ActionRun> {
  return runPullRequest(
    { emulator, github, extra: { extraEnv: { GITHUB_RUN_ID: String(runId), GITHUB_RUN_ATTEMPT: '1' } } },
    pr,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Deployments whose latest status is `success`: what GitHub shows as the environment's active one. */
const activeDeployments = (environment: string) =>
  github.deployments.filter((d) => d.environment === environment && d.statuses.at(-1)?.state === 'success');

describe('concurrent runs of one pull request', () => {
  it('six concurrent deploys post one comment and leave one active deployment', async () => {
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runAs(5001 + i, { action: 'synchronize', number: 41, sha: commit(41) }),
      ),
    );
    for (const run of runs) expect(run.code, describeRun(run)).toBe(0);
    expect(emulator.state().workspaces.map((w) => w.name)).toEqual(['shop-#41']);
    const comments = github.comments.filter((c) => c.issue === 41);
    expect(comments, JSON.stringify(comments, null, 2)).toHaveLength(1);
    expect(comments[0]?.body).toContain('✅ Preview');
    expect(activeDeployments('Codesphere Preview #41')).toHaveLength(1);
  });

  it('five concurrent pushes finishing in scrambled order: the comment and the active deployment name the newest commit', async () => {
    for (let n = 1; n <= 5; n++) emulator.world.push(CLONE_URL, 'feature-42', commit(n));
    // Push n is run 6000 + n. The newest starts first and the oldest last, so they finish roughly
    // in the reverse order of the pushes.
    const runs: Array<Promise<ActionRun>> = [];
    for (const n of [5, 2, 4, 1, 3]) {
      runs.push(runAs(6000 + n, { action: 'synchronize', number: 42, sha: commit(n) }));
      await sleep(250);
    }
    for (const run of await Promise.all(runs)) expect(run.code, describeRun(run)).toBe(0);

    expect(emulator.state().workspaces.find((w) => w.name === 'shop-#42')?.git?.commit).toBe(commit(5));
    const comments = github.comments.filter((c) => c.issue === 42);
    expect(comments).toHaveLength(1);
    const body = comments[0]?.body ?? '';
    expect(body).toContain('✅ Preview');
    expect(body).toContain(commit(5).slice(0, 7));
    for (const n of [1, 2, 3, 4]) expect(body).not.toContain(commit(n).slice(0, 7));
    const active = activeDeployments('Codesphere Preview #42');
    expect(
      active.map((d) => d.sha),
      JSON.stringify(github.deployments.map((d) => [d.sha.slice(0, 7), d.statuses.map((s) => s.state)])),
    ).toEqual([commit(5)]);
  });

  it('a late deploy from before the close does not overwrite "removed"; the reopened pull request is newer again', async () => {
    const opened = await runAs(7001, { action: 'opened', number: 43, sha: commit(1) });
    expect(opened.code, describeRun(opened)).toBe(0);
    github.openPulls.splice(github.openPulls.indexOf(43), 1);
    const closed = await runAs(7003, { action: 'closed', number: 43 });
    expect(closed.code, describeRun(closed)).toBe(0);
    // Run 7002 (a push before the close) reaches GitHub only now. Whether it deploys or stops
    // because the pull request is closed, its comment must not replace the newer "removed".
    await runAs(7002, { action: 'synchronize', number: 43, sha: commit(2) });
    const comment = () => github.comments.filter((c) => c.issue === 43);
    expect(comment()).toHaveLength(1);
    expect(comment()[0]?.body).toContain('Preview deleted');

    github.openPulls.push(43);
    const reopened = await runAs(7004, { action: 'reopened', number: 43, sha: commit(4) });
    expect(reopened.code, describeRun(reopened)).toBe(0);
    expect(comment()).toHaveLength(1);
    expect(comment()[0]?.body).toContain('✅ Preview');
    expect(comment()[0]?.body).toContain(commit(4).slice(0, 7));
    expect(activeDeployments('Codesphere Preview #43').map((d) => d.sha)).toEqual([commit(4)]);
  });
});
