/**
 * Input hygiene of the built GitLab image and Bitbucket pipe, run as their runners run them: the
 * time budget bounds the platform's API, booleans follow one rule, output files are checked before
 * anything is created and a late write failure is not called a failed deploy, and ids are digits
 * only.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaces,
} from '../doubles/fixture.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
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
} from '../doubles/run-entry.js';

const SECRETS = [
  DEMO_TOKEN,
  DEMO_PASSWORD,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
];

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
let bitbucket: BitbucketDouble;
let dir: { dir: string; remove(): void };

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
    mergeRequests: [9, 12].map((iid) => ({ iid, state: 'opened' as const })),
  });
  bitbucket = await startBitbucketDouble({
    token: BITBUCKET_ACCESS_TOKEN,
    workspace: BITBUCKET_REPO.workspace,
    repoSlug: BITBUCKET_REPO.slug,
    pullRequests: [9, 12].map((id) => ({ id, state: 'OPEN' as const })),
  });
  dir = jobDirectory('hygiene');
});
afterEach(async () => {
  await gitlab.close();
  await bitbucket.close();
  dir.remove();
});

const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces').length;

function gitlabJob(
  mergeRequestIid: number | undefined,
  variables: Record<string, string>,
  apiV4Url?: string,
) {
  const env = {
    ...gitlabJobEnv({ mergeRequestIid, apiV4Url: apiV4Url ?? `${gitlab.url}/api/v4` }, dir.dir),
    ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
    ...variables,
  };
  return runCheckedEntry(gitlabEntry, env, { dir: dir.dir, double: gitlab, secrets: SECRETS });
}

function bitbucketStep(pullRequestId: number | undefined, variables: Record<string, string>) {
  const env = {
    ...bitbucketStepEnv({ pullRequestId, apiUrl: bitbucket.url }, dir.dir),
    ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN),
    ...variables,
  };
  return runCheckedEntry(bitbucketEntry, env, { dir: dir.dir, double: bitbucket, secrets: SECRETS });
}

function expectSetupError(run: EntryRun, text: string): void {
  expect(run.code, describeRun(run)).toBe(1);
  expect(lastLine(run)).toContain(text);
  expect(run.text).not.toMatch(/Unexpected \w*Error|\n\s+at /);
  expect(creates()).toBe(0);
  expect(workspaces(emulator)).toHaveLength(0);
}

async function silentServer(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('ids are digits only', () => {
  it.each(['9.0', '+9', '9e0', '0x9', ' 0 ', '٩'])(
    'BITBUCKET_PR_ID=%j is refused, naming the variable',
    async (id) => {
      const run = await bitbucketStep(undefined, { BITBUCKET_PR_ID: id });
      expectSetupError(
        run,
        `Invalid input "BITBUCKET_PR_ID": got "${id}"; expected the pull request id (digits only, from 1)`,
      );
      expect(bitbucket.calls).toEqual([]);
    },
  );

  it.each(['9.0', '+9', '1e1'])('CI_MERGE_REQUEST_IID=%j is refused, naming the variable', async (iid) => {
    const run = await gitlabJob(undefined, {
      CI_MERGE_REQUEST_IID: iid,
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'feature-9',
    });
    expectSetupError(
      run,
      `Invalid input "CI_MERGE_REQUEST_IID": got "${iid}"; expected the merge request's IID (digits only, from 1)`,
    );
    expect(gitlab.calls).toEqual([]);
  });

  it.each([
    ['REPLICAS', '1.0'],
    ['CLONE_DEPTH', '+5'],
    ['TEAM', '101.0'],
  ])('%s=%j is never read as a number', async (variable, value) => {
    const run = await bitbucketStep(9, { [variable]: value });
    expect(run.code, describeRun(run)).toBe(1);
    expect(creates()).toBe(0);
    expect(lastLine(run)).toContain(`"${variable}"`);
  });
});

describe('booleans follow one rule', () => {
  it('ON_DEMAND / RESTRICTED / DEBUG take yes/no, on/off, 1/0 in any case, with spaces', async () => {
    const run = await gitlabJob(9, { ON_DEMAND: ' No ', RESTRICTED: 'OFF', DEBUG: 'Yes' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.text).toMatch(/debug|DEBUG|project acme\/web\/shop/);
  });

  it.each(['ON_DEMAND', 'DEBUG', 'DRY_RUN'])(
    '%s=maybe: an error naming it and listing the rule',
    async (variable) => {
      const run = await bitbucketStep(9, { [variable]: 'maybe' });
      expectSetupError(
        run,
        `"${variable}": got "maybe"; expected true or false (also yes/no, on/off, 1/0, in any case)`,
      );
    },
  );
});

describe('output files are checked before anything is created', () => {
  it('DOTENV_PATH=/tmp (a folder): an input error naming it, before anything is created, no MR note', async () => {
    const run = await gitlabJob(9, { DOTENV_PATH: '/tmp' });
    expectSetupError(
      run,
      'Invalid input "DOTENV_PATH": got "/tmp", which is a folder; expected a writable file path',
    );
    expect(gitlab.userNotes(9)).toHaveLength(0);
  });

  it('BITBUCKET_PIPELINES_VARIABLES_PATH under a file: an input error naming it, no PR comment', async () => {
    const file = path.join(dir.dir, 'plain.txt');
    writeFileSync(file, 'x');
    const run = await bitbucketStep(9, { BITBUCKET_PIPELINES_VARIABLES_PATH: `${file}/vars.env` });
    expectSetupError(run, 'Invalid input "BITBUCKET_PIPELINES_VARIABLES_PATH": got');
    expect(run.text).toContain('lies under');
    expect(bitbucket.comments.get(9) ?? []).toHaveLength(0);
  });

  it('BITBUCKET_PIPELINES_VARIABLES_PATH in a folder that does not exist', async () => {
    const run = await bitbucketStep(9, {
      BITBUCKET_PIPELINES_VARIABLES_PATH: '/nonexistent-folder/vars.env',
    });
    expectSetupError(run, 'is in a folder that does not exist');
  });

  it.each(['gitlab', 'bitbucket'] as const)(
    '%s: a write that fails after the deploy (/dev/full) says the preview is deployed, and the note agrees',
    async (platform) => {
      const run =
        platform === 'gitlab'
          ? await gitlabJob(9, { DOTENV_PATH: '/dev/full' })
          : await bitbucketStep(9, { BITBUCKET_PIPELINES_VARIABLES_PATH: '/dev/full' });
      expect(run.code, describeRun(run)).toBe(1);
      expect(workspaces(emulator)).toHaveLength(1);
      const variable = platform === 'gitlab' ? 'DOTENV_PATH' : 'BITBUCKET_PIPELINES_VARIABLES_PATH';
      expect(lastLine(run)).toMatch(
        new RegExp(
          `The preview is deployed \\(https://[^)]+\\), but its outputs could not be written to ${variable}="/dev/full" \\(ENOSPC\\)`,
        ),
      );
      expect(run.text).not.toMatch(/Unexpected Error|Deployment failed/);
      const note =
        platform === 'gitlab'
          ? (gitlab.userNotes(9)[0]?.body ?? '')
          : (bitbucket.comments.get(9)?.[0]?.content.raw ?? '');
      expect(note).toContain('Preview deployed');
      expect(note).not.toMatch(/failed/i);
    },
  );
});

describe('the time budget bounds the platform API', () => {
  it('a GitLab API that never answers: the deploy succeeds, the note is a warning, the job ends near TIMEOUT', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const run = await gitlabJob(9, { TIMEOUT: '8' }, `${silent.url}/api/v4`);
      const elapsed = Date.now() - started;
      expect(run.code, describeRun(run)).toBe(0);
      // The budget runs from the job's start; process start-up adds a few seconds on a loaded
      // machine. Before the fix this run took over a minute.
      expect(elapsed).toBeLessThan(8_000 + 8_000);
      expect(workspaces(emulator)).toHaveLength(1);
      expect(run.text).toMatch(/Could not write the preview note on !9: .*(no answer within|time budget)/);
    } finally {
      silent.close();
    }
  }, 60_000);

  it('a Bitbucket API that never answers: the deploy succeeds, the comment is a warning, the step ends near TIMEOUT', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const run = await bitbucketStep(9, { TIMEOUT: '8', BITBUCKET_API_URL: `${silent.url}/2.0` });
      const elapsed = Date.now() - started;
      expect(run.code, describeRun(run)).toBe(0);
      expect(elapsed).toBeLessThan(8_000 + 8_000);
      expect(workspaces(emulator)).toHaveLength(1);
      expect(run.text).toMatch(/WARNING:.*(no answer within|time budget)/);
    } finally {
      silent.close();
    }
  }, 60_000);
});
