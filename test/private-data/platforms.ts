/**
 * The three adapters as one table for the private-data suites: each runs its built entry as its
 * CI runner does (separate process, the platform's variables, its API double), and answers with
 * the exit code, what the log shows and the change-request note (GitHub: the job summary, which
 * is the note; GitLab: the MR note; Bitbucket: the PR comment). Inputs are given in the GitHub
 * spelling (`privateTargets`) and passed as UPPER_SNAKE variables on GitLab and Bitbucket.
 */
import { expect } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import { expectCleanCalls, jobDirectory, runCheckedEntry, userVariables } from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  bitbucketEntry,
  bitbucketStepEnv,
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_REPO,
  DEMO_PASSWORD,
  DEMO_TOKEN,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  type EntryRun,
} from '../doubles/run-entry.js';
import { assertNoSecretLeaks, runPullRequest } from '../github-action/fixture.js';
import { DEMO_TOKEN as GH_DEMO_TOKEN, runAction } from '../github-action/harness.js';
import { schedulePayload } from '../github-action/payloads.js';

export interface PlatformRun {
  code: number | null;
  /** What the log shows (stdout and stderr). */
  text: string;
  /** The change request's note as it stands after the run ('' when none). */
  note: string;
}

export interface PlatformDriver {
  name: 'github' | 'gitlab' | 'bitbucket';
  /** The preview workspace's name for change request `n`. */
  previewName(n: number): string;
  /** How the platform names an input in messages: `privateTargets` or PRIVATE_TARGETS. */
  inputName(name: string): string;
  /** CODESPHERE_PREVIEW_KEY of change request `n`. */
  previewKey(n: number): string;
  start(emulator: RunningEmulator): Promise<void>;
  /** After each test: the double saw only calls it models; Codesphere calls kept the contract. */
  stop(): Promise<void>;
  deploy(n: number, inputs?: Record<string, string>, runId?: number): Promise<PlatformRun>;
  teardown(n: number, inputs?: Record<string, string>): Promise<PlatformRun>;
  /** A scheduled prune (give pruneTtlHours for the TTL path). */
  prune(inputs: Record<string, string>): Promise<PlatformRun>;
}

/** privateTargets -> PRIVATE_TARGETS, pruneTtlHours -> PRUNE_TTL_HOURS. */
export function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function variables(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [upperSnake(k), v]));
}

const text = (run: EntryRun): string => run.text;

function github(): PlatformDriver {
  let emulator: RunningEmulator;
  let double: GitHubDouble;
  const sha = (n: number) => n.toString(16).padStart(40, 'c');
  const toRun = (run: Awaited<ReturnType<typeof runAction>>): PlatformRun => ({
    code: run.code,
    // Workflow commands escape %, CR and LF; the log viewer shows them decoded.
    text: `${run.visibleStdout}\n${run.stderr}`
      .replace(/%0A/g, '\n')
      .replace(/%0D/g, '\r')
      .replace(/%25/g, '%'),
    note: run.summary,
  });
  return {
    name: 'github',
    previewName: (n) => `shop-#${n}`,
    previewKey: (n) => `pr_${n}`,
    inputName: (name) => name,
    async start(e) {
      emulator = e;
      double = await startGitHubDouble({ token: undefined });
    },
    async stop() {
      expect(double.unhandled, 'GitHub calls the double does not know').toEqual([]);
      expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
      await double.close();
    },
    async deploy(n, inputs = {}, runId = 7000 + n) {
      double.openPulls.push(n);
      return toRun(
        await runPullRequest(
          {
            emulator,
            github: double,
            inputs,
            extra: { extraEnv: { GITHUB_RUN_ID: String(runId), GITHUB_RUN_ATTEMPT: '1' } },
          },
          { action: 'synchronize', number: n, sha: sha(n) },
        ),
      );
    },
    async teardown(n, inputs = {}) {
      return toRun(
        await runPullRequest({ emulator, github: double, inputs }, { action: 'closed', number: n }),
      );
    },
    async prune(inputs) {
      const run = await runAction({
        eventName: 'schedule',
        payload: schedulePayload(),
        githubApiUrl: double.url,
        inputs: { apiUrl: emulator.url, apiToken: GH_DEMO_TOKEN, team: 'My Team', ...inputs },
      });
      assertNoSecretLeaks(run, double);
      return toRun(run);
    },
  };
}

function gitlab(): PlatformDriver {
  let emulator: RunningEmulator;
  let double: GitLabDouble;
  const dirs: Array<{ remove(): void }> = [];
  const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];
  async function job(
    shape: { mergeRequestIid?: number; branch?: string; stop?: boolean; pipelineId?: number },
    extra: Record<string, string>,
    iid: number | undefined,
  ): Promise<PlatformRun> {
    const dir = jobDirectory('gitlab-private');
    dirs.push(dir);
    const env = {
      ...gitlabJobEnv({ ...shape, apiV4Url: `${double.url}/api/v4` }, dir.dir),
      ...userVariables(emulator, GITLAB_ACCESS_TOKEN, extra),
    };
    const run = await runCheckedEntry(gitlabEntry, env, { dir: dir.dir, double, secrets: SECRETS });
    const notes = iid === undefined ? [] : double.userNotes(iid);
    return { code: run.code, text: text(run), note: notes.at(-1)?.body ?? '' };
  }
  return {
    name: 'gitlab',
    previewName: (n) => `shop-!${n}`,
    previewKey: (n) => `mr_${n}`,
    inputName: upperSnake,
    async start(e) {
      emulator = e;
      double = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
      });
    },
    async stop() {
      expectCleanCalls(emulator, double, 'GitLab');
      await double.close();
      for (const d of dirs.splice(0)) d.remove();
    },
    deploy(n, inputs = {}, runId = 77000 + n) {
      double.setState(n, 'opened');
      return job({ mergeRequestIid: n, pipelineId: runId }, variables(inputs), n);
    },
    teardown(n, inputs = {}) {
      double.setState(n, 'closed');
      return job({ mergeRequestIid: n, stop: true }, variables(inputs), n);
    },
    prune(inputs) {
      return job({ branch: 'main' }, { ACTION: 'prune', ...variables(inputs) }, undefined);
    },
  };
}

function bitbucket(): PlatformDriver {
  let emulator: RunningEmulator;
  let double: BitbucketDouble;
  const dirs: Array<{ remove(): void }> = [];
  const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, BITBUCKET_ACCESS_TOKEN];
  async function step(
    shape: { pullRequestId?: number; branch?: string; buildNumber?: number },
    extra: Record<string, string>,
    id: number | undefined,
  ): Promise<PlatformRun> {
    const dir = jobDirectory('bitbucket-private');
    dirs.push(dir);
    const env = {
      ...bitbucketStepEnv({ ...shape, apiUrl: double.url }, dir.dir),
      ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN, extra),
    };
    const run = await runCheckedEntry(bitbucketEntry, env, { dir: dir.dir, double, secrets: SECRETS });
    const comments = id === undefined ? [] : (double.comments.get(id) ?? []).filter((c) => !c.deleted);
    return { code: run.code, text: text(run), note: comments.at(-1)?.content.raw ?? '' };
  }
  return {
    name: 'bitbucket',
    previewName: (n) => `shop-pr-${n}`,
    previewKey: (n) => `pr_${n}`,
    inputName: upperSnake,
    async start(e) {
      emulator = e;
      double = await startBitbucketDouble({
        token: BITBUCKET_ACCESS_TOKEN,
        workspace: BITBUCKET_REPO.workspace,
        repoSlug: BITBUCKET_REPO.slug,
      });
    },
    async stop() {
      expectCleanCalls(emulator, double, 'Bitbucket');
      await double.close();
      for (const d of dirs.splice(0)) d.remove();
    },
    deploy(n, inputs = {}, runId = 300 + n) {
      double.setState(n, 'OPEN');
      return step({ pullRequestId: n, buildNumber: runId }, variables(inputs), n);
    },
    teardown(n, inputs = {}) {
      double.setState(n, 'DECLINED');
      return step({ pullRequestId: n }, { ACTION: 'teardown', ...variables(inputs) }, n);
    },
    prune(inputs) {
      return step({ branch: 'main' }, { ACTION: 'prune', ...variables(inputs) }, undefined);
    },
  };
}

/** One driver per platform, for describe.each. */
export const PLATFORMS: PlatformDriver[] = [github(), gitlab(), bitbucket()];

/** Sets the emulator's probe knobs (emulator/probe-faults.ts) through its admin API. */
export async function setProbeFaults(emulator: RunningEmulator, faults: object[]): Promise<void> {
  const response = await fetch(`${emulator.url}/_emulator/probe-faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ faults }),
  });
  if (!response.ok) throw new Error(`probe-faults: HTTP ${response.status} ${await response.text()}`);
}
