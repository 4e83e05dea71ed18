/**
 * The workflow against the in-memory CodesphereApi (fake-codesphere.ts): no HTTP, virtual time.
 * Each test asserts on what exists in the fake afterwards, and on the calls that changed it.
 * (The same paths over HTTP, with faults and latency, run against the emulator in the other suites.)
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';

import { deploy, teardown } from '../../shared/index.js';
import {
  ApiError,
  ConfigError,
  DeployCancelledError,
  DeploymentError,
  RedirectRefusedError,
  VpnCheckFailedError,
  WorkspaceGoneError,
} from '../../shared/errors.js';
import type { JobInput } from '../../shared/request/job-input.js';
import type { CoreDeps } from '../../shared/workflow/deps.js';
import { FakeCodesphere, lostResponse, TEAM, VirtualClock } from './fake-codesphere.js';
import { RecordingReporter } from './helpers.js';

const TOKEN = 'fake-api-token-0123456789';
const COMMIT = 'c0ffee0123456789abcdef0123456789abcdef01';
const NAME = 'shop-#42';

function input(overrides: Partial<JobInput> = {}): JobInput {
  return {
    // Never contacted: every call goes to the fake. `.invalid` cannot resolve, should anything try.
    apiUrl: 'https://codesphere.invalid',
    apiToken: TOKEN,
    team: TEAM.name,
    plan: 'Boost',
    vpnConfig: 'office',
    platform: 'github',
    repository: 'acme/shop',
    gitUrl: 'https://github.com/acme/shop.git',
    branch: 'feature/login',
    commit: COMMIT,
    changeNumber: '42',
    ...overrides,
  };
}

let clock: VirtualClock;
let fake: FakeCodesphere;
let fetchSpy: MockInstance<typeof fetch>;

function deps(extra: Partial<CoreDeps> = {}): Partial<CoreDeps> {
  return { clock, codesphere: fake.connect, userAgent: 'fake-api-tests', ...extra };
}

beforeEach(() => {
  clock = new VirtualClock();
  // Stages take a virtual minute, provisioning 20 s: the polls' sleeps pass them at no real cost.
  fake = new FakeCodesphere({ clock, provisionMs: 20_000, stageMs: 60_000 });
  fake.branchHeads.set('feature/login', COMMIT);
  fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no HTTP in fake-API tests'));
});

afterEach(() => {
  expect(fetchSpy).not.toHaveBeenCalled();
  fetchSpy.mockRestore();
});

const changing = () =>
  fake.calls
    .filter(
      (c) =>
        ![
          'listTeams',
          'listPlans',
          'listWorkspaces',
          'getWorkspaceStatus',
          'pipelineStatus',
          'listEnvVars',
          'gitHead',
          'followLogs',
        ].includes(c.op),
    )
    .map((c) => c.op);

describe('deploy and teardown against the in-memory API', () => {
  it('create: one workspace with the requested plan, replicas and VPN config; prepare then run', async () => {
    const started = Date.now();
    const result = await deploy(input({ replicas: '2' }), new RecordingReporter(), deps());
    expect(result).toMatchObject({ action: 'created', name: NAME, vpnConfig: 'office', changes: [] });
    const [ws] = fake.list();
    expect(fake.list()).toHaveLength(1);
    expect(ws).toMatchObject({
      name: NAME,
      planId: 8,
      replicas: 2,
      vpnConfig: 'office',
      initialBranch: 'feature/login',
    });
    expect(result.url).toBe(`https://${ws?.devDomain}`);
    expect(changing()).toEqual(['createWorkspace', 'startPipelineStage', 'startPipelineStage']);
    expect(fake.callsOf('startPipelineStage').map((a) => a[1])).toEqual(['prepare', 'run']);
    // A virtual minute per stage and 20 s of provisioning passed on the clock, not in real time.
    expect(result.timings['prepare']).toBeGreaterThanOrEqual(60_000);
    expect(result.timings['provision']).toBeGreaterThanOrEqual(20_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('update: changes only what differs, keeps the workspace, pulls and restarts the pipeline', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const [before] = fake.list();
    fake.calls.length = 0;
    fake.branchHeads.set('feature/login', 'feed'.repeat(10));
    const result = await deploy(
      input({ replicas: '3', plan: 'Pro', commit: 'feed'.repeat(10) }),
      new RecordingReporter(),
      deps(),
    );
    expect(result.action).toBe('updated');
    expect(result.changes).toEqual(['plan: 8 -> 9 (Pro)', 'replicas: 1 -> 3']);
    expect(fake.list()).toEqual([{ ...before, planId: 9, replicas: 3 }]);
    expect(fake.callsOf('updateWorkspace')).toEqual([[before?.id, { planId: 9, replicas: 3 }]]);
    expect(changing()).toEqual(['updateWorkspace', 'gitPull', 'startPipelineStage', 'startPipelineStage']);
  });

  it('no-op update: same commit, nothing changed, run stage running: no PATCH, no pull, no restart', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const before = fake.list();
    fake.calls.length = 0;
    const reporter = new RecordingReporter();
    const result = await deploy(input(), reporter, deps());
    expect(result).toMatchObject({ action: 'updated', changes: [] });
    expect(fake.list()).toEqual(before);
    expect(changing()).toEqual([]);
    expect(reporter.shown()).toContain('no restart needed');
  });

  it('teardown: deletes the preview; a second teardown finds nothing and succeeds', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    await fake.createWorkspace({
      teamId: TEAM.id,
      name: 'hand-made',
      planId: 7,
      isPrivateRepo: false,
      replicas: 1,
    });
    const id = fake.list()[0]?.id;
    const first = await teardown(input(), new RecordingReporter(), deps());
    expect(first).toEqual({ name: NAME, workspaceId: id, deleted: true });
    expect(fake.summary()).toEqual(['hand-made (none)']);
    const again = await teardown(input(), new RecordingReporter(), deps());
    expect(again).toEqual({ name: NAME, deleted: false });
    expect(fake.summary()).toEqual(['hand-made (none)']);
  });

  it('VPN switch in place: one PATCH with the new config only, same workspace, checked from inside', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const [before] = fake.list();
    fake.calls.length = 0;
    const result = await deploy(
      input({ vpnConfig: 'lab', vpnCheck: '10.0.0.5' }),
      new RecordingReporter(),
      deps(),
    );
    expect(result.changes).toEqual(['vpnConfig: office -> lab']);
    expect(result.vpnCheck).toMatchObject({ status: 'passed', target: '10.0.0.5' });
    expect(fake.callsOf('updateWorkspace')).toEqual([[before?.id, { vpnConfig: 'lab' }]]);
    expect(fake.list()).toEqual([{ ...before, vpnConfig: 'lab' }]);
  });

  it('zero-downtime VPN switch: the new workspace takes the name, the old one is deleted', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const [old] = fake.list();
    const result = await deploy(
      input({ vpnConfig: 'lab', vpnCheck: '10.0.0.5', vpnSwitch: 'zero-downtime' }),
      new RecordingReporter(),
      deps(),
    );
    expect(fake.summary()).toEqual([`${NAME} lab`]);
    expect(fake.list()[0]?.id).not.toBe(old?.id);
    expect(result.workspaceId).toBe(fake.list()[0]?.id);
  });
});

describe('failures leave no orphan and no duplicate', () => {
  it('zero-downtime switch whose VPN check fails: the replacement is removed, the old one serves on', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const [old] = fake.list();
    fake.reach = { '10.0.0.5': ['office'] }; // lab does not reach the host
    const err = await deploy(
      input({ vpnConfig: 'lab', vpnCheck: '10.0.0.5', vpnSwitch: 'zero-downtime' }),
      new RecordingReporter(),
      deps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    expect((err as Error).message).toContain('was removed');
    expect(fake.list()).toEqual([old]);
    expect(fake.callsOf('createWorkspace')).toHaveLength(2);
  });

  it('a VPN check that fails is an outcome with its replica and output, carried by the error; the preview is not reported ready', async () => {
    fake.reach = { '10.0.0.5': ['lab'] }; // office does not reach the host
    const err = await deploy(
      input({ vpnCheck: '10.0.0.5', replicas: '2' }),
      new RecordingReporter(),
      deps(),
    ).catch((e: unknown) => e);
    // The workspace exists, so the deploy says what is left; the check's failed outcome is its cause.
    expect(err).toBeInstanceOf(DeploymentError);
    const cause = (err as Error).cause;
    expect(cause).toBeInstanceOf(VpnCheckFailedError);
    expect((cause as VpnCheckFailedError).outcome).toEqual({
      status: 'failed',
      target: '10.0.0.5',
      replica: 0,
      output: 'unreachable\n(exit status 1)',
      message: (cause as Error).message,
    });
    expect((err as Error).message).toContain('not reachable from replica 0');
  });

  it('a VPN check that passes on every replica is the passed outcome of the result', async () => {
    fake.reach = { '10.0.0.5': ['office'] };
    const result = await deploy(
      input({ vpnCheck: '10.0.0.5', replicas: '2' }),
      new RecordingReporter(),
      deps(),
    );
    expect(result.vpnCheck).toEqual({ status: 'passed', target: '10.0.0.5', output: 'reachable\nreachable' });
  });

  it('unknown VPN config: an input error naming the team, nothing created', async () => {
    const err = await deploy(input({ vpnConfig: 'ofice' }), new RecordingReporter(), deps()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('VPN config "ofice" does not exist in team "My Team"');
    expect(fake.list()).toEqual([]);
  });

  it('a create whose response is lost: found by name, exactly one workspace', async () => {
    fake.fail('createWorkspace', lostResponse('createWorkspace'), { afterActing: true });
    const reporter = new RecordingReporter();
    const result = await deploy(input(), reporter, deps());
    expect(fake.summary()).toEqual([`${NAME} office`]);
    expect(result.workspaceId).toBe(fake.list()[0]?.id);
    expect(fake.callsOf('createWorkspace')).toHaveLength(1);
    expect(reporter.texts('warning').join('\n')).toContain("The create's response was lost");
  });

  it('a change request closed while the deploy ran: its workspace is deleted, nothing reported ready', async () => {
    let asked = 0;
    const state = () => Promise.resolve(asked++ === 0 ? ('open' as const) : ('closed' as const));
    const err = await deploy(input(), new RecordingReporter(), deps({ changeRequests: { state } })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeployCancelledError);
    expect(fake.list()).toEqual([]);
    expect(fake.callsOf('createWorkspace')).toHaveLength(1);
  });

  it('a workspace deleted right before the update PATCH: reported gone, not "left in place"', async () => {
    await deploy(input(), new RecordingReporter(), deps());
    const [before] = fake.list();
    // A teardown (or a person in Codesphere) deletes the preview between the run's list and its
    // PATCH: the PATCH answers 404 as Codesphere does for a missing workspace.
    fake.fail('updateWorkspace', () => {
      void fake.deleteWorkspace(before?.id ?? 0);
      return new ApiError({
        operation: 'updateWorkspace',
        kind: 'http',
        status: 404,
        title: 'Not Found',
        detail: `Workspace ${before?.id} not found`,
      });
    });
    const err = await deploy(input({ plan: 'Pro' }), new RecordingReporter(), deps()).catch(
      (e: unknown) => e,
    );
    expect(fake.callsOf('updateWorkspace')).toEqual([[before?.id, { planId: 9 }]]);
    expect(fake.list()).toEqual([]);
    expect(err).toBeInstanceOf(WorkspaceGoneError);
    expect((err as Error).message).toContain(
      `Workspace ${before?.id} was deleted while this deploy was running`,
    );
    expect((err as Error).message).not.toContain('left in place');
  });

  it('a refused redirect on create: its own kind reaches the caller, nothing created, no secret', async () => {
    fake.fail(
      'createWorkspace',
      () =>
        new RedirectRefusedError(
          { operation: 'createWorkspace', status: 302, target: 'http://evil.example', refusal: 'insecure' },
          'Codesphere API call createWorkspace was redirected to an insecure location (http://evil.example); refusing to send credentials there.',
        ),
    );
    const reporter = new RecordingReporter();
    const err = await deploy(input(), reporter, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectRefusedError);
    expect(fake.list()).toEqual([]);
    expect(reporter.shown()).not.toContain(TOKEN);
  });
});
