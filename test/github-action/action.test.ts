/**
 * The built action (github-action/dist/index.js) run as the GitHub runner runs it, against the
 * Codesphere emulator and a GitHub API double. Every test asserts outcomes: the emulator's
 * workspaces and request log, the GitHub calls received, the outputs and summary files, the exit
 * code, and that no secret leaked.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  assertNoSecretLeaks,
  describeRun,
  runPullRequest,
  startFixtureEmulator,
  startGitHubDouble,
  waitFor,
  type GitHubDouble,
} from './fixture.js';
import { backdateWorkspaces } from '../doubles/fixture.js';
import { DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOKEN, errorLines, runAction } from './harness.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { workspaceName } from '../../shared/workflow/naming.js';
import { CLONE_URL, OWNER, REPO, pullRequestPayload, pushPayload, schedulePayload } from './payloads.js';

/** The shared note's marker (shared/ci/note.ts), the same on GitHub as on GitLab. */
const MARKER = '<!-- codesphere-deploy:preview -->';
/** The marker older releases wrote into GitHub comments: still recognised, then rewritten. */
const OLD_MARKER = '<!-- codesphere-deploy -->';

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
});
afterEach(async () => {
  expect(github.unhandled, 'GitHub calls the double does not know').toEqual([]);
  expect(validateGitHubCalls(github.calls), 'GitHub calls against @octokit/openapi').toEqual([]);
  expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
  await github.close();
});

const workspaces = () => emulator.state().workspaces;
const workspaceNamed = (name: string) => workspaces().find((w) => w.name === name);
const apiRequests = () => emulator.requestLog().filter((e) => e.path.startsWith('/api/'));
const sha = (n: number) => n.toString(16).padStart(40, 'c');
const branchPreview = (branch: string) =>
  workspaceName({ platform: 'github', repository: `${OWNER}/${REPO}`, branch });

function allTunnelsUp(name: string) {
  const w = workspaceNamed(name);
  if (w === undefined || w.tunnels.length !== w.replicas) return undefined;
  return w.tunnels.every((t) => t.tunnel.state === 'up') ? w : undefined;
}

describe('pull_request opened', () => {
  it('creates the workspace on the VPN, a deployment, one comment, outputs and a summary; masks every credential input first', async () => {
    const run = await runPullRequest({ emulator, github }, { action: 'opened', number: 12, sha: sha(12) });
    expect(run.code, describeRun(run)).toBe(0);
    // Every credential input is masked before anything else is printed (before the first request).
    const lines = run.stdout.split('\n');
    const masks = lines.slice(
      0,
      lines.findIndex((l) => !l.startsWith('::add-mask::')),
    );
    expect(masks).toContain(`::add-mask::${DEMO_TOKEN}`);
    expect(masks.some((l) => l.startsWith('::add-mask::ghs_'))).toBe(true);

    const w = workspaceNamed('shop-#12');
    expect(w, 'workspace shop-#12').toBeDefined();
    expect(w?.vpnConfig).toBe('office');
    expect(w?.gitUrl).toBe(CLONE_URL);
    expect(w?.git?.branch).toBe('feature-12');
    expect(workspaces()).toHaveLength(1);
    await waitFor(() => allTunnelsUp('shop-#12'), 'the tunnel of shop-#12 to be up');

    const url = `https://${w?.devDomain ?? ''}`;
    expect(run.outputs).toMatchObject({
      'deployment-url': url,
      'workspace-id': String(w?.id),
      'workspace-name': 'shop-#12',
      'vpn-config': 'office',
      result: 'created',
    });

    expect(github.deployments).toHaveLength(1);
    const [deployment] = github.deployments;
    expect(deployment?.environment).toBe('Codesphere Preview #12');
    expect(deployment?.ref).toBe(sha(12));
    expect(deployment?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment?.statuses[1]?.environment_url).toBe(url);
    expect(deployment?.statuses[1]?.log_url).toBe('https://github.com/acme/shop/actions/runs/4242');
    expect(run.outputs['github-deployment-id']).toBe(String(deployment?.id));

    expect(github.comments).toHaveLength(1);
    const body = github.comments[0]?.body ?? '';
    expect(body.startsWith(MARKER)).toBe(true);
    expect(body).toContain(`**Codesphere preview** · ✅ Preview deployed: ${url}`);
    for (const expected of [
      `| URL | ${url} |`,
      `| Workspace | shop-#12 (id ${w?.id}) |`,
      '| VPN config | office |',
      // One commit length on every platform: 12 characters.
      `| Commit | ${sha(12).slice(0, 12)} |`,
      '| Job | https://github.com/acme/shop/actions/runs/4242 |',
    ]) {
      expect(body).toContain(expected);
    }
    expect(run.summary).toContain(url);
    expect(run.summary).toContain('| VPN config | office |');
    expect(errorLines(run.stdout)).toEqual([]);
  });

  it("adopts the comment an earlier version wrote with GitHub's old marker: updated in place, no second one", async () => {
    // What the action wrote before every platform shared one note: its own marker and layout.
    const oldBody = [
      OLD_MARKER,
      '<!-- codesphere-deploy:run 4000.1.0 -->',
      '### ✅ Codesphere preview ready',
      '',
      '| | |',
      '| --- | --- |',
      '| **URL** | https://old.example.test |',
    ].join('\n');
    // A person quoting the old marker: not ours, never touched.
    const quote = `> the bot wrote ${OLD_MARKER} above\nthanks!`;
    github.comments.push(
      { id: 1, issue: 14, body: oldBody, user: 'github-actions[bot]' },
      { id: 2, issue: 14, body: quote, user: 'octocat' },
    );
    const run = await runPullRequest({ emulator, github }, { action: 'opened', number: 14, sha: sha(14) });
    expect(run.code, describeRun(run)).toBe(0);
    const url = run.outputs['deployment-url'] ?? '';
    expect(url).not.toBe('');

    const comments = github.comments.filter((c) => c.issue === 14);
    expect(comments.map((c) => c.id)).toEqual([1, 2]);
    expect(comments[0]?.body.startsWith(MARKER), comments[0]?.body).toBe(true);
    expect(comments[0]?.body).toContain(`✅ Preview deployed: ${url}`);
    expect(comments[0]?.body).not.toContain('old.example.test');
    expect(comments[1]?.body).toBe(quote);
    expect(
      github.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/issues/14/comments')),
      'no second comment',
    ).toEqual([]);
  });

  it('deploys for pull_request_target the same way', async () => {
    const run = await runPullRequest(
      { emulator, github, extra: { eventName: 'pull_request_target' } },
      { action: 'opened', number: 13 },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed('shop-#13')?.vpnConfig).toBe('office');
  });
});

describe('pull_request synchronize', () => {
  it('updates the same workspace with a git pull, without touching its VPN config', async () => {
    const first = await runPullRequest({ emulator, github }, { action: 'opened', number: 21, sha: sha(1) });
    expect(first.code, describeRun(first)).toBe(0);
    const before = workspaceNamed('shop-#21');
    await waitFor(() => allTunnelsUp('shop-#21'), 'tunnel up after opened');
    const upSince = before === undefined ? [] : allTunnelsUp('shop-#21')?.tunnels.map((t) => t.tunnel);

    // A new commit on the PR branch, then the synchronize event GitHub sends for it.
    const newCommit = 'feedface'.repeat(5);
    emulator.world.push(CLONE_URL, 'feature-21', newCommit);
    const log = emulator.requestLog().length;
    const second = await runPullRequest(
      { emulator, github },
      { action: 'synchronize', number: 21, sha: newCommit },
    );
    expect(second.code, describeRun(second)).toBe(0);

    const after = workspaceNamed('shop-#21');
    expect(after?.id).toBe(before?.id);
    expect(workspaces()).toHaveLength(1);
    expect(after?.git?.commit).toBe(newCommit);
    expect(after?.vpnConfig).toBe('office');
    expect(second.outputs['result']).toBe('updated');
    expect(second.outputs['workspace-id']).toBe(first.outputs['workspace-id']);

    const calls = emulator.requestLog().slice(log);
    expect(
      calls.some((c) => c.method === 'POST' && c.path.includes(`/workspaces/${after?.id}/git/pull`)),
    ).toBe(true);
    expect(
      calls.filter((c) => c.method === 'PATCH'),
      'no PATCH: the VPN config did not change',
    ).toEqual([]);
    expect(calls.filter((c) => c.method === 'POST' && /\/api\/workspaces\/?$/.test(c.path))).toEqual([]);
    // The tunnels were not restarted: same state objects (virtual IP and "since").
    expect(allTunnelsUp('shop-#21')?.tunnels.map((t) => t.tunnel)).toEqual(upSince);

    // One comment, edited in place, now naming the new commit.
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]?.body).toContain(newCommit.slice(0, 7));
    expect(github.calls.some((c) => c.method === 'PATCH' && c.path.includes('/issues/comments/'))).toBe(true);
    expect(github.deployments).toHaveLength(2);
    // The new deployment succeeded and (GitHub's auto_inactive) retired the previous one.
    expect(github.deployments.map((d) => d.statuses.at(-1)?.state)).toEqual(['inactive', 'success']);
  });

  it('switches the VPN config when the input changes (office -> lab), restarting the tunnels', async () => {
    const first = await runPullRequest({ emulator, github }, { action: 'opened', number: 22 });
    expect(first.code, describeRun(first)).toBe(0);
    const log = emulator.requestLog().length;
    const second = await runPullRequest(
      { emulator, github, inputs: { vpnConfig: 'lab' } },
      { action: 'synchronize', number: 22 },
    );
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.outputs['vpn-config']).toBe('lab');
    expect(second.outputs['result']).toBe('updated');
    expect(workspaceNamed('shop-#22')?.vpnConfig).toBe('lab');
    expect(workspaces()).toHaveLength(1);
    const patches = emulator
      .requestLog()
      .slice(log)
      .filter((c) => c.method === 'PATCH');
    expect(patches).toHaveLength(1);
    const w = await waitFor(() => allTunnelsUp('shop-#22'), 'the tunnel on lab to be up');
    expect(w.tunnels.every((t) => t.vpnConfig === 'lab')).toBe(true);
    expect(github.comments[0]?.body).toContain('| VPN config | lab |');
  });
  it('switches with vpnSwitch: zero-downtime, ending with one workspace of the same name on lab', async () => {
    const first = await runPullRequest({ emulator, github }, { action: 'opened', number: 23 });
    expect(first.code, describeRun(first)).toBe(0);
    const second = await runPullRequest(
      { emulator, github, inputs: { vpnConfig: 'lab', vpnSwitch: 'zero-downtime' } },
      { action: 'synchronize', number: 23 },
    );
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.outputs['vpn-config']).toBe('lab');
    expect(workspaces().map((w) => [w.name, w.vpnConfig])).toEqual([['shop-#23', 'lab']]);
    // A replacement workspace took over the name: new id, new URL, and the deployment and the
    // comment point at it.
    expect(second.outputs['workspace-id']).toBe(String(workspaceNamed('shop-#23')?.id));
    expect(second.outputs['workspace-id']).not.toBe(first.outputs['workspace-id']);
    expect(github.deployments.at(-1)?.statuses.at(-1)?.environment_url).toBe(
      second.outputs['deployment-url'],
    );
    expect(github.comments[0]?.body).toContain(second.outputs['deployment-url']);
    expect(second.outputs['deployment-url']).toBe(`https://${workspaceNamed('shop-#23')?.devDomain ?? ''}`);
    await waitFor(() => allTunnelsUp('shop-#23'), 'the tunnel on lab to be up');
  });

  it('rejects an unknown vpnSwitch before anything changes', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { vpnSwitch: 'blue-green' } },
      { action: 'opened', number: 24 },
    );
    expect(run.code).not.toBe(0);
    expect(errorLines(run.stdout)[0]).toContain('blue-green');
    expect(errorLines(run.stdout)[0]).toContain('zero-downtime');
    expect(workspaces()).toEqual([]);
  });
});

describe('pull_request closed', () => {
  it('deletes the workspace and marks the PR deployments inactive', async () => {
    const opened = await runPullRequest({ emulator, github }, { action: 'opened', number: 31 });
    expect(opened.code, describeRun(opened)).toBe(0);
    const closed = await runPullRequest({ emulator, github }, { action: 'closed', number: 31, merged: true });
    expect(closed.code, describeRun(closed)).toBe(0);
    expect(workspaceNamed('shop-#31')).toBeUndefined();
    expect(closed.outputs).toMatchObject({
      result: 'deleted',
      'workspace-name': 'shop-#31',
      'workspace-id': opened.outputs['workspace-id'],
    });
    expect(github.deployments.map((d) => d.statuses.at(-1)?.state)).toEqual(['inactive']);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]?.body).toContain('🗑️ Preview deleted: workspace shop-#31');
  });

  it('succeeds when there is nothing to delete', async () => {
    const closed = await runPullRequest({ emulator, github }, { action: 'closed', number: 32 });
    expect(closed.code, describeRun(closed)).toBe(0);
    expect(closed.outputs['result']).toBe('nothing-to-delete');
    expect(apiRequests().filter((c) => c.method === 'DELETE')).toEqual([]);
    expect(github.comments[0]?.body).toContain('Preview already gone: no workspace shop-#32');
  });
});

describe('bad input fails before anything is created', () => {
  it.each([
    ['team', { team: 'No Such Team' }, ['No Such Team', 'My Team', 'Platform Team']],
    ['plan', { plan: 'Bost' }, ['Bost', 'Micro', 'Boost', 'Pro']],
    ['vpnConfig', { vpnConfig: 'ofice' }, ['ofice', 'My Team']],
  ])('unknown %s', async (_field, inputs, expected) => {
    const run = await runPullRequest({ emulator, github, inputs }, { action: 'opened', number: 41 });
    expect(run.code, describeRun(run)).not.toBe(0);
    const errors = errorLines(run.stdout);
    expect(errors).toHaveLength(1);
    for (const text of expected) expect(errors[0]).toContain(text);
    expect(workspaces()).toEqual([]);
    // An unknown VPN config is only found out by Codesphere's create (there is no API to list
    // them), which answers 400 and creates nothing: no create may have succeeded.
    const creates = apiRequests().filter((c) => c.method === 'POST' && /\/api\/workspaces\/?$/.test(c.path));
    expect(creates.filter((c) => c.status < 300)).toEqual([]);
    // Where people look: the deployment failed, the comment says so.
    expect(github.deployments[0]?.statuses.at(-1)?.state).toBe('failure');
    expect(github.comments[0]?.body).toContain('failed');
  });

  it('rejects an unknown "action" input naming the valid values, failing exactly once', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { action: 'destroy' } },
      { action: 'opened', number: 42 },
    );
    expect(run.code).not.toBe(0);
    const errors = errorLines(run.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('"action"');
    expect(errors[0]).toContain('destroy');
    expect(errors[0]).toContain('auto, deploy, teardown, prune');
    expect(emulator.requestLog()).toEqual([]);
  });
});

describe('credentials and plans', () => {
  it("signs in with email and password (the official action's inputs)", async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { apiToken: '', email: DEMO_EMAIL, password: DEMO_PASSWORD } },
      { action: 'opened', number: 51 },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(emulator.requestLog().some((e) => e.path.startsWith('/auth-service/signIn'))).toBe(true);
    expect(workspaceNamed('shop-#51')).toBeDefined();
    // The password and the demo token were registered with the runner's masking.
    expect(run.stdout).toContain(`::add-mask::${DEMO_PASSWORD}`);
  });

  it('picks the on-demand variant of the plan when onDemand is true', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { plan: 'Boost', onDemand: 'true' } },
      { action: 'opened', number: 52 },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed('shop-#52')?.planId).toBe(40);
  });
});

describe('faults', () => {
  it('rides out a 429 with Retry-After and a 503', async () => {
    emulator.arm({ kind: 'rate-limit', method: 'GET', path: '/api/teams', retryAfterSeconds: 1 });
    emulator.arm({ kind: 'server-error', status: 503, method: 'GET', path: '/api/metadata/workspace-plans' });
    const run = await runPullRequest({ emulator, github }, { action: 'opened', number: 61 });
    expect(run.code, describeRun(run)).toBe(0);
    const statuses = emulator.requestLog().map((e) => e.status);
    expect(statuses).toContain(429);
    expect(statuses).toContain(503);
    expect(workspaces().filter((w) => w.name === 'shop-#61')).toHaveLength(1);
  });

  it('keeps deploying when GitHub refuses deployments and comments (403): warnings, not a failure', async () => {
    github.refuse.add('deployments');
    github.refuse.add('comments');
    const run = await runPullRequest({ emulator, github }, { action: 'opened', number: 62 });
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed('shop-#62')).toBeDefined();
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning'));
    expect(warnings.some((w) => w.includes('403') && w.includes('deployments: write'))).toBe(true);
    expect(warnings.some((w) => w.includes('403') && w.includes('pull-requests: write'))).toBe(true);
    expect(run.outputs['deployment-url']).toMatch(/^https:\/\//);
  });
});

describe('comment: false', () => {
  it('keeps the deployment but posts no comment', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { comment: 'false' } },
      { action: 'opened', number: 63 },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(github.comments).toEqual([]);
    expect(github.calls.filter((c) => c.path.includes('/issues/'))).toEqual([]);
    expect(github.deployments[0]?.statuses.at(-1)?.state).toBe('success');
  });
});

describe('pull requests without secrets', () => {
  it.each([
    ['a fork', { fork: 'stranger/shop' }],
    ['Dependabot', { author: 'dependabot[bot]' }],
  ])('skips %s with a notice and exit 0', async (_who, pr) => {
    const run = await runAction({
      eventName: 'pull_request',
      payload: pullRequestPayload({ action: 'opened', number: 71, ...pr }),
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, team: 'My Team', vpnConfig: 'office' },
    });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout).toMatch(/::notice::Skipping the Codesphere preview of #71/);
    expect(run.outputs['result']).toBe('skipped');
    expect(emulator.requestLog()).toEqual([]);
    expect(github.calls).toEqual([]);
  });

  it('deploys a fork PR when secrets are available (pull_request_target), cloning the fork', async () => {
    const run = await runPullRequest(
      { emulator, github, extra: { eventName: 'pull_request_target' } },
      { action: 'opened', number: 72, fork: 'stranger/shop' },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed('shop-#72')?.gitUrl).toBe('https://github.com/stranger/shop.git');
  });
});

describe('branch previews (push, workflow_dispatch)', () => {
  const branchRun = (eventName: string, payload: object) =>
    runAction({
      eventName,
      payload,
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
    });

  it('deploys a pushed branch as <repo>-<branch slug>-<fingerprint> and deletes it when the branch is deleted', async () => {
    const commit = emulator.world.push(CLONE_URL, 'release/2.0');
    const run = await branchRun('push', pushPayload('release/2.0', commit));
    assertNoSecretLeaks(run, github);
    expect(run.code, describeRun(run)).toBe(0);
    const name = branchPreview('release/2.0');
    expect(name).toMatch(/^shop-release-2\.0-[a-z]{10}$/);
    const w = workspaceNamed(name);
    expect(w?.git).toEqual({ branch: 'release/2.0', commit });
    expect(run.outputs['workspace-name']).toBe(name);
    expect(github.deployments.map((d) => [d.environment, d.ref])).toEqual([
      ['Codesphere Preview release/2.0', commit],
    ]);
    expect(github.comments, 'no pull request, no comment').toEqual([]);
    expect(run.summary).toContain(`✅ Preview deployed: ${run.outputs['deployment-url']}`);

    const deleted = await branchRun('push', pushPayload('release/2.0', commit, { deleted: true }));
    expect(deleted.code, describeRun(deleted)).toBe(0);
    expect(deleted.outputs['result']).toBe('deleted');
    expect(workspaceNamed(name)).toBeUndefined();
    expect(github.deployments[0]?.statuses.at(-1)?.state).toBe('inactive');
  });

  it('deploys the dispatched branch on workflow_dispatch', async () => {
    const run = await branchRun('workflow_dispatch', { ref: 'refs/heads/main', inputs: {} });
    expect(run.code, describeRun(run)).toBe(0);
    expect(workspaceNamed(branchPreview('main'))?.vpnConfig).toBe('office');
  });

  it('refuses a tag with a message saying what it needs', async () => {
    const run = await branchRun('push', { ...pushPayload('x', 'a'.repeat(40)), ref: 'refs/tags/v1.0.0' });
    expect(run.code).not.toBe(0);
    expect(errorLines(run.stdout)[0]).toContain('refs/tags/v1.0.0');
    expect(emulator.requestLog()).toEqual([]);
  });
});

describe('prune (scheduled clean-up)', () => {
  it('deletes previews whose pull request is no longer open, keeps the others', async () => {
    for (const number of [81, 82]) {
      const run = await runPullRequest({ emulator, github }, { action: 'opened', number });
      expect(run.code, describeRun(run)).toBe(0);
    }
    github.openPull(81);
    github.closePull(82);
    backdateWorkspaces(emulator); // past prune's recent-workspace margin
    const run = await runAction({
      eventName: 'schedule',
      payload: schedulePayload(),
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team' },
    });
    assertNoSecretLeaks(run, github);
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.outputs['result']).toBe('pruned');
    expect(JSON.parse(run.outputs['pruned'] ?? '[]')).toEqual(['shop-#82']);
    expect(workspaces().map((w) => w.name)).toEqual(['shop-#81']);
    expect(run.summary).toContain('shop-#82');
  });

  it('prunes nothing when the open pull requests cannot be listed', async () => {
    const opened = await runPullRequest({ emulator, github }, { action: 'opened', number: 83 });
    expect(opened.code, describeRun(opened)).toBe(0);
    github.refuse.add('pulls');
    const run = await runAction({
      eventName: 'workflow_dispatch',
      payload: { ref: 'refs/heads/main', inputs: {} },
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', action: 'prune' },
    });
    expect(run.code).not.toBe(0);
    expect(errorLines(run.stdout)[0]).toContain('nothing was pruned');
    expect(workspaceNamed('shop-#83')).toBeDefined();
  });
});
