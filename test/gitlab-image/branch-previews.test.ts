/**
 * Branch previews whose names are close (a slash and a dash, scripts, accents) stay apart through
 * the built GitLab entry: a pipeline of one never touches the other, its stop job keeps the other.
 * Each pair runs on its own emulator, GitLab API double and job directory, so the pairs run side
 * by side (a run is mostly waiting: polls, the teardown's race checks).
 */
import { describe, it } from 'vitest';
import {
  apiRequests,
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaceNamed,
  workspaces,
} from '../doubles/fixture.js';
import { workspaceName } from '../../shared/workflow/naming.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  type GitLabJob,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];
const branchPreview = (branch: string) =>
  workspaceName({ platform: 'gitlab', repository: GITLAB_PROJECT.path, branch });

describe('branch pipeline (no merge request)', () => {
  it.concurrent.for([
    ['feat/login', 'feat-login'],
    ['修复', '功能'],
    ['fix/ä', 'fix/ö'],
  ] as const)(
    'keeps the previews of %s and %s apart: a pipeline of one never touches the other, its stop job keeps the other',
    { timeout: 60_000 },
    async ([a, b], { expect }) => {
      const emulator = await startFixtureEmulator();
      const gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
        mergeRequests: [],
      });
      const job = jobDirectory('gitlab-job');
      try {
        const runJob = (shape: Omit<GitLabJob, 'apiV4Url'>) =>
          runCheckedEntry(
            gitlabEntry,
            {
              ...gitlabJobEnv({ ...shape, apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
              ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
            },
            { dir: job.dir, double: gitlab, secrets: SECRETS },
          );

        const first = await runJob({ branch: a, sha: 'a'.repeat(40) });
        expect(first.code, describeRun(first)).toBe(0);
        const previewA = workspaceNamed(emulator, branchPreview(a));
        expect(previewA?.git?.branch).toBe(a);

        for (const n of [1, 2]) {
          const run = await runJob({ branch: b, sha: String(n).repeat(40) });
          expect(run.code, describeRun(run)).toBe(0);
          expect(workspaceNamed(emulator, branchPreview(b))?.git?.branch).toBe(b);
        }
        expect(workspaceNamed(emulator, branchPreview(a))).toMatchObject({
          id: previewA?.id,
          git: previewA?.git,
        });
        const pullsOfA = new RegExp(`^/api/workspaces/${previewA?.id}/git/pull`);
        expect(apiRequests(emulator).filter((e) => e.method === 'POST' && pullsOfA.test(e.path))).toEqual([]);
        expect(workspaces(emulator)).toHaveLength(2);

        const stop = await runJob({ branch: b, stop: true });
        expect(stop.code, describeRun(stop)).toBe(0);
        expect(workspaces(emulator).map((w) => [w.id, w.name])).toEqual([[previewA?.id, branchPreview(a)]]);

        expectCleanCalls(emulator, gitlab, 'GitLab');
      } finally {
        await gitlab.close();
        await emulator.close();
        job.remove();
      }
    },
  );
});

describe('branch pipeline with a token that cannot see the project', () => {
  it(
    'deploys and warns: the 404 GitLab sends for a project it hides is not a deleted branch',
    { timeout: 60_000 },
    async ({ expect }) => {
      const emulator = await startFixtureEmulator();
      // The token's GitLab knows only another project: ours answers 404 Project Not Found, branches included.
      const gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id + 1,
        projectPath: 'other/project',
        mergeRequests: [],
      });
      const job = jobDirectory('gitlab-job');
      try {
        const run = await runCheckedEntry(
          gitlabEntry,
          {
            ...gitlabJobEnv({ branch: 'feat/login', apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
            ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
          },
          { dir: job.dir, double: gitlab, secrets: SECRETS },
        );
        expect(run.code, describeRun(run)).toBe(0);
        expect(workspaceNamed(emulator, branchPreview('feat/login'))?.git?.branch).toBe('feat/login');
        expect(run.text).toMatch(/Could not check whether branch "feat\/login" still exists/);
        expect(run.text).not.toMatch(/no longer exists/);
      } finally {
        await gitlab.close();
        await emulator.close();
        job.remove();
      }
    },
  );
});
