/** Every deploy path against the emulator: create, update, VPN switch, no-op, failures after create. */
import { describe, expect, it } from 'vitest';

import { deploy, DeploymentError } from '../../shared/index.js';
import { MANAGED_ENV_MARKER_VALUE, managedEnvMarker } from '../../shared/workflow/managed-env.js';
import {
  baseInput,
  count,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
  workspacesNamed,
} from './helpers.js';

const ctx = useEmulator();

describe('deploy', () => {
  it('creates the workspace with everything asked for, runs the pipeline and checks the VPN', async () => {
    const { em } = ctx;
    const reporter = new RecordingReporter();
    const result = await deploy(
      baseInput(em, {
        vpnConfig: 'office',
        env: 'PORT=3000\nDB_PASSWORD=pw-123456',
        replicas: '2',
        vpnCheck: '10.250.0.7:5432',
      }),
      reporter,
      virtualTimeDeps(),
    );
    const [ws, ...others] = workspacesNamed(em, 'shop-#42');
    expect(others).toEqual([]);
    expect(ws).toBeDefined();
    expect(result).toMatchObject({
      workspaceId: ws?.id,
      name: 'shop-#42',
      url: `https://${ws?.id}-3000.2.codesphere.com`,
      vpnConfig: 'office',
      action: 'created',
      changes: [],
      vpnCheck: { status: 'passed', target: '10.250.0.7:5432' },
    });
    expect(ws).toMatchObject({
      planId: 20,
      replicas: 2,
      vpnConfig: 'office',
      initialBranch: 'feature/login',
      gitUrl: 'https://github.com/acme/shop.git',
    });
    expect(Object.fromEntries(ws?.env ?? [])).toEqual({
      PORT: '3000',
      DB_PASSWORD: 'pw-123456',
      // One marker per name, never a value: what the next run may remove.
      [managedEnvMarker('PORT')]: MANAGED_ENV_MARKER_VALUE,
      [managedEnvMarker('DB_PASSWORD')]: MANAGED_ENV_MARKER_VALUE,
    });
    expect(em.world.stageStatus(ws!, 'prepare').map((r) => r.state)).toEqual(['success', 'success']);
    expect(em.world.stageStatus(ws!, 'run').map((r) => r.state)).toEqual(['running', 'running']);
    expect(count(em, 'POST', /^\/api\/workspaces$/)).toBe(1);
    expect(count(em, 'POST', /\/execute$/)).toBeGreaterThanOrEqual(2); // one probe per replica
    expect(Object.keys(result.timings)).toEqual(
      expect.arrayContaining(['resolve', 'apply', 'provision', 'prepare', 'run', 'vpnCheck', 'total']),
    );
    expect(reporter.texts('group')).toEqual([
      'Resolve team, plan and VPN config',
      'Create or update workspace "shop-#42"',
      'Wait for the workspace to run',
      // One group per prepare step, holding that step's streamed log (test/stage-logs/).
      'prepare: step 1 of 2 (log)',
      'prepare: step 2 of 2 (log)',
      'Pipeline: run',
      'VPN check: 10.250.0.7:5432',
    ]);
  });

  it('updates in place: env changes and new commits, no PATCH when nothing in it changed', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { env: 'A=1' }), new RecordingReporter(), virtualTimeDeps());
    const [ws] = workspacesNamed(em, 'shop-#42');
    const pushed = em.world.push('https://github.com/acme/shop.git', 'feature/login');
    em.world.failStages.clear();
    const before = em.requestLog().length;
    const reporter = new RecordingReporter();
    const result = await deploy(baseInput(em, { env: 'A=2\nB=3' }), reporter, virtualTimeDeps());
    expect(result).toMatchObject({ workspaceId: ws?.id, action: 'updated', changes: ['env: 2 set (A, B)'] });
    // No vpnCheck input: the result says the check was skipped and why, never that it passed.
    expect(result.vpnCheck).toEqual({ status: 'skipped', reason: 'no vpnCheck target was given' });
    expect(workspacesNamed(em, 'shop-#42')).toHaveLength(1);
    expect(Object.fromEntries(ws?.env ?? [])).toEqual({
      A: '2',
      B: '3',
      [managedEnvMarker('A')]: MANAGED_ENV_MARKER_VALUE,
      [managedEnvMarker('B')]: MANAGED_ENV_MARKER_VALUE,
    });
    expect(ws?.git?.commit).toBe(pushed);
    const calls = em.requestLog().slice(before);
    expect(calls.filter((c) => c.method === 'PATCH')).toEqual([]);
    expect(
      calls.filter((c) => c.method === 'POST' && c.path.endsWith('/git/pull/origin/feature%2Flogin')),
    ).toHaveLength(1);
  });

  it('switches the VPN config with one PATCH and says so; an unchanged one is never sent', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps());
    const reporter = new RecordingReporter();
    const result = await deploy(
      baseInput(em, { vpnConfig: 'lab', vpnCheck: '10.251.0.5' }),
      reporter,
      virtualTimeDeps(),
    );
    expect(result).toMatchObject({
      action: 'updated',
      vpnConfig: 'lab',
      changes: ['vpnConfig: office -> lab'],
      vpnCheck: { status: 'passed' },
    });
    expect(workspacesNamed(em, 'shop-#42')[0]?.vpnConfig).toBe('lab');
    expect(count(em, 'PATCH', /^\/api\/workspaces\/\d+$/)).toBe(1);
    expect(reporter.shown()).toContain('Switching VPN config: office -> lab');

    await deploy(baseInput(em, { vpnConfig: 'lab' }), new RecordingReporter(), virtualTimeDeps());
    expect(count(em, 'PATCH', /^\/api\/workspaces\/\d+$/)).toBe(1);

    const detach = await deploy(baseInput(em, { vpnConfig: '' }), new RecordingReporter(), virtualTimeDeps());
    expect(detach.changes).toEqual(['vpnConfig: lab -> (none)']);
    expect(workspacesNamed(em, 'shop-#42')[0]?.vpnConfig).toBeNull();
  });

  it('does nothing but look when the same commit is deployed again', async () => {
    const { em } = ctx;
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    await deploy(baseInput(em, { commit, env: 'A=1' }), new RecordingReporter(), virtualTimeDeps());
    const before = em.requestLog().length;
    const reporter = new RecordingReporter();
    const result = await deploy(baseInput(em, { commit, env: 'A=1' }), reporter, virtualTimeDeps());
    expect(result).toMatchObject({ action: 'updated', changes: [] });
    const calls = em
      .requestLog()
      .slice(before)
      .map((c) => `${c.method} ${c.path.replace(/\d+/g, 'N')}`);
    // Team and plan lookups run in parallel: compare without order.
    expect([...calls].sort()).toEqual(
      [
        'GET /api/teams',
        'GET /api/metadata/workspace-plans',
        'GET /api/workspaces/team/N',
        'GET /api/workspaces/N/env-vars',
        'GET /api/workspaces/N/status',
        'GET /api/workspaces/N/git/head',
        'GET /api/workspaces/N/pipeline/run',
      ].sort(),
    );
    expect(reporter.shown()).toContain('no restart needed');
  });

  it('names the stage and replica when the pipeline fails, and says which workspace is left', async () => {
    const { em } = ctx;
    em.world.failStages.add('prepare');
    const err = await deploy(baseInput(em), new RecordingReporter(), virtualTimeDeps()).catch(
      (e: unknown) => e,
    );
    const [ws] = workspacesNamed(em, 'shop-#42');
    expect(err).toBeInstanceOf(DeploymentError);
    const message = (err as Error).message;
    expect(message).toContain('Pipeline stage "prepare" failed on 1 of 1 replica(s): replica 0');
    expect(message).toContain(`Workspace "shop-#42" (id ${ws?.id}, team "My Team") is left in place`);
    expect(message).toContain(
      'the next run for this change reuses it, and closing the change request deletes it',
    );
    expect((err as DeploymentError).workspace).toEqual({
      workspaceId: ws?.id,
      name: 'shop-#42',
      teamName: 'My Team',
    });

    em.world.failStages.clear();
    const retry = await deploy(baseInput(em), new RecordingReporter(), virtualTimeDeps());
    expect(retry).toMatchObject({ workspaceId: ws?.id, action: 'updated' });
    expect(workspacesNamed(em, 'shop-#42')).toHaveLength(1);
  });

  it('fails the VPN check naming the host, the VPN config and the probe output', async () => {
    const { em } = ctx;
    const deps = virtualTimeDeps();
    const err = await deploy(
      baseInput(em, { vpnConfig: 'office-wrong-psk', vpnCheck: '10.250.0.5' }),
      new RecordingReporter(),
      deps,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    const message = (err as Error).message;
    expect(message).toContain('VPN check failed: 10.250.0.5 is not reachable from replica 0');
    expect(message).toContain('VPN config "office-wrong-psk"');
    expect(message).toContain('Probe "ping -c 3 -W 2 10.250.0.5" output:');
    expect(message).toMatch(/100% packet loss|unreachable|timed out/i);
    expect(message).toContain('is left in place');
  });

  it('stops with a clear message when the time budget runs out', async () => {
    const { em } = ctx;
    em.setTiming({ provisioningMs: 600_000 });
    // Virtual time: 30 s of budget pass in polls; the create itself has its reserve (15 s) left.
    const err = await deploy(
      baseInput(em, { timeoutSeconds: '30' }),
      new RecordingReporter(),
      virtualTimeDeps(1),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    // Whichever notices the deadline first says so: the wait loop, or (on a loaded machine, where a
    // status poll can be in flight when the budget ends) the HTTP layer. Both name the budget.
    expect((err as Error).message).toMatch(
      /Timed out waiting for workspace|the job's time budget \(timeoutSeconds \/ TIMEOUT\) is used up/,
    );
    expect((err as Error).message).toContain('timeoutSeconds');
  });
});
