/**
 * The built pipe (bitbucket-pipe/dist/index.js, the image's ENTRYPOINT) as Bitbucket Pipelines runs
 * it: a process in the clone directory with the step's BITBUCKET_* variables and the pipe's
 * `variables:`, against the Codesphere emulator and a Bitbucket API double. Every test asserts
 * outcomes: workspaces, the request log, the output-variables file, the PR comment, exit code, log.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  apiRequests,
  backdateWorkspaces,
  createWorkspace,
  expectCleanCalls,
  jobDirectory,
  runCheckedEntry,
  startFixtureEmulator,
  userVariables,
  workspaceNamed,
  workspaces,
} from '../doubles/fixture.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  DEMO_EMAIL,
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  lastLine,
  type BitbucketStep,
  type EntryRun,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN];
const MARKER = '[//]: # (codesphere-deploy:preview)';

let emulator: RunningEmulator;
let bitbucket: BitbucketDouble;
let step: { dir: string; remove(): void };
let variablesFile: string;

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  bitbucket = await startBitbucketDouble({
    token: BITBUCKET_ACCESS_TOKEN,
    workspace: BITBUCKET_REPO.workspace,
    repoSlug: BITBUCKET_REPO.slug,
    pullRequests: [7, 8, 9].map((id) => ({ id, state: 'OPEN' as const })),
  });
  step = jobDirectory('bitbucket-step');
  // Bitbucket creates this file before the step; the pipe appends to it.
  variablesFile = path.join(step.dir, 'pipelines-variables.env');
  writeFileSync(variablesFile, '');
});
afterEach(async () => {
  expectCleanCalls(emulator, bitbucket, 'Bitbucket');
  await bitbucket.close();
  step.remove();
});

/** The pipe's `variables:` as the README's examples set them. */
const pipeVariables = (extra: Record<string, string> = {}) =>
  userVariables(emulator, BITBUCKET_ACCESS_TOKEN, extra);

/** Runs the pipe's entry; asserts no secret in the log, the files written or any comment body. */
function runStep(shape: Omit<BitbucketStep, 'apiUrl'>, variables: Record<string, string>): Promise<EntryRun> {
  const env = {
    ...bitbucketStepEnv({ ...shape, apiUrl: bitbucket.url }, step.dir),
    BITBUCKET_PIPELINES_VARIABLES_PATH: variablesFile,
    ...variables,
  };
  return runCheckedEntry(bitbucketEntry, env, { dir: step.dir, double: bitbucket, secrets: SECRETS });
}

const outputVariables = () => readFileSync(variablesFile, 'utf8');
const comments = (id: number) => bitbucket.comments.get(id) ?? [];

describe('pull-requests pipeline: deploy', () => {
  it('creates <repo>-pr-<id> on the VPN config, prints the URL, appends output variables, comments once', async () => {
    const run = await runStep({ pullRequestId: 7 }, pipeVariables());
    expect(run.code, describeRun(run)).toBe(0);

    const w = workspaceNamed(emulator, 'shop-pr-7');
    expect(w, 'workspace shop-pr-7').toBeDefined();
    expect(workspaces(emulator)).toHaveLength(1);
    expect(w?.vpnConfig).toBe('office');
    // BITBUCKET_GIT_HTTP_ORIGIN is plain http; the workspace clones over https.
    expect(w?.gitUrl).toBe('https://bitbucket.org/acme/shop.git');
    expect(w?.git?.branch).toBe('feature-7');
    expect(w?.isPrivateRepo).toBe(true);

    const url = `https://${w?.devDomain ?? ''}`;
    expect(run.text).toContain(`Preview URL: ${url}`);
    expect(outputVariables()).toBe(`CODESPHERE_URL=${url}\nCODESPHERE_WORKSPACE_ID=${w?.id}\n`);
    expect(lastLine(run)).toBe(
      `✔ Preview created (workspace shop-pr-7, id ${w?.id}) on VPN config "office": ${url}`,
    );

    expect(comments(7)).toHaveLength(1);
    expect(comments(7)[0]?.content.raw).toContain(MARKER);
    expect(comments(7)[0]?.content.raw).toContain(url);
    expect(bitbucket.calls.every((call) => call.authorized)).toBe(true);
  });

  it('redeploys the same workspace: git pull, no VPN patch, the comment edited in place', async () => {
    expect((await runStep({ pullRequestId: 7 }, pipeVariables())).code).toBe(0);
    const id = workspaceNamed(emulator, 'shop-pr-7')?.id;
    const before = emulator.requestLog().length;

    const run = await runStep({ pullRequestId: 7, commit: 'c'.repeat(40) }, pipeVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaces(emulator)).toHaveLength(1);
    expect(workspaceNamed(emulator, 'shop-pr-7')?.id).toBe(id);
    const log = emulator.requestLog().slice(before);
    expect(
      log.some((e) => e.method === 'POST' && /\/git\/pull/.test(e.path)),
      'a git pull',
    ).toBe(true);
    expect(log.some((e) => e.method === 'PATCH' && /^\/api\/workspaces\/\d+$/.test(e.path))).toBe(false);
    expect(log.some((e) => e.method === 'POST' && e.path === '/api/workspaces')).toBe(false);
    expect(comments(7)).toHaveLength(1);
    expect(lastLine(run)).toMatch(/^✔ Preview updated/);
  });

  it('switches the VPN config in place', async () => {
    expect((await runStep({ pullRequestId: 7 }, pipeVariables())).code).toBe(0);
    const run = await runStep({ pullRequestId: 7 }, pipeVariables({ VPN_CONFIG: 'lab' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(emulator, 'shop-pr-7')?.vpnConfig).toBe('lab');
    const patches = apiRequests(emulator).filter(
      (e) => e.method === 'PATCH' && /^\/api\/workspaces\/\d+$/.test(e.path),
    );
    expect(patches).toHaveLength(1);
    expect(lastLine(run)).toContain('on VPN config "lab"');
  });

  it('signs in with EMAIL and PASSWORD', async () => {
    const variables = pipeVariables({ EMAIL: DEMO_EMAIL, PASSWORD: DEMO_PASSWORD });
    delete variables.API_TOKEN;
    const run = await runStep({ pullRequestId: 8 }, variables);
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(emulator, 'shop-pr-8')).toBeDefined();
    expect(emulator.requestLog().some((e) => e.path.startsWith('/auth-service/genAccessToken'))).toBe(true);
  });

  it('survives a 503 burst and a lost create response with exactly one workspace', async () => {
    emulator.arm({ kind: 'server-error', count: 2, method: 'GET' });
    emulator.arm({ kind: 'lose-create-response' });
    const run = await runStep({ pullRequestId: 7 }, pipeVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaces(emulator)).toHaveLength(1);
    expect(emulator.requestLog().filter((e) => e.fault !== undefined).length).toBeGreaterThanOrEqual(3);
  });

  it('deploys without ACCESS_TOKEN, just without a comment', async () => {
    const variables = pipeVariables();
    delete variables.ACCESS_TOKEN;
    const run = await runStep({ pullRequestId: 7 }, variables);
    expect(run.code, describeRun(run)).toBe(0);
    expect(bitbucket.calls).toEqual([]);
  });

  it('authenticates with Basic auth when ACCESS_TOKEN_USERNAME is set', async () => {
    await bitbucket.close();
    bitbucket = await startBitbucketDouble({
      token: BITBUCKET_ACCESS_TOKEN,
      username: 'ci-bot@example.com',
      workspace: BITBUCKET_REPO.workspace,
      repoSlug: BITBUCKET_REPO.slug,
      pullRequests: [{ id: 7, state: 'OPEN' }],
    });
    const run = await runStep(
      { pullRequestId: 7 },
      pipeVariables({ ACCESS_TOKEN_USERNAME: 'ci-bot@example.com' }),
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(comments(7)).toHaveLength(1);
  });
});

describe('ACTION teardown', () => {
  it('deletes the pull request preview', async () => {
    expect((await runStep({ pullRequestId: 7 }, pipeVariables())).code).toBe(0);
    const run = await runStep({ pullRequestId: 7 }, pipeVariables({ ACTION: 'teardown' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaces(emulator)).toEqual([]);
    expect(lastLine(run)).toMatch(/^✔ Preview deleted: workspace shop-pr-7/);
    expect(comments(7)[0]?.content.raw).toMatch(/Preview deleted/);
  });

  it('succeeds with nothing to delete', async () => {
    const run = await runStep({ pullRequestId: 9 }, pipeVariables({ ACTION: 'teardown' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(lastLine(run)).toBe('✔ Nothing to delete: no workspace shop-pr-9');
  });
});

describe('bad input: non-zero exit, a ✖ line with the available names, nothing created', () => {
  it.each([
    { variable: 'TEAM', value: 'Nope', expected: ['My Team', 'Platform Team'] },
    { variable: 'PLAN', value: 'Bost', expected: ['Micro', 'Boost', 'Pro'] },
    { variable: 'VPN_CONFIG', value: 'ofice', expected: ['ofice', 'My Team'] },
  ])('$variable=$value', async ({ variable, value, expected }) => {
    const run = await runStep({ pullRequestId: 7 }, pipeVariables({ [variable]: value }));
    expect(run.code, describeRun(run)).toBe(1);
    for (const name of expected) expect(run.text).toContain(name);
    expect(lastLine(run)).toMatch(/^✖ /);
    expect(workspaces(emulator)).toEqual([]);
    expect(outputVariables()).toBe('');
    expect(comments(7)[0]?.content.raw).toMatch(/failed/);
  });

  it('names the missing TEAM variable', async () => {
    const variables = pipeVariables();
    delete variables.TEAM;
    const run = await runStep({ pullRequestId: 7 }, variables);
    expect(run.code).toBe(1);
    expect(run.text).toContain('"TEAM"');
    expect(apiRequests(emulator)).toEqual([]);
  });
});

describe('ACTION prune (scheduled custom pipeline)', () => {
  it('deletes only the previews of pull requests that are no longer open, following `next` pages', async () => {
    await bitbucket.close();
    bitbucket = await startBitbucketDouble({
      token: BITBUCKET_ACCESS_TOKEN,
      workspace: BITBUCKET_REPO.workspace,
      repoSlug: BITBUCKET_REPO.slug,
      maxPageLength: 2,
      pullRequests: [
        { id: 1, state: 'OPEN' },
        { id: 2, state: 'MERGED' },
        { id: 3, state: 'DECLINED' },
        { id: 4, state: 'OPEN' },
        { id: 5, state: 'OPEN' },
        { id: 6, state: 'SUPERSEDED' },
      ],
    });
    const names = ['shop-pr-1', 'shop-pr-2', 'shop-pr-3', 'shop-pr-4', 'shop-pr-5', 'shop-pr-6'];
    for (const name of [...names, 'shop-main', 'other-pr-2', 'shop-!2', 'shop-#3'])
      await createWorkspace(emulator, name);
    backdateWorkspaces(emulator); // past prune's recent-workspace margin

    const run = await runStep({ branch: 'main' }, pipeVariables({ ACTION: 'prune' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(
      workspaces(emulator)
        .map((w) => w.name)
        .sort(),
    ).toEqual(
      ['shop-pr-1', 'shop-pr-4', 'shop-pr-5', 'shop-main', 'other-pr-2', 'shop-!2', 'shop-#3'].sort(),
    );
    const pages = bitbucket.calls.filter((c) => c.path.endsWith('/pullrequests'));
    expect(pages.length, 'three open PRs at two per page').toBe(2);
    expect(pages.every((c) => c.query.state === 'OPEN')).toBe(true);
    expect(lastLine(run)).toMatch(/^✔ Pruned 3 preview/);
  });

  it('lists without deleting on DRY_RUN', async () => {
    await createWorkspace(emulator, 'shop-pr-2');
    backdateWorkspaces(emulator);
    bitbucket.setState(2, 'MERGED');
    const run = await runStep({ branch: 'main' }, pipeVariables({ ACTION: 'prune', DRY_RUN: 'true' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.text).toMatch(/would delete shop-pr-2/);
    expect(workspaces(emulator)).toHaveLength(1);
  });

  it('deletes nothing when the API refuses the token', async () => {
    await createWorkspace(emulator, 'shop-pr-2');
    const run = await runStep(
      { branch: 'main' },
      pipeVariables({ ACTION: 'prune', ACCESS_TOKEN: 'wrong-token-value' }),
    );
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(/^✖ list open pull requests failed.*401/);
    expect(workspaces(emulator)).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('masks every credential, the OIDC token and secret ENV values, even with DEBUG and a failure', async () => {
    const env = 'API_SECRET=s3cr3t-value-for-preview\nMODE=preview';
    const ok = await runStep({ pullRequestId: 7 }, pipeVariables({ DEBUG: 'true', ENV: env }));
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(ok.text).toContain('DEBUG:');
    const bad = await runStep(
      { pullRequestId: 7 },
      pipeVariables({ DEBUG: 'true', ENV: env, VPN_CONFIG: 'nope' }),
    );
    expect(bad.code).toBe(1);
    for (const run of [ok, bad]) expect(run.text).not.toContain('s3cr3t-value-for-preview');
  });
});
