import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock, type RunningEmulator } from '../../emulator/index.js';
import { api, call, DEMO_TOKEN, MY_TEAM, startFast } from './helpers.js';

// Virtual time: an injected latency passes when the test moves the clock, never by waiting.
const clock = new VirtualClock();
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast({ clock });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.faults.clear());

/** A raw request that reports a destroyed connection instead of throwing. */
function rawRequest(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      `${emulator.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${DEMO_TOKEN}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(payload);
  });
}

describe('faults armed over HTTP', () => {
  it('429 with Retry-After on the next N calls, then normal answers', async () => {
    const armed = await call(emulator, 'POST', '/_emulator/faults', {
      body: { kind: 'rate-limit', count: 2, retryAfterSeconds: 7 },
    });
    expect(armed.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const answer = await api<{ status: number; title: string }>(emulator, 'GET', '/teams');
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('7');
      expect(answer.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    }
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });

  it('matches method and path pattern: other requests pass untouched', async () => {
    await call(emulator, 'POST', '/_emulator/faults', {
      body: { kind: 'server-error', status: 502, method: 'GET', path: '/workspaces/team/*' },
    });
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
    expect((await api(emulator, 'GET', `/workspaces/team/${MY_TEAM}`)).status).toBe(502);
    expect((await api(emulator, 'GET', `/workspaces/team/${MY_TEAM}`)).status).toBe(200);
  });

  it('5xx on the next N calls with the problem envelope', async () => {
    await call(emulator, 'POST', '/_emulator/faults', { body: { kind: 'server-error', count: 3 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await api(emulator, 'GET', '/metadata/datacenters')).status);
    expect(statuses).toEqual([503, 503, 503, 200]);
  });

  it('adds latency to the next call', async () => {
    await call(emulator, 'POST', '/_emulator/faults', { body: { kind: 'latency', latencyMs: 250 } });
    let answered = false;
    const answer = api(emulator, 'GET', '/teams').finally(() => (answered = true));
    await clock.sleeping(1); // the request arrived and waits out its latency
    await clock.advance(249);
    expect(answered).toBe(false);
    await clock.advance(1);
    expect((await answer).status).toBe(200);
    const entry = emulator.requestLog().at(-1);
    expect(entry).toMatchObject({ path: '/api/teams', status: 200, fault: 'latency', durationMs: 250 });
  });

  it('loses the create response: the workspace exists, the client sees a destroyed connection', async () => {
    await call(emulator, 'POST', '/_emulator/faults', { body: { kind: 'lose-create-response' } });
    const name = `lost-${Date.now()}`;
    // Other calls are unaffected by the preset's method+path.
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
    const result = await rawRequest('POST', '/api/workspaces', {
      teamId: MY_TEAM,
      name,
      planId: 20,
      isPrivateRepo: false,
      replicas: 1,
    });
    expect(result).toEqual({ error: expect.stringMatching(/ECONNRESET|socket hang up/) as unknown });
    const list = await api<Array<{ name: string }>>(emulator, 'GET', `/workspaces/team/${MY_TEAM}`);
    expect(list.body.map((w) => w.name)).toContain(name);
    // A retry without a lookup would now hit the duplicate-name rule.
    const again = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { teamId: MY_TEAM, name, planId: 20, isPrivateRepo: false, replicas: 1 },
    });
    expect(again.body.detail).toBe('Team already has a workspace with the given name.');
  });

  it('loses the response of any matching request after processing it (lose-response)', async () => {
    const ws = (
      await api<{ id: number }>(emulator, 'POST', '/workspaces', {
        body: { teamId: MY_TEAM, name: `env-${Date.now()}`, planId: 20, isPrivateRepo: false, replicas: 1 },
      })
    ).body;
    await call(emulator, 'POST', '/_emulator/faults', {
      body: { kind: 'lose-response', method: 'PUT', path: '/workspaces/*/env-vars' },
    });
    const result = await rawRequest('PUT', `/api/workspaces/${ws.id}/env-vars`, [
      { name: 'SET', value: 'yes' },
    ]);
    expect(result).toHaveProperty('error');
    expect(emulator.world.workspaces.get(ws.id)?.env.get('SET')).toBe('yes');
    expect(emulator.requestLog().at(-1)).toMatchObject({ method: 'PUT', status: 0, fault: 'lose-response' });
  });

  it('drops the connection without processing the request', async () => {
    await call(emulator, 'POST', '/_emulator/faults', {
      body: { kind: 'drop', method: 'POST', path: '/api/workspaces' },
    });
    const name = `dropped-${Date.now()}`;
    const result = await rawRequest('POST', '/api/workspaces', {
      teamId: MY_TEAM,
      name,
      planId: 20,
      isPrivateRepo: false,
      replicas: 1,
    });
    expect(result).toHaveProperty('error');
    expect([...emulator.world.workspaces.values()].some((w) => w.name === name)).toBe(false);
    expect(emulator.requestLog().at(-1)).toMatchObject({ method: 'POST', status: 0, fault: 'drop' });
  });

  it('refuses an unknown fault kind with 400 naming the field', async () => {
    const answer = await call<{ detail: string }>(emulator, 'POST', '/_emulator/faults', {
      body: { kind: 'meteor' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain('kind:');
  });
});

describe('faults armed through the returned object, request log, reset', () => {
  it('arms through emulator.arm and lists armed faults', async () => {
    emulator.arm({ kind: 'rate-limit', count: 5, path: '/api/teams' });
    const listed = await call<Array<{ kind: string; remaining: number }>>(
      emulator,
      'GET',
      '/_emulator/faults',
    );
    expect(listed.body).toMatchObject([{ kind: 'rate-limit', remaining: 5 }]);
    expect((await api(emulator, 'GET', '/teams')).status).toBe(429);
    await call(emulator, 'DELETE', '/_emulator/faults');
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });

  it('logs method, path, status and timing, never the Authorization header', async () => {
    await call(emulator, 'DELETE', '/_emulator/requests');
    await api(emulator, 'GET', '/teams');
    await api(emulator, 'GET', '/teams', { token: 'wrong-token' });
    const log = await call<Array<Record<string, unknown>>>(emulator, 'GET', '/_emulator/requests');
    expect(log.body.map((e) => [e.method, e.path, e.status])).toEqual([
      ['GET', '/api/teams', 200],
      ['GET', '/api/teams', 401],
    ]);
    expect(log.body[0]).toEqual(
      expect.objectContaining({ durationMs: expect.any(Number) as unknown }) as unknown,
    );
    expect(log.text).not.toContain(DEMO_TOKEN);
    expect(log.text).not.toContain('wrong-token');
    expect(log.text.toLowerCase()).not.toContain('authorization');
  });

  it('reset returns to the seed: no workspaces, faults, log entries; timing back to the start values', async () => {
    await api(emulator, 'POST', '/workspaces', {
      body: { teamId: MY_TEAM, name: 'gone-soon', planId: 20, isPrivateRepo: false, replicas: 1 },
    });
    emulator.arm({ kind: 'drop' });
    emulator.setTiming({ stageMs: 9_999 });
    expect((await call(emulator, 'POST', '/_emulator/reset')).status).toBe(200);
    const state = await call<{ workspaces: unknown[]; faults: unknown[]; timing: { stageMs: number } }>(
      emulator,
      'GET',
      '/_emulator/state',
    );
    expect(state.body.workspaces).toEqual([]);
    expect(state.body.faults).toEqual([]);
    expect(state.body.timing.stageMs).toBe(60);
    expect(emulator.requestLog()).toEqual([]);
  });

  it('changes timing over HTTP, refusing unknown keys', async () => {
    const changed = await call<{ provisioningMs: number; stageMs: number }>(
      emulator,
      'PATCH',
      '/_emulator/timing',
      { body: { provisioningMs: 123 } },
    );
    expect(changed.body).toMatchObject({ provisioningMs: 123, stageMs: 60 });
    const bad = await call(emulator, 'PATCH', '/_emulator/timing', { body: { warpSpeed: 9 } });
    expect(bad.status).toBe(400);
    emulator.setTiming({ provisioningMs: 60 });
  });
});
