/**
 * Stage logs through the built GitLab entry (gitlab-image/dist/index.js), the emulator and the
 * GitLab double: a prepare that fails shows its log tail in the job log (in a section), in the
 * error and in the MR note, with the registry token the build script echoed masked everywhere.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { jobDirectory, runCheckedEntry, startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  lastLine,
} from '../doubles/run-entry.js';

const NPM_TOKEN = 'npm_9f8e7d6c5b4a39281706';
let emulator: RunningEmulator;
let gitlab: GitLabDouble;
let job: { dir: string; remove(): void };

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  const violations = emulator.contractViolations();
  await emulator.close();
  expect(violations).toEqual([]);
});
beforeEach(async () => {
  await emulator.reset();
  gitlab = await startGitLabDouble({
    token: GITLAB_ACCESS_TOKEN,
    projectId: GITLAB_PROJECT.id,
    projectPath: GITLAB_PROJECT.path,
    mergeRequests: [{ iid: 12, state: 'opened' as const }],
  });
  job = jobDirectory('gitlab-stage-logs');
});
afterEach(async () => {
  await gitlab.close();
  job.remove();
});

describe('GitLab job: prepare logs', () => {
  it("streams prepare into sections and, when it fails, shows the step's tail in the log, the error and the note, token masked", async () => {
    const env = {
      ...gitlabJobEnv(
        { mergeRequestIid: 12, branch: 'broken-deps', apiV4Url: `${gitlab.url}/api/v4` },
        job.dir,
      ),
      ...userVariables(emulator, GITLAB_ACCESS_TOKEN, { ENV: `NPM_TOKEN=${NPM_TOKEN}` }),
    };
    // runCheckedEntry fails the test if any of these appears in the log, a file or a note.
    const run = await runCheckedEntry(gitlabEntry, env, {
      dir: job.dir,
      double: gitlab,
      secrets: [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN, NPM_TOKEN],
    });
    expect(run.code, describeRun(run)).toBe(1);

    // The job log: the step's section with its streamed lines, the echoed token redacted.
    expect(run.stdout).toMatch(/section_start:\d+:prepare_step_1_of_2_log_\d+\r/);
    expect(run.stdout).toContain('│ + echo "//registry.npmjs.org/:_authToken=***" > .npmrc');
    expect(run.stdout).toContain('│ npm ERR! Could not resolve dependency:');

    // The error: the headline, then the failing step's last lines (all 22 here), then what is left.
    expect(run.text).toContain('Pipeline stage "prepare" failed');
    expect(run.text).toContain('Last 22 of 22 line(s) of prepare step 1:');
    expect(run.text).toMatch(/ERROR: .*\n(.*\n)*\s+npm ERR! peer react@"\^18.3.1" from react-dom@18.3.1/);
    expect(lastLine(run)).toMatch(/^✖ Deployment failed: Pipeline stage "prepare" failed/);

    // The MR note: the short headline in the table and the last 15 lines in a code block.
    const note = gitlab.userNotes(12)[0]?.body ?? '';
    expect(note).toContain('Preview deployment failed');
    expect(note).toContain('**Last 15 of 22 line(s) of prepare step 1:**');
    const block = note
      .slice(note.indexOf('```text') + 8, note.lastIndexOf('```'))
      .trimEnd()
      .split('\n');
    expect(block).toHaveLength(15);
    expect(block.at(-1)).toContain('npm ERR! A complete log of this run can be found in');
    expect(note).not.toContain('Last 22 of 22');
    expect(note).not.toContain(NPM_TOKEN);
  });
});

describe('GitLab job: HEALTH_CHECK', () => {
  const runWith = (branch: string, extra: Record<string, string>) =>
    runCheckedEntry(
      gitlabEntry,
      {
        ...gitlabJobEnv({ mergeRequestIid: 12, branch, apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
        ...userVariables(emulator, GITLAB_ACCESS_TOKEN, extra),
      },
      { dir: job.dir, double: gitlab, secrets: [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN] },
    );

  it('passes: the dotenv report says ok and the note has the health row and the durations', async () => {
    const run = await runWith('feature-12', { HEALTH_CHECK: '/healthz' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(readFileSync(path.join(job.dir, 'deploy.env'), 'utf8')).toContain('CODESPHERE_HEALTH_CHECK=ok\n');
    const note = gitlab.userNotes(12)[0]?.body ?? '';
    expect(note).toMatch(/\| Health check \| \/healthz: HTTP 200 on 1 of 1 replica\(s\) after \d+\.\d s \|/);
    expect(note).toMatch(
      /\| Durations \| provision \d+\.\d s · prepare \d+\.\d s · run \d+\.\d s · health \d+\.\d s · total/,
    );
  });

  it('waits for an app that is slow to start', async () => {
    const run = await runWith('slow-start', { HEALTH_CHECK: '3000/ready' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout).toMatch(
      /Replica 0: not healthy yet \(curl: \(7\) Failed to connect to localhost port 3000/,
    );
    expect(run.stdout).toMatch(/Replica 0: HTTP 200 after \d/);
  });

  it('fails when the app never answers within TIMEOUT, naming the reason per replica', async () => {
    const run = await runWith('unhealthy', { HEALTH_CHECK: '/healthz', TIMEOUT: '8' });
    expect(run.code, describeRun(run)).toBe(1);
    expect(lastLine(run)).toMatch(
      /^✖ Deployment failed: Health check failed: http:\/\/localhost:3000\/healthz did not answer 2xx or 3xx/,
    );
    expect(run.text).toContain('replica 0: HTTP 503 (not 2xx or 3xx)');
    expect(gitlab.userNotes(12)[0]?.body).toMatch(/failed.*HTTP 503/s);
  });
});
