import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  anyString,
  api,
  call,
  createWorkspace,
  matching,
  MY_TEAM,
  OTHER_TEAM,
  OTHER_TOKEN,
  PLATFORM_TEAM,
  startFast,
} from './helpers.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast();
});
afterAll(() => emulator.close());

function expectProblem(body: unknown, status: number) {
  expect(body).toEqual({
    status,
    title: anyString(),
    detail: anyString(),
    traceId: matching(/^[0-9a-f]{32}$/),
  });
}

describe('Bearer auth', () => {
  it.each([
    ['no Authorization header', null],
    ['an unknown token', 'csdemo-token-wrong'],
  ])('answers 401 with the problem envelope for %s', async (_, token) => {
    const answer = await api(emulator, 'GET', '/teams', { token });
    expect(answer.status).toBe(401);
    expectProblem(answer.body, 401);
  });

  it('accepts the seeded API token', async () => {
    const answer = await api<Array<{ name: string }>>(emulator, 'GET', '/teams');
    expect(answer.status).toBe(200);
  });
});

describe('visibility: a token sees only its user teams', () => {
  it('lists the demo user teams and not Other Team', async () => {
    const demo = await api<Array<{ id: number; name: string; role: number }>>(emulator, 'GET', '/teams');
    expect(demo.body.map((t) => t.name)).toEqual(['My Team', 'Platform Team']);
    expect(demo.body.map((t) => t.role)).toEqual([0, 1]);
    const other = await api<Array<{ name: string }>>(emulator, 'GET', '/teams', { token: OTHER_TOKEN });
    expect(other.body.map((t) => t.name)).toEqual(['Other Team']);
  });

  it('answers 404 for another user team (getTeam documents 404)', async () => {
    const answer = await api(emulator, 'GET', `/teams/${OTHER_TEAM}`);
    expect(answer.status).toBe(404);
    expectProblem(answer.body, 404);
    expect((await api(emulator, 'GET', `/teams/${PLATFORM_TEAM}`)).status).toBe(200);
  });

  it('answers 400 listing workspaces of a team not visible (listWorkspaces documents no 403/404)', async () => {
    const answer = await api<{ detail: string }>(emulator, 'GET', `/workspaces/team/${OTHER_TEAM}`);
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain(`Team ${OTHER_TEAM}`);
  });

  it('refuses to create in a team not visible with 400, and hides others workspaces with 404', async () => {
    const create = await api<{ detail: string }>(emulator, 'POST', '/workspaces', {
      body: { teamId: OTHER_TEAM, name: 'sneaky', planId: 20, isPrivateRepo: false, replicas: 1 },
    });
    expect(create.status).toBe(400);
    const mine = await createWorkspace(emulator);
    for (const [method, path] of [
      ['GET', `/workspaces/${mine.id}`],
      ['PATCH', `/workspaces/${mine.id}`],
      ['DELETE', `/workspaces/${mine.id}`],
      ['GET', `/workspaces/${mine.id}/status`],
      ['GET', `/workspaces/${mine.id}/env-vars`],
    ] as const) {
      const answer = await api(emulator, method, path, {
        token: OTHER_TOKEN,
        ...(method === 'PATCH' ? { body: {} } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    expect(emulator.world.workspaces.has(mine.id)).toBe(true);
    const list = await api<Array<{ id: number }>>(emulator, 'GET', `/workspaces/team/${MY_TEAM}`);
    expect(list.body.map((w) => w.id)).toContain(mine.id);
  });
});

describe('sign-in service', () => {
  it('signs in, generates an access token, and that token works as a Bearer token on /api', async () => {
    const signIn = await call<{ code: string; data: { sessionId: string } }>(
      emulator,
      'POST',
      '/auth-service/signIn',
      {
        token: null,
        body: { email: 'demo@example.com', password: 'demo-password' },
      },
    );
    expect(signIn.status).toBe(200);
    expect(signIn.body).toEqual({ code: 'Ok', data: { sessionId: anyString() } });
    const gen = await call<{ code: string; data: { sessionId: string; accessToken: string } }>(
      emulator,
      'POST',
      '/auth-service/genAccessToken',
      { token: null, body: { id: signIn.body.data.sessionId } },
    );
    expect(gen.body).toEqual({
      code: 'Ok',
      data: { sessionId: signIn.body.data.sessionId, accessToken: anyString() },
    });
    const teams = await api<Array<{ name: string }>>(emulator, 'GET', '/teams', {
      token: gen.body.data.accessToken,
    });
    expect(teams.status).toBe(200);
    expect(teams.body.map((t) => t.name)).toContain('My Team');
  });

  it('accepts a JSON body sent as text/plain (as the official client does)', async () => {
    const signIn = await call<{ code: string }>(emulator, 'POST', '/auth-service/signIn', {
      token: null,
      rawBody: JSON.stringify({ email: 'other@example.com', password: 'other-password' }),
      contentType: 'text/plain;charset=UTF-8',
    });
    expect(signIn.body.code).toBe('Ok');
  });

  it.each([
    ['a wrong password', { email: 'demo@example.com', password: 'nope' }],
    ['an unknown email', { email: 'ghost@example.com', password: 'demo-password' }],
    ['a missing password', { email: 'demo@example.com' }],
  ])('fails with HTTP 200 and code Error for %s', async (_, body) => {
    const answer = await call(emulator, 'POST', '/auth-service/signIn', { token: null, body });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      code: 'Error',
      errName: anyString(),
      errMessage: anyString(),
    });
  });

  it('fails genAccessToken for an unknown session with the error shape', async () => {
    const answer = await call(emulator, 'POST', '/auth-service/genAccessToken', {
      token: null,
      body: { id: 'no-such-session' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ code: 'Error', errName: 'InvalidSession', errMessage: anyString() });
  });
});
