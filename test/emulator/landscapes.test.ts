/**
 * The emulator's landscapes over HTTP (virtual time): profiles read from the seed repository's
 * ci files, pipeline status per service × replica, scale, per-server logs, failure knobs, a
 * managed Postgres ready after a delay, one tunnel per service replica, and the run start refused
 * before the landscape is deployed. Every answer is checked against the OpenAPI contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type RunningEmulator } from '../../emulator/index.js';
import { api, createWorkspace, eventuallyVirtual, runVirtualUntilRunning, startFast } from './helpers.js';

const clock = new VirtualClock();
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast({ clock, timing: { managedServiceMs: 200 } });
});
afterAll(async () => {
  // The one request the client sends against the contract on purpose: a scale to 0 replicas.
  const violations = emulator
    .contractViolations()
    .filter((entry) => !(entry.violations ?? []).every((v) => v.includes('request body/web must be >= 1')));
  await emulator.close();
  expect(violations).toEqual([]);
});

interface Entry {
  state: string;
  replica: string;
  server: string;
  steps: Array<{ state: string }>;
}

async function landscape(branch = 'landscape', overrides: Record<string, unknown> = {}) {
  const ws = await createWorkspace(emulator, { initialBranch: branch, ...overrides });
  await runVirtualUntilRunning(emulator, clock, ws.id);
  return ws;
}

const grid = (entries: Entry[]) => entries.map((e) => `${e.server}/${e.replica}:${e.state}`).sort();
const status = async (id: number, stage: string) =>
  (await api<Entry[]>(emulator, 'GET', `/workspaces/${id}/pipeline/${stage}`)).body;

describe('landscape deploy and profiles', () => {
  it('refuses an unknown profile with 400 naming the profiles the repository has', async () => {
    const ws = await landscape();
    const answer = await api<{ status: number; detail: string; traceId: string }>(
      emulator,
      'POST',
      `/workspaces/${ws.id}/landscape/deploy/staging`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain("Profile 'staging' not found");
    expect(answer.body.detail).toContain('Profiles: preview');
    const start = await api<{ detail: string }>(
      emulator,
      'POST',
      `/workspaces/${ws.id}/pipeline/prepare/start/staging`,
    );
    expect(start.status).toBe(400);
  });

  it("answers prepare per service × replica of the profile's file", async () => {
    const ws = await landscape();
    expect(grid(await status(ws.id, 'prepare'))).toEqual(['api/0:waiting', 'web/0:waiting', 'web/1:waiting']);
    expect((await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start/preview`)).status).toBe(
      200,
    );
    expect(grid(await status(ws.id, 'prepare'))).toEqual(['api/0:waiting', 'web/0:waiting']);
  });

  it('refuses run before the landscape is deployed, then runs every service once managed Postgres is ready', async () => {
    const ws = await landscape();
    const early = await api<{ detail: string }>(emulator, 'POST', `/workspaces/${ws.id}/pipeline/run/start`);
    expect(early.status).toBe(400);
    expect(early.body.detail).toContain('landscape is not deployed');
    expect((await api(emulator, 'POST', `/workspaces/${ws.id}/landscape/deploy`)).status).toBe(200);
    expect((await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/run/start`)).status).toBe(200);
    await clock.advance(100);
    // Postgres is not ready yet: the app services wait for it.
    expect(grid(await status(ws.id, 'run'))).toEqual([
      'api/0:waiting',
      'db/0:waiting',
      'web/0:waiting',
      'web/1:waiting',
    ]);
    await eventuallyVirtual(clock, async () =>
      (await status(ws.id, 'run')).every((e) => e.state === 'running') ? true : undefined,
    );
    expect(emulator.state().managedServices).toEqual([
      expect.objectContaining({ name: 'db', provider: 'postgres', workspaceId: ws.id, ready: true }),
    ]);
    // A Multi Server Deployment's run logs are per server.
    const plain = await fetch(`${emulator.url}/api/workspaces/${ws.id}/logs/run/0`, {
      headers: { authorization: 'Bearer csdemo-token-0123456789abcdef' },
    });
    expect(await plain.text()).toContain('/server/{server}');
    await api(emulator, 'DELETE', `/workspaces/${ws.id}`);
    expect(emulator.state().managedServices).toEqual([]);
  });
});

describe('scale', () => {
  it('sets replicas per service and opens one tunnel per service replica', async () => {
    const ws = await landscape('landscape', { planId: 21, vpnConfig: 'office' });
    await api(emulator, 'POST', `/workspaces/${ws.id}/landscape/deploy`);
    expect(
      (await api(emulator, 'PATCH', `/workspaces/${ws.id}/landscape/scale`, { body: { api: 3 } })).status,
    ).toBe(200);
    await clock.advance(500);
    expect(emulator.world.driver.tunnels(ws.id)).toHaveLength(5);
    const probe = await api<{ output: string; error: string }>(
      emulator,
      'POST',
      `/workspaces/${ws.id}/execute`,
      {
        body: { command: 'ping -c 1 10.250.0.5', env: { CODESPHERE_SERVER: 'api', CODESPHERE_REPLICA: '2' } },
      },
    );
    expect(probe.body.error).toBe('');
    const outOfRange = await api<{ detail: string }>(emulator, 'POST', `/workspaces/${ws.id}/execute`, {
      body: { command: 'true', env: { CODESPHERE_SERVER: 'api', CODESPHERE_REPLICA: '3' } },
    });
    expect(outOfRange.status).toBe(400);
  });

  it.each([
    [{ worker: 1 }, "unknown service(s) 'worker'"],
    [{ web: 0 }, 'Invalid request body'],
    [{ web: 9 }, 'allows at most 3 replica(s) per service'],
  ])('refuses %j with 400', async (body, detail) => {
    const ws = await landscape();
    await api(emulator, 'POST', `/workspaces/${ws.id}/landscape/deploy`);
    const answer = await api<{ detail: string }>(emulator, 'PATCH', `/workspaces/${ws.id}/landscape/scale`, {
      body,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain(detail);
  });
});

describe('failure knobs', () => {
  it('fails the test stage on the named service replica only', async () => {
    const ws = await landscape('landscape-test-fails');
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/test/start`);
    await eventuallyVirtual(clock, async () =>
      (await status(ws.id, 'test')).every((e) => e.state !== 'waiting' && e.state !== 'running')
        ? true
        : undefined,
    );
    expect(grid(await status(ws.id, 'test'))).toEqual(['api/0:failure', 'web/0:success', 'web/1:success']);
  });

  it('takes knobs per workspace through /_emulator/', async () => {
    const ws = await landscape();
    await fetch(`${emulator.url}/_emulator/workspaces/${ws.id}/replica-failures`, {
      method: 'PUT',
      body: JSON.stringify({ failures: [{ stage: 'prepare', service: 'web', replica: 1 }] }),
    });
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    await eventuallyVirtual(clock, async () =>
      (await status(ws.id, 'prepare')).some((e) => e.state === 'failure') ? true : undefined,
    );
    expect(grid(await status(ws.id, 'prepare'))).toEqual(['api/0:success', 'web/0:success', 'web/1:failure']);
  });
});
