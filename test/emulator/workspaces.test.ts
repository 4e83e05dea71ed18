import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type RunningEmulator } from '../../emulator/index.js';
import {
  anyNumber,
  api,
  BOOST,
  createWorkspace,
  matching,
  MY_TEAM,
  runVirtualUntilRunning,
  startFast,
  type WorkspaceBody,
} from './helpers.js';

// Virtual time: provisioning passes when the test moves the clock, never by waiting.
const clock = new VirtualClock();
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast({ clock });
});
afterAll(() => emulator.close());

const base = { teamId: MY_TEAM, planId: BOOST, isPrivateRepo: true, replicas: 1 };

describe('create', () => {
  it('answers every field the spec requires, devDomain <id>-3000.<data-center host>', async () => {
    const answer = await api<WorkspaceBody>(emulator, 'POST', '/workspaces', {
      body: { ...base, name: 'shop-#1', gitUrl: 'https://github.com/acme/shop.git', initialBranch: 'main' },
    });
    expect(answer.status).toBe(200);
    const ws = answer.body;
    expect(ws).toEqual({
      teamId: MY_TEAM,
      name: 'shop-#1',
      planId: BOOST,
      isPrivateRepo: true,
      replicas: 1,
      id: anyNumber(),
      dataCenterId: 2,
      userId: 7001,
      gitUrl: 'https://github.com/acme/shop.git',
      initialBranch: 'main',
      sourceWorkspaceId: null,
      welcomeMessage: null,
      vpnConfig: null,
      restricted: false,
      collectTraces: false,
      persistentLogs: false,
      devDomain: `${ws.id}-3000.2.codesphere.com`,
      createdAt: matching(/^\d{4}-\d\d-\d\dT/),
    });
    const fetched = await api<WorkspaceBody>(emulator, 'GET', `/workspaces/${ws.id}`);
    expect(fetched.body).toEqual(ws);
  });

  it('stores env given at create time and serves it from env-vars', async () => {
    const ws = await createWorkspace(emulator, { env: [{ name: 'API_URL', value: 'https://x' }] });
    const env = await api(emulator, 'GET', `/workspaces/${ws.id}/env-vars`);
    expect(env.body).toEqual([{ name: 'API_URL', value: 'https://x' }]);
  });

  it.each([
    ['a missing planId', { teamId: MY_TEAM, name: 'a', isPrivateRepo: true, replicas: 1 }, 'planId'],
    ['replicas as a string', { ...base, name: 'b', replicas: '2' }, 'replicas'],
    ['replicas 0', { ...base, name: 'c', replicas: 0 }, 'replicas'],
    ['a bad env name', { ...base, name: 'd', env: [{ name: '1BAD', value: 'x' }] }, 'env.0.name'],
    ['a non-boolean isPrivateRepo', { ...base, name: 'e', isPrivateRepo: 'yes' }, 'isPrivateRepo'],
  ])('refuses %s with 400 naming the field', async (_, body, field) => {
    const answer = await api<{ status: number; detail: string }>(emulator, 'POST', '/workspaces', { body });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain(`${field}:`);
  });

  it('refuses a body that is not JSON', async () => {
    const answer = await api<{ detail: string }>(emulator, 'POST', '/workspaces', { rawBody: '{nope' });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/JSON/);
  });

  it('refuses a name already taken in the team', async () => {
    await createWorkspace(emulator, { name: 'taken' });
    const answer = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { ...base, name: 'taken' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toBe('Team already has a workspace with the given name.');
    // The same name in another team is fine.
    const elsewhere = await api(emulator, 'POST', '/workspaces', {
      body: { ...base, teamId: 102, name: 'taken' },
    });
    expect(elsewhere.status).toBe(200);
  });

  it('lets exactly one of 20 concurrent creates with the same name win', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(emulator, 'POST', '/workspaces', { body: { ...base, name: 'race' } }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(19);
    expect([...emulator.world.workspaces.values()].filter((w) => w.name === 'race')).toHaveLength(1);
  });

  it.each([
    ['an unknown plan', 999, /Plan 999 does not exist/],
    ['a deprecated plan', 5, /Plan 5 \(Legacy\) is deprecated/],
  ])('refuses %s with 400', async (_, planId, detail) => {
    const answer = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { ...base, name: `p${planId}`, planId },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(detail);
  });

  it('refuses more replicas than the plan allows', async () => {
    const answer = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { ...base, name: 'micro', planId: 8, replicas: 2 },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toMatch(/at most 1 replica/);
  });

  it('refuses an unknown vpnConfig with the exact detail, creating nothing', async () => {
    const before = emulator.world.workspaces.size;
    const answer = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { ...base, name: 'vpn', vpnConfig: 'offic' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toBe("Failed to create workspace. VPN config 'offic' doesn't exist.");
    expect(emulator.world.workspaces.size).toBe(before);
  });
});

describe('update and delete', () => {
  it('refuses an unknown vpnConfig on PATCH with the exact detail and keeps the old one', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office' });
    const answer = await api<{ detail: string }>(emulator, 'PATCH', `/workspaces/${ws.id}`, {
      body: { vpnConfig: 'offce' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toBe("Failed to update workspace. VPN config 'offce' doesn't exist.");
    expect(emulator.world.workspaces.get(ws.id)?.vpnConfig).toBe('office');
  });

  it('applies a PATCH (name, plan, replicas, vpnConfig null) and answers 200 without a body', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'lab' });
    const answer = await api(emulator, 'PATCH', `/workspaces/${ws.id}`, {
      body: { name: `${ws.name}-renamed`, planId: 21, replicas: 3, vpnConfig: null },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
    const after = await api<WorkspaceBody>(emulator, 'GET', `/workspaces/${ws.id}`);
    expect(after.body).toMatchObject({
      name: `${ws.name}-renamed`,
      planId: 21,
      replicas: 3,
      vpnConfig: null,
    });
    expect(emulator.driver.tunnels(ws.id)).toEqual([]);
  });

  it('refuses a PATCH renaming onto a taken name, or a deprecated plan, naming the problem', async () => {
    const a = await createWorkspace(emulator);
    const b = await createWorkspace(emulator);
    const rename = await api<{ detail: string }>(emulator, 'PATCH', `/workspaces/${b.id}`, {
      body: { name: a.name },
    });
    expect(rename.body.detail).toBe('Team already has a workspace with the given name.');
    const plan = await api<{ detail: string }>(emulator, 'PATCH', `/workspaces/${b.id}`, {
      body: { planId: 5 },
    });
    expect(plan.status).toBe(400);
    expect(plan.body.detail).toMatch(/deprecated/);
    const bad = await api<{ detail: string }>(emulator, 'PATCH', `/workspaces/${b.id}`, {
      body: { replicas: 'x' },
    });
    expect(bad.body.detail).toContain('replicas:');
  });

  it('deletes: 200, then 404 and gone from the list', async () => {
    const ws = await createWorkspace(emulator);
    expect((await api(emulator, 'DELETE', `/workspaces/${ws.id}`)).status).toBe(200);
    expect((await api(emulator, 'GET', `/workspaces/${ws.id}`)).status).toBe(404);
    expect((await api(emulator, 'DELETE', `/workspaces/${ws.id}`)).status).toBe(404);
    const list = await api<WorkspaceBody[]>(emulator, 'GET', `/workspaces/team/${MY_TEAM}`);
    expect(list.body.map((w) => w.id)).not.toContain(ws.id);
  });

  it('answers 400 for a workspace id that is not an integer', async () => {
    const answer = await api<{ detail: string }>(emulator, 'GET', '/workspaces/abc');
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain('workspaceId');
  });
});

describe('provisioning and the running gate', () => {
  it('reports isRunning false until the provisioning delay passed, then true', async () => {
    emulator.setTiming({ provisioningMs: 400 });
    try {
      const ws = await createWorkspace(emulator);
      const early = await api<{ isRunning: boolean }>(emulator, 'GET', `/workspaces/${ws.id}/status`);
      expect(early.body).toEqual({ isRunning: false });
      await clock.advance(399);
      const almost = await api<{ isRunning: boolean }>(emulator, 'GET', `/workspaces/${ws.id}/status`);
      expect(almost.body).toEqual({ isRunning: false });
      await clock.advance(1);
      const later = await api<{ isRunning: boolean }>(emulator, 'GET', `/workspaces/${ws.id}/status`);
      expect(later.body).toEqual({ isRunning: true });
    } finally {
      emulator.setTiming({ provisioningMs: 60 });
    }
  });

  it('answers 400 "Workspace is not running" to git, pipeline and execute before that', async () => {
    emulator.setTiming({ provisioningMs: 60_000 });
    try {
      const ws = await createWorkspace(emulator);
      const calls: Array<[string, string, unknown?]> = [
        ['GET', `/workspaces/${ws.id}/git/head`],
        ['POST', `/workspaces/${ws.id}/git/pull`],
        ['POST', `/workspaces/${ws.id}/git/pull/origin/main`],
        ['POST', `/workspaces/${ws.id}/pipeline/prepare/start`],
        ['GET', `/workspaces/${ws.id}/pipeline/prepare`],
        ['POST', `/workspaces/${ws.id}/pipeline/run/stop`],
        ['POST', `/workspaces/${ws.id}/execute`, { command: 'echo hi' }],
      ];
      for (const [method, path, body] of calls) {
        const answer = await api<{ detail: string }>(
          emulator,
          method,
          path,
          body === undefined ? {} : { body },
        );
        expect(answer.status, `${method} ${path}`).toBe(400);
        expect(answer.body.detail).toBe('Workspace is not running');
      }
    } finally {
      emulator.setTiming({ provisioningMs: 60 });
    }
  });

  it('honours replicas: one pipeline entry and one tunnel per replica', async () => {
    const ws = await createWorkspace(emulator, { replicas: 3, vpnConfig: 'office' });
    await runVirtualUntilRunning(emulator, clock, ws.id);
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    const status = await api<Array<{ replica: string }>>(
      emulator,
      'GET',
      `/workspaces/${ws.id}/pipeline/prepare`,
    );
    expect(status.body.map((r) => r.replica)).toEqual(['0', '1', '2']);
    expect(emulator.driver.tunnels(ws.id).map((t) => t.replica)).toEqual([0, 1, 2]);
  });
});

describe('env-vars', () => {
  it('sets (upserting), lists and deletes variables; validates names', async () => {
    const ws = await createWorkspace(emulator);
    const path = `/workspaces/${ws.id}/env-vars`;
    expect(
      (
        await api(emulator, 'PUT', path, {
          body: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        })
      ).status,
    ).toBe(200);
    await api(emulator, 'PUT', path, { body: [{ name: 'A', value: '3' }] });
    expect((await api(emulator, 'GET', path)).body).toEqual([
      { name: 'A', value: '3' },
      { name: 'B', value: '2' },
    ]);
    expect((await api(emulator, 'DELETE', path, { body: ['A'] })).status).toBe(200);
    expect((await api(emulator, 'GET', path)).body).toEqual([{ name: 'B', value: '2' }]);
    const bad = await api<{ detail: string }>(emulator, 'PUT', path, {
      body: [{ name: 'has space', value: 'x' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('0.name:');
  });
});
