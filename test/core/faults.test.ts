/** Faults injected by the emulator: each run still ends with exactly one workspace, and succeeds. */
import { describe, expect, it } from 'vitest';

import { deploy } from '../../shared/index.js';
import {
  baseInput,
  count,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
  workspacesNamed,
} from './helpers.js';

const ctx = useEmulator();

async function deployOnce() {
  const deps = virtualTimeDeps();
  const reporter = new RecordingReporter();
  const result = await deploy(baseInput(ctx.em), reporter, deps);
  expect(result.action).toBe('created');
  expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(1);
  return { result, deps, reporter };
}

describe('faults', () => {
  it('429 with Retry-After: waits as told and carries on (also for the create)', async () => {
    ctx.em.arm({ kind: 'rate-limit', path: '/api/teams', retryAfterSeconds: 2 });
    ctx.em.arm({ kind: 'rate-limit', method: 'POST', path: '/api/workspaces', retryAfterSeconds: 1 });
    const { deps } = await deployOnce();
    expect(deps.sleeps).toEqual(expect.arrayContaining([2000, 1000]));
    expect(count(ctx.em, 'POST', /^\/api\/workspaces$/)).toBe(2);
  });

  it('503 on safe calls is retried with backoff', async () => {
    ctx.em.arm({ kind: 'server-error', status: 503, path: '/api/workspaces/team/*', count: 2 });
    ctx.em.arm({ kind: 'server-error', status: 502, path: '/api/workspaces/*/pipeline/*', count: 1 });
    await deployOnce();
    expect(ctx.em.requestLog().filter((e) => e.status >= 500)).toHaveLength(3);
  });

  it('503 on the create: settled by a lookup, then created once', async () => {
    ctx.em.arm({ kind: 'server-error', status: 503, method: 'POST', path: '/api/workspaces' });
    const { reporter } = await deployOnce();
    expect(count(ctx.em, 'POST', /^\/api\/workspaces$/)).toBe(2);
    expect(reporter.texts('warning').join('\n')).toContain('no workspace of that name exists: trying again');
  });

  it('lost create response: the workspace is found by name, never created twice', async () => {
    ctx.em.arm({ kind: 'lose-create-response' });
    const { reporter } = await deployOnce();
    expect(count(ctx.em, 'POST', /^\/api\/workspaces$/)).toBe(1);
    expect(reporter.texts('warning').join('\n')).toContain("The create's response was lost");
  });

  it('dropped connections on reads and on the create', async () => {
    ctx.em.arm({ kind: 'drop', path: '/api/workspaces/*/status' });
    ctx.em.arm({ kind: 'drop', method: 'POST', path: '/api/workspaces' });
    await deployOnce();
    expect(ctx.em.requestLog().filter((e) => e.status === 0)).toHaveLength(2);
  });

  it('a sign-in behind a flaky service still works', async () => {
    ctx.em.arm({ kind: 'server-error', path: '/auth-service/signIn' });
    ctx.em.arm({ kind: 'drop', path: '/auth-service/genAccessToken' });
    const result = await deploy(
      baseInput(ctx.em, { apiToken: undefined, email: 'demo@example.com', password: 'demo-password' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.action).toBe('created');
  });
});
