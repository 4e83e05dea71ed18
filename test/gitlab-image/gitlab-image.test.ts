/**
 * The built GitLab entry (gitlab-image/dist/index.js, what /app/server runs) as GitLab runs it: a
 * process in the job's directory with GitLab's predefined variables and the job's `variables:`,
 * against the Codesphere emulator and a GitLab API double. Every test asserts outcomes: the
 * emulator's workspaces and request log, the dotenv report, the MR note, the exit code, the log.
 */
import { existsSync, readFileSync } from 'node:fs';
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
  workspaceNamed,
  workspaces,
} from '../doubles/fixture.js';
import { workspaceName } from '../../shared/workflow/naming.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_EMAIL,
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
const MARKER = '<!-- codesphere-deploy:preview -->';
const CLONE_URL = `${GITLAB_PROJECT.url}.git`;

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
let job: { dir: string; remove(): void };

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
    mergeRequests: [1, 2, 3, 4, 12].map((iid) => ({ iid, state: 'opened' as const })),
  });
  job = jobDirectory('gitlab-job');
});
afterEach(async () => {
  expectCleanCalls(emulator, gitlab, 'GitLab');
  await gitlab.close();
  job.remove();
});

/** The job's `variables:` as the README's .gitlab-ci.yml sets them. */
const jobVariables = (extra: Record<string, string> = {}) =>
  userVariables(emulator, GITLAB_ACCESS_TOKEN, extra);

const branchPreview = (branch: string) =>
  workspaceName({ platform: 'gitlab', repository: GITLAB_PROJECT.path, branch });

/** Runs the image's entry; asserts no secret in the log, the files written or any note body. */
function runJob(shape: Omit<GitLabJob, 'apiV4Url'>, variables: Record<string, string>): Promise<EntryRun> {
  const env = { ...gitlabJobEnv({ ...shape, apiV4Url: `${gitlab.url}/api/v4` }, job.dir), ...variables };
  return runCheckedEntry(gitlabEntry, env, { dir: job.dir, double: gitlab, secrets: SECRETS });
}

function readDotenv(): Record<string, string> {
  const text = readFileSync(path.join(job.dir, 'deploy.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const workspaceRequests = (method: string, pattern: RegExp) =>
  apiRequests(emulator).filter((entry) => entry.method === method && pattern.test(entry.path));

describe('merge request pipeline: deploy', () => {
  it('creates <project>-!<iid> on the VPN config, writes the dotenv report and one MR note', async () => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);

    const w = workspaceNamed(emulator, 'shop-!12');
    expect(w, 'workspace shop-!12').toBeDefined();
    expect(workspaces(emulator)).toHaveLength(1);
    expect(w?.vpnConfig).toBe('office');
    expect(w?.gitUrl).toBe(CLONE_URL);
    expect(w?.git?.branch).toBe('feature-12');
    expect(w?.planId).toBe(8);

    const url = `https://${w?.devDomain ?? ''}`;
    expect(readDotenv()).toEqual({
      DYNAMIC_ENVIRONMENT_URL: url,
      CODESPHERE_URL: url,
      CODESPHERE_WORKSPACE_ID: String(w?.id),
      CODESPHERE_WORKSPACE_NAME: 'shop-!12',
      CODESPHERE_VPN_CONFIG: 'office',
    });

    const notes = gitlab.userNotes(12);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.body).toContain(MARKER);
    expect(notes[0]?.body).toContain(url);
    expect(notes[0]?.body).toContain('office');
    expect(gitlab.calls.every((call) => call.authorized)).toBe(true);

    expect(lastLine(run)).toMatch(/^✔ Preview created .*shop-!12/);
    expect(lastLine(run)).toContain(url);
    // GitLab renders phases as collapsible sections.
    expect(run.stdout).toMatch(/section_start:\d+:[a-z0-9_.-]+\r/);
    expect(run.stdout.match(/section_start:/g)?.length).toBe(run.stdout.match(/section_end:/g)?.length);
  });

  it('redeploys the same workspace: git pull, no VPN patch, the note edited in place', async () => {
    const first = await runJob({ mergeRequestIid: 12 }, jobVariables());
    expect(first.code, describeRun(first)).toBe(0);
    const id = workspaceNamed(emulator, 'shop-!12')?.id;
    emulator.requestLog().splice(0);
    const before = emulator.requestLog().length;

    const second = await runJob({ mergeRequestIid: 12, sha: 'b'.repeat(40) }, jobVariables());
    expect(second.code, describeRun(second)).toBe(0);
    expect(workspaces(emulator)).toHaveLength(1);
    expect(workspaceNamed(emulator, 'shop-!12')?.id).toBe(id);

    const log = emulator.requestLog().slice(before);
    expect(
      log.some((e) => e.method === 'POST' && /\/git\/pull/.test(e.path)),
      'a git pull',
    ).toBe(true);
    expect(
      log.some((e) => e.method === 'POST' && e.path === '/api/workspaces'),
      'no second create',
    ).toBe(false);
    expect(
      log.some((e) => e.method === 'PATCH' && /^\/api\/workspaces\/\d+$/.test(e.path)),
      'no PATCH: the VPN config did not change, so its tunnels must not restart',
    ).toBe(false);

    expect(gitlab.userNotes(12)).toHaveLength(1);
    expect(gitlab.calls.filter((c) => c.method === 'PUT' && c.path.includes('/notes/'))).toHaveLength(1);
    expect(lastLine(second)).toMatch(/^✔ Preview updated/);
  });

  it('switches the VPN config in place', async () => {
    expect((await runJob({ mergeRequestIid: 12 }, jobVariables())).code).toBe(0);
    const id = workspaceNamed(emulator, 'shop-!12')?.id;

    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ VPN_CONFIG: 'lab' }));
    expect(run.code, describeRun(run)).toBe(0);
    const w = workspaceNamed(emulator, 'shop-!12');
    expect(w?.id).toBe(id);
    expect(w?.vpnConfig).toBe('lab');
    expect(workspaceRequests('PATCH', /^\/api\/workspaces\/\d+$/)).toHaveLength(1);
    expect(readDotenv().CODESPHERE_VPN_CONFIG).toBe('lab');
    expect(gitlab.userNotes(12)[0]?.body).toContain('lab');
  });

  it('switches with VPN_SWITCH=zero-downtime and points the environment at the workspace that serves', async () => {
    expect((await runJob({ mergeRequestIid: 12 }, jobVariables())).code).toBe(0);
    const run = await runJob(
      { mergeRequestIid: 12 },
      jobVariables({ VPN_CONFIG: 'lab', VPN_SWITCH: 'zero-downtime' }),
    );
    expect(run.code, describeRun(run)).toBe(0);
    const serving = workspaces(emulator).filter((w) => w.name === 'shop-!12');
    expect(serving).toHaveLength(1);
    expect(serving[0]?.vpnConfig).toBe('lab');
    expect(readDotenv()).toMatchObject({
      CODESPHERE_WORKSPACE_ID: String(serving[0]?.id),
      DYNAMIC_ENVIRONMENT_URL: `https://${serving[0]?.devDomain ?? ''}`,
      CODESPHERE_VPN_CONFIG: 'lab',
    });
  });

  it('deploys from a merged-results pipeline with the source branch, not the merge ref', async () => {
    const run = await runJob(
      { mergeRequestIid: 3, branch: 'feature/login', mergedResults: true },
      jobVariables(),
    );
    expect(run.code, describeRun(run)).toBe(0);
    const w = workspaceNamed(emulator, 'shop-!3');
    expect(w?.git?.branch).toBe('feature/login');
  });

  it("signs in with EMAIL and PASSWORD (the official integration's variables)", async () => {
    const variables = jobVariables({ EMAIL: DEMO_EMAIL, PASSWORD: DEMO_PASSWORD });
    delete variables.API_TOKEN;
    const run = await runJob({ mergeRequestIid: 12 }, variables);
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(emulator, 'shop-!12')).toBeDefined();
    expect(emulator.requestLog().some((e) => e.path.startsWith('/auth-service/signIn'))).toBe(true);
  });

  it('survives rate limits, 5xx and a lost create response with exactly one workspace', async () => {
    emulator.arm({ kind: 'rate-limit', count: 1, method: 'GET', retryAfterSeconds: 0 });
    emulator.arm({ kind: 'server-error', count: 2, method: 'GET', path: '/api/workspaces/*/status' });
    emulator.arm({ kind: 'lose-create-response' });
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaces(emulator)).toHaveLength(1);
    const faulted = emulator.requestLog().filter((e) => e.fault !== undefined);
    expect(faulted.length, 'the faults were really hit').toBeGreaterThanOrEqual(3);
  });

  it('keeps deploying when the MR note cannot be written (a warning, not a failure)', async () => {
    gitlab.failNext({ pathIncludes: '/notes' }, { status: 403, body: { message: '403 Forbidden' } }, 5);
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.text).toMatch(/WARNING: Could not write the preview note on !12/);
    expect(workspaceNamed(emulator, 'shop-!12')).toBeDefined();
  });

  it('writes the dotenv report where DOTENV_PATH says', async () => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ DOTENV_PATH: 'reports/preview.env' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(existsSync(path.join(job.dir, 'deploy.env'))).toBe(false);
    const report = readFileSync(path.join(job.dir, 'reports/preview.env'), 'utf8');
    expect(report).toMatch(/^DYNAMIC_ENVIRONMENT_URL=https:\/\//);
  });
});

describe('VPN_CHECK', () => {
  it('probes a private host through the tunnel and shows the result in the MR note', async () => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ VPN_CHECK: '10.250.0.5' }));
    expect(run.code, describeRun(run)).toBe(0);
    expect(gitlab.userNotes(12)[0]?.body).toContain('| VPN check | 10.250.0.5: reachable |');
  });

  it('fails naming the host and the VPN config when the tunnel cannot come up, ending on one ✖ line', async () => {
    const run = await runJob(
      { mergeRequestIid: 12 },
      // The tunnel never comes up; a short TIMEOUT ends the probe window (at most the budget) sooner.
      jobVariables({ VPN_CONFIG: 'office-wrong-psk', VPN_CHECK: '10.250.0.5', TIMEOUT: '8' }),
    );
    expect(run.code, describeRun(run)).toBe(1);
    expect(lastLine(run)).toMatch(/^✖ .*10\.250\.0\.5.*office-wrong-psk/);
    expect(run.text.split('\n').filter((line) => line.startsWith('✖'))).toHaveLength(1);
    expect(run.text).toMatch(/left in place/);
    expect(existsSync(path.join(job.dir, 'deploy.env')), 'no environment URL for a failed deploy').toBe(
      false,
    );
    expect(gitlab.userNotes(12)[0]?.body).toMatch(/failed.*office-wrong-psk/s);
  });
});

describe('branch pipeline (no merge request)', () => {
  it('creates a branch preview named after the branch and writes no MR note', async () => {
    const run = await runJob({ branch: 'feature/login' }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(branchPreview('feature/login')).toMatch(/^shop-feature-login-[a-z]{10}$/);
    expect(workspaceNamed(emulator, branchPreview('feature/login'))?.git?.branch).toBe('feature/login');
    // No note; GitLab is only asked, before the create and before "ready", whether the branch still
    // exists, with its name URL-encoded as one path segment.
    expect(gitlab.calls.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      'GET /api/v4/projects/4711/repository/branches/feature%2Flogin 200',
      'GET /api/v4/projects/4711/repository/branches/feature%2Flogin 200',
    ]);
  });
});

describe('stop job (CI_ENVIRONMENT_ACTION=stop)', () => {
  it('deletes the preview and marks the note', async () => {
    expect((await runJob({ mergeRequestIid: 12 }, jobVariables())).code).toBe(0);
    const run = await runJob({ mergeRequestIid: 12, stop: true }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaces(emulator)).toEqual([]);
    expect(lastLine(run)).toMatch(/^✔ Preview deleted: workspace shop-!12/);
    expect(gitlab.userNotes(12)).toHaveLength(1);
    expect(gitlab.userNotes(12)[0]?.body).toMatch(/Preview deleted/);
  });

  it('succeeds with nothing to delete', async () => {
    const run = await runJob({ mergeRequestIid: 4, stop: true }, jobVariables());
    expect(run.code, describeRun(run)).toBe(0);
    expect(lastLine(run)).toBe('✔ Nothing to delete: no workspace shop-!4');
    expect(workspaceRequests('DELETE', /.*/)).toEqual([]);
  });

  it('refuses a stop job whose ACTION says deploy', async () => {
    const run = await runJob({ mergeRequestIid: 12, stop: true }, jobVariables({ ACTION: 'deploy' }));
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(/ACTION/);
    expect(apiRequests(emulator)).toEqual([]);
  });
});

describe('bad input: non-zero exit, the available names, nothing created', () => {
  it.each([
    { variable: 'TEAM', value: 'No Such Team', expected: ['My Team', 'Platform Team'] },
    { variable: 'PLAN', value: 'Bost', expected: ['Micro', 'Boost', 'Pro'] },
    { variable: 'VPN_CONFIG', value: 'ofice', expected: ['ofice', 'My Team'] },
  ])('$variable=$value', async ({ variable, value, expected }) => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ [variable]: value }));
    expect(run.code, describeRun(run)).toBe(1);
    const verdict = run.text;
    for (const name of expected) expect(verdict).toContain(name);
    expect(lastLine(run)).toMatch(/^✖ /);
    expect(workspaces(emulator)).toEqual([]);
    // Codesphere has no VPN-config listing: an unknown one is refused by the create itself (400).
    expect(workspaceRequests('POST', /^\/api\/workspaces$/).filter((e) => e.status < 400)).toEqual([]);
    expect(existsSync(path.join(job.dir, 'deploy.env'))).toBe(false);
    // The MR learns about the failure in the same note a success would use.
    expect(gitlab.userNotes(12)[0]?.body).toMatch(/failed/);
  });

  it('names ACTION when it is misspelt', async () => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ ACTION: 'deploi' }));
    expect(run.code).toBe(1);
    expect(lastLine(run)).toBe(
      '✖ Invalid input "ACTION": got "deploi"; expected one of deploy, teardown, prune',
    );
  });

  it('explains that ACCESS_TOKEN is not a Codesphere credential', async () => {
    const variables = jobVariables();
    delete variables.API_TOKEN;
    const run = await runJob({ mergeRequestIid: 12 }, variables);
    expect(run.code).toBe(1);
    expect(run.text).toMatch(
      /API_TOKEN.*EMAIL and PASSWORD.*ACCESS_TOKEN is set, but it is the CI platform's token/s,
    );
    expect(apiRequests(emulator)).toEqual([]);
  });

  it('names a core field by its variable (CLONE_DEPTH, not cloneDepth)', async () => {
    const run = await runJob({ mergeRequestIid: 12 }, jobVariables({ CLONE_DEPTH: 'shallow' }));
    expect(run.code).toBe(1);
    expect(run.text).toContain('"CLONE_DEPTH"');
    expect(run.text).toContain('shallow');
  });
});

describe('prune (scheduled pipeline)', () => {
  it('deletes only the previews of merge requests that are no longer open, paging through the MRs', async () => {
    await gitlab.close();
    gitlab = await startGitLabDouble({
      token: GITLAB_ACCESS_TOKEN,
      projectId: GITLAB_PROJECT.id,
      projectPath: GITLAB_PROJECT.path,
      maxPerPage: 1,
      mergeRequests: [
        { iid: 1, state: 'opened' },
        { iid: 2, state: 'merged' },
        { iid: 3, state: 'closed' },
        { iid: 5, state: 'opened' },
      ],
    });
    for (const name of [
      'shop-!1',
      'shop-!2',
      'shop-!3',
      'shop-!5',
      'shop-main',
      'other-!2',
      'shop-#2',
      'shop-pr-3',
    ]) {
      await createWorkspace(emulator, name);
    }
    backdateWorkspaces(emulator); // past prune's recent-workspace margin

    const run = await runJob({ branch: 'main' }, jobVariables({ ACTION: 'prune' }));
    expect(run.code, describeRun(run)).toBe(0);
    const left = workspaces(emulator)
      .map((w) => w.name)
      .sort();
    expect(left).toEqual(['other-!2', 'shop-!1', 'shop-!5', 'shop-#2', 'shop-main', 'shop-pr-3'].sort());
    const pages = gitlab.calls.filter((c) => c.path.endsWith('/merge_requests'));
    expect(pages.length, 'one call per page of open MRs').toBe(2);
    expect(pages.every((c) => c.query.state === 'opened')).toBe(true);
    expect(lastLine(run)).toMatch(/^✔ Pruned 2 preview/);
  });

  it('deletes nothing when the open MRs cannot be listed', async () => {
    await createWorkspace(emulator, 'shop-!2');
    gitlab.failNext(
      { pathIncludes: '/merge_requests' },
      { status: 401, body: { message: '401 Unauthorized' } },
    );
    const run = await runJob({ branch: 'main' }, jobVariables({ ACTION: 'prune' }));
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(/list open merge requests failed.*401/);
    expect(workspaces(emulator).map((w) => w.name)).toEqual(['shop-!2']);
  });

  it('refuses to prune without ACCESS_TOKEN', async () => {
    await createWorkspace(emulator, 'shop-!2');
    const variables = jobVariables({ ACTION: 'prune' });
    delete variables.ACCESS_TOKEN;
    const run = await runJob({ branch: 'main' }, variables);
    expect(run.code).toBe(1);
    expect(lastLine(run)).toMatch(/ACCESS_TOKEN/);
    expect(workspaces(emulator)).toHaveLength(1);
  });
});

describe('secrets', () => {
  it('never prints the job token from CI_REPOSITORY_URL, even with DEBUG and a failure', async () => {
    const ok = await runJob({ mergeRequestIid: 12 }, jobVariables({ DEBUG: 'true' }));
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(ok.text).toContain('DEBUG:');
    const bad = await runJob({ mergeRequestIid: 12 }, jobVariables({ DEBUG: 'true', PLAN: 'Bost' }));
    expect(bad.code).toBe(1);
    // runJob asserted no secret in stdout, stderr, deploy.env and every note body; also the URL form:
    for (const run of [ok, bad]) expect(run.text).not.toContain(`gitlab-ci-token:${GITLAB_JOB_TOKEN}`);
  });

  it('redacts secret-looking ENV values', async () => {
    const run = await runJob(
      { mergeRequestIid: 12 },
      jobVariables({ DEBUG: 'true', ENV: 'DATABASE_PASSWORD=hunter2-very-secret\nMODE=preview' }),
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.text).not.toContain('hunter2-very-secret');
    await waitFor(() => workspaceNamed(emulator, 'shop-!12')?.env.MODE, 'the env to be set');
  });
});
