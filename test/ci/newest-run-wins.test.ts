/**
 * Six deploys of one change request, started in run order and finishing in an order fast-check
 * picks: the note ends naming the newest run's commit, once, and on GitHub the newest run's
 * deployment is the only active one. Each platform's adapter runs in-process on the shared job
 * runner against its API double; the core is a fake whose deploys end when the order says.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { run as runGitHub } from '../../github-action/src/main.js';
import { run as runGitLab } from '../../gitlab-image/src/main.js';
import { run as runBitbucket } from '../../bitbucket-pipe/src/main.js';
import { systemClock, type DeployResult } from '../../shared/index.js';
import type { CoreApi } from '../../shared/ci/index.js';
import { startBitbucketDouble } from '../doubles/bitbucket-double.js';
import { startGitHubDouble } from '../doubles/github-double.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  bitbucketStepEnv,
  DEMO_TOKEN,
  GITLAB_ACCESS_TOKEN,
  GITLAB_PROJECT,
  gitlabJobEnv,
} from '../doubles/run-entry.js';
import { GITHUB_TOKEN, inputVariable } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

const RUNS = 6;
const NUMBER = 12;
/** Run k's head commit: distinct in the 12 characters a note shows. */
const commitOf = (k: number) => `c0ffee${String(k).padStart(6, '0')}`.padEnd(40, '0');
const shown = (k: number) => commitOf(k).slice(0, 12);

/** A core whose deploy of run k ends `finishMs[k]` ms after it starts. */
function fakeCore(finishMs: number[]): CoreApi {
  const unused = () => Promise.reject(new Error('not part of this test'));
  return {
    deploy: async (input) => {
      const k = [...Array(RUNS).keys()].find((i) => input.commit === commitOf(i)) ?? 0;
      await new Promise((resolve) => setTimeout(resolve, finishMs[k] ?? 0));
      const result: DeployResult = {
        workspaceId: 7,
        name: 'shop-12',
        url: 'https://7-3000.example.test',
        vpnConfig: 'office',
        action: 'updated',
        changes: [],
        vpnCheck: { status: 'skipped', reason: 'no vpnCheck target was given' },
        timings: {},
      };
      return result;
    },
    teardown: unused,
    prune: unused,
  };
}

const sink = { write: () => true };
const userVariables = (accessToken: string) => ({
  API_URL: 'http://127.0.0.1:9',
  API_TOKEN: DEMO_TOKEN,
  ACCESS_TOKEN: accessToken,
  TEAM: 'My Team',
  VPN_CONFIG: 'office',
});

/** Starts the six runs 20 ms apart (run order = start order) and waits for all of them. */
async function sixRuns(start: (k: number) => Promise<number>): Promise<number[]> {
  const runs: Array<Promise<number>> = [];
  for (let k = 0; k < RUNS; k++) {
    runs.push(start(k));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Promise.all(runs);
}

interface Ending {
  codes: number[];
  notes: string[];
  /** GitHub: the commits of the deployments whose latest status is success. */
  active?: string[];
}

type Platform = (finishMs: number[], dir: string) => Promise<Ending>;

const platforms: Array<[string, Platform]> = [
  [
    'GitLab',
    async (finishMs, dir) => {
      const gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
        mergeRequests: [{ iid: NUMBER, state: 'opened' }],
      });
      try {
        const codes = await sixRuns((k) => {
          const cwd = mkdtempSync(path.join(dir, 'job-'));
          const env = {
            ...gitlabJobEnv(
              {
                mergeRequestIid: NUMBER,
                sha: commitOf(k),
                pipelineId: 500 + k,
                apiV4Url: `${gitlab.url}/api/v4`,
              },
              cwd,
            ),
            ...userVariables(GITLAB_ACCESS_TOKEN),
          };
          return runGitLab(env, {
            core: fakeCore(finishMs),
            stdout: sink,
            stderr: sink,
            cwd,
            clock: systemClock,
          });
        });
        return { codes, notes: gitlab.userNotes(NUMBER).map((note) => note.body) };
      } finally {
        await gitlab.close();
      }
    },
  ],
  [
    'Bitbucket',
    async (finishMs, dir) => {
      const bitbucket = await startBitbucketDouble({
        token: BITBUCKET_ACCESS_TOKEN,
        workspace: 'acme',
        repoSlug: 'shop',
        pullRequests: [{ id: NUMBER, state: 'OPEN' }],
      });
      try {
        const codes = await sixRuns((k) => {
          const cwd = mkdtempSync(path.join(dir, 'step-'));
          const env = {
            ...bitbucketStepEnv(
              { pullRequestId: NUMBER, commit: commitOf(k), buildNumber: 300 + k, apiUrl: bitbucket.url },
              cwd,
            ),
            ...userVariables(BITBUCKET_ACCESS_TOKEN),
          };
          return runBitbucket(env, {
            core: fakeCore(finishMs),
            stdout: sink,
            stderr: sink,
            clock: systemClock,
          });
        });
        const notes = (bitbucket.comments.get(NUMBER) ?? [])
          .filter((c) => !c.deleted)
          .map((c) => c.content.raw);
        return { codes, notes };
      } finally {
        await bitbucket.close();
      }
    },
  ],
  [
    'GitHub',
    async (finishMs, dir) => {
      const github = await startGitHubDouble();
      try {
        const codes = await sixRuns((k) => {
          const cwd = mkdtempSync(path.join(dir, 'step-'));
          const eventPath = path.join(cwd, 'event.json');
          const payload = pullRequestPayload({ action: 'synchronize', number: NUMBER, sha: commitOf(k) });
          writeFileSync(eventPath, JSON.stringify(payload));
          writeFileSync(path.join(cwd, 'output'), '');
          writeFileSync(path.join(cwd, 'summary'), '');
          const env: Record<string, string> = {
            GITHUB_EVENT_NAME: 'pull_request',
            GITHUB_EVENT_PATH: eventPath,
            GITHUB_REPOSITORY: 'acme/shop',
            GITHUB_API_URL: github.url,
            GITHUB_RUN_ID: String(4000 + k),
            GITHUB_RUN_ATTEMPT: '1',
            GITHUB_OUTPUT: path.join(cwd, 'output'),
            GITHUB_STEP_SUMMARY: path.join(cwd, 'summary'),
          };
          const inputs = { apiToken: DEMO_TOKEN, team: 'My Team', 'github-token': GITHUB_TOKEN };
          for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
          return runGitHub({ env, core: fakeCore(finishMs) });
        });
        const active = github.deployments
          .filter((d) => d.statuses.at(-1)?.state === 'success')
          .map((d) => d.sha);
        return { codes, notes: github.comments.filter((c) => c.issue === NUMBER).map((c) => c.body), active };
      } finally {
        await github.close();
      }
    },
  ],
];

beforeAll(() => {
  // The GitHub reporter writes through @actions/core to the process's stdout.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterAll(() => {
  vi.restoreAllMocks();
  process.exitCode = 0;
});

// The platforms run side by side (each its own double and runs): most of a property's time is
// the runs' waits (finish times, the note's re-check pause), which overlap.
describe.concurrent.each(platforms)('%s: six deploys finishing in any order', (_name, runSix) => {
  it(
    'end with one note naming the newest run, and its deployment the only active one',
    { timeout: 240_000 },
    async ({ expect }) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'newest-run-'));
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.integer({ min: 0, max: 400 }), { minLength: RUNS, maxLength: RUNS }),
            async (finishMs) => {
              const ending = await runSix(finishMs, dir);
              expect(ending.codes).toEqual(Array<number>(RUNS).fill(0));
              expect(ending.notes).toHaveLength(1);
              expect(ending.notes[0]).toContain(`| Commit | ${shown(RUNS - 1)} |`);
              if (ending.active) expect(ending.active).toEqual([commitOf(RUNS - 1)]);
            },
          ),
          { seed: 20261206, numRuns: 20 },
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
