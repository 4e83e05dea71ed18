/**
 * The last word is always said: a job whose time budget runs out while prepare still runs ends
 * with exit code 1 and a change-request note (and on GitHub a deployment status) that says the
 * deploy failed, timed out, naming the stage. Runs each platform's built entry against the
 * emulator (a prepare that takes a minute) and the platform's API double.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import { FAST_TIMING, jobDirectory, userVariables } from '../doubles/fixture.js';
import { startBitbucketDouble } from '../doubles/bitbucket-double.js';
import { startGitHubDouble } from '../doubles/github-double.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  bitbucketEntry,
  bitbucketStepEnv,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  runEntry,
} from '../doubles/run-entry.js';
import { DEMO_TOKEN, runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

/** The job's budget (s): short, so the minute-long prepare outlives it. */
const BUDGET_SECONDS = '6';

interface Ending {
  code: number | null;
  log: string;
  /** The note's text, or '' when none was written. */
  note: string;
  /** The latest status of every GitHub deployment (GitHub only). */
  deploymentStates?: string[];
}

let emulator: RunningEmulator;
beforeAll(async () => {
  // Prepare runs for a minute: far past the budget.
  emulator = await startEmulator({ timing: { ...FAST_TIMING, stageMs: 60_000 }, notice: () => {} });
});
afterAll(async () => {
  await emulator.close();
});

const platforms: Array<[string, () => Promise<Ending>]> = [
  [
    'GitLab',
    async () => {
      const gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
        mergeRequests: [{ iid: 12, state: 'opened' }],
      });
      const job = jobDirectory('gitlab-last-word');
      try {
        const env = {
          ...gitlabJobEnv({ mergeRequestIid: 12, branch: 'slow', apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
          ...userVariables(emulator, GITLAB_ACCESS_TOKEN, { TIMEOUT: BUDGET_SECONDS }),
        };
        const run = await runEntry(gitlabEntry, env, job.dir);
        return { code: run.code, log: describeRun(run), note: gitlab.userNotes(12)[0]?.body ?? '' };
      } finally {
        job.remove();
        await gitlab.close();
      }
    },
  ],
  [
    'Bitbucket',
    async () => {
      const bitbucket = await startBitbucketDouble({
        token: BITBUCKET_ACCESS_TOKEN,
        workspace: 'acme',
        repoSlug: 'shop',
        pullRequests: [{ id: 7, state: 'OPEN' }],
      });
      const step = jobDirectory('bitbucket-last-word');
      try {
        const env = {
          ...bitbucketStepEnv({ pullRequestId: 7, branch: 'slow', apiUrl: bitbucket.url }, step.dir),
          ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN, { TIMEOUT: BUDGET_SECONDS }),
        };
        const run = await runEntry(bitbucketEntry, env, step.dir);
        const comment = (bitbucket.comments.get(7) ?? []).find((c) => !c.deleted);
        return { code: run.code, log: describeRun(run), note: comment?.content.raw ?? '' };
      } finally {
        step.remove();
        await bitbucket.close();
      }
    },
  ],
  [
    'GitHub',
    async () => {
      const github = await startGitHubDouble();
      try {
        const run = await runAction({
          eventName: 'pull_request',
          payload: pullRequestPayload({ action: 'opened', number: 5, branch: 'slow' }),
          githubApiUrl: github.url,
          inputs: {
            apiUrl: emulator.url,
            apiToken: DEMO_TOKEN,
            team: 'My Team',
            vpnConfig: 'office',
            timeoutSeconds: BUDGET_SECONDS,
          },
        });
        return {
          code: run.code,
          log: `${run.stdout}\n${run.stderr}`,
          note: github.comments.find((c) => c.issue === 5)?.body ?? '',
          deploymentStates: github.deployments.map((d) => d.statuses.at(-1)?.state ?? 'none'),
        };
      } finally {
        await github.close();
      }
    },
  ],
];

// The platforms run side by side on the one emulator (each its own change request and preview):
// each run spends its budget waiting on the prepare, so the waits overlap.
describe.concurrent.each(platforms)('%s: the budget runs out during prepare', (_platform, runJob) => {
  it(
    'exits 1 and the note says the deploy failed, timed out in prepare',
    { timeout: 30_000 },
    async ({ expect }) => {
      const ending = await runJob();
      expect(ending.code, ending.log).toBe(1);
      expect(ending.note, ending.log).toContain('Preview deployment failed: timed out');
      expect(ending.note).toMatch(/prepare/);
      expect(ending.note).not.toContain('Preview deploying');
      if (ending.deploymentStates) expect(ending.deploymentStates).toEqual(['failure']);
    },
  );
});
