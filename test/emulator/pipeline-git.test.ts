import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type RunningEmulator } from '../../emulator/index.js';
import {
  anyString,
  api,
  call,
  createWorkspace,
  eventuallyVirtual,
  runVirtualUntilRunning,
  startFast,
} from './helpers.js';

// Virtual time: stages move on when the test moves the clock (10 ms steps), never by waiting.
const clock = new VirtualClock();
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFast({ clock });
});
afterAll(() => emulator.close());

interface ReplicaStatus {
  state: string;
  replica: string;
  server: string;
  steps: Array<{ state: string }>;
  startedAt?: string;
  finishedAt?: string;
}

async function running(overrides: Record<string, unknown> = {}) {
  const ws = await createWorkspace(emulator, overrides);
  await runVirtualUntilRunning(emulator, clock, ws.id);
  return ws;
}

/** Collects the distinct states a stage shows (replica 0) until it reaches `final`. */
async function observe(id: number, stage: string, final: string): Promise<string[]> {
  const seen: string[] = [];
  await eventuallyVirtual(clock, async () => {
    const answer = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${id}/pipeline/${stage}`);
    const state = answer.body[0]?.state ?? 'none';
    if (seen.at(-1) !== state) seen.push(state);
    return state === final ? true : undefined;
  });
  return seen;
}

describe('pipeline stages', () => {
  it('moves prepare through waiting -> running -> success on every replica', async () => {
    const ws = await running({ replicas: 2 });
    // States are evaluated against the clock when read: long windows hold each state on any machine,
    // shrinking them moves the stage on at once.
    const stateNow = async () =>
      (await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/prepare`)).body;
    emulator.setTiming({ stageQueueMs: 60_000, stageMs: 60_000 });
    try {
      await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
      expect((await stateNow()).map((r) => r.state)).toEqual(['waiting', 'waiting']);
      emulator.setTiming({ stageQueueMs: 0 });
      expect((await stateNow()).map((r) => r.state)).toEqual(['running', 'running']);
    } finally {
      emulator.setTiming({ stageQueueMs: 20, stageMs: 60 });
    }
    await observe(ws.id, 'prepare', 'success');
    const final = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/prepare`);
    expect(final.body).toHaveLength(2);
    for (const replica of final.body) {
      // The default prepare script has two steps (npm ci, npm run build): see emulator/logs.ts.
      expect(replica).toMatchObject({
        state: 'success',
        steps: [{ state: 'success' }, { state: 'success' }],
      });
      expect(replica.startedAt! <= replica.finishedAt!).toBe(true);
    }
  });

  it('keeps run running', async () => {
    const ws = await running();
    await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/run/start`);
    await observe(ws.id, 'run', 'running');
    await clock.advance(150); // well past stageQueueMs + stageMs
    const later = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/run`);
    expect(later.body[0]?.state).toBe('running');
  });

  it('fails prepare when /_emulator/ says so for that workspace only', async () => {
    const failing = await running();
    const healthy = await running();
    const armed = await call(emulator, 'PUT', `/_emulator/workspaces/${failing.id}/pipeline-failures`, {
      body: { stages: ['prepare'] },
    });
    expect(armed.status).toBe(200);
    for (const ws of [failing, healthy])
      await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
    expect(await observe(failing.id, 'prepare', 'failure')).toContain('failure');
    expect(await observe(healthy.id, 'prepare', 'success')).toContain('success');
  });

  it('fails prepare for every workspace when the seed declares it', async () => {
    const seeded = await startFast({
      seed: { ...emulator.world.seed, pipeline: { failStages: ['prepare'] } },
      clock,
    });
    try {
      const ws = (
        await api<{ id: number }>(seeded, 'POST', '/workspaces', {
          body: { teamId: 101, name: 'x', planId: 20, isPrivateRepo: false, replicas: 1 },
        })
      ).body;
      await runVirtualUntilRunning(seeded, clock, ws.id);
      await api(seeded, 'POST', `/workspaces/${ws.id}/pipeline/prepare/start`);
      await eventuallyVirtual(clock, async () => {
        const answer = await api<ReplicaStatus[]>(seeded, 'GET', `/workspaces/${ws.id}/pipeline/prepare`);
        return answer.body[0]?.state === 'failure' ? true : undefined;
      });
    } finally {
      await seeded.close();
    }
  });

  it('aborts a stage that is stopped while running', async () => {
    emulator.setTiming({ stageMs: 2_000 });
    try {
      const ws = await running();
      await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/test/start`);
      await observe(ws.id, 'test', 'running');
      expect((await api(emulator, 'POST', `/workspaces/${ws.id}/pipeline/test/stop`)).status).toBe(200);
      const after = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/test`);
      expect(after.body[0]).toMatchObject({ state: 'aborted', finishedAt: anyString() });
    } finally {
      emulator.setTiming({ stageMs: 60 });
    }
  });

  it('shows a never-started stage as waiting and refuses an unknown stage with 400', async () => {
    const ws = await running();
    const never = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/test`);
    expect(never.body).toEqual([{ state: 'waiting', steps: [], replica: '0', server: 'codesphere-ide' }]);
    const bad = await api<{ detail: string }>(emulator, 'POST', `/workspaces/${ws.id}/pipeline/deploy/start`);
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('stage');
  });

  it('starts run through landscape deploy and stops it through teardown', async () => {
    const ws = await running();
    expect((await api(emulator, 'POST', `/workspaces/${ws.id}/landscape/deploy`)).status).toBe(200);
    await observe(ws.id, 'run', 'running');
    expect((await api(emulator, 'DELETE', `/workspaces/${ws.id}/landscape/teardown`)).status).toBe(200);
    const after = await api<ReplicaStatus[]>(emulator, 'GET', `/workspaces/${ws.id}/pipeline/run`);
    expect(after.body[0]?.state).toBe('aborted');
  });
});

describe('git', () => {
  it('returns a commit for the branch; pull with a branch switches the head', async () => {
    const ws = await running({ gitUrl: 'https://github.com/acme/git-a.git', initialBranch: 'main' });
    const main = await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`);
    expect(main.body.head).toMatch(/^[0-9a-f]{40}$/);
    expect((await api(emulator, 'POST', `/workspaces/${ws.id}/git/pull/origin/feature%2Flogin`)).status).toBe(
      200,
    );
    const feature = await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`);
    expect(feature.body.head).toMatch(/^[0-9a-f]{40}$/);
    expect(feature.body.head).not.toBe(main.body.head);
    expect(emulator.world.workspaces.get(ws.id)?.git?.branch).toBe('feature/login');
  });

  it('moves the head only when a push happened and the workspace pulls', async () => {
    const ws = await running({ gitUrl: 'https://github.com/acme/git-b.git', initialBranch: 'main' });
    const before = (await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`)).body.head;
    const push = await call<{ commit: string; branch: string }>(
      emulator,
      'POST',
      `/_emulator/workspaces/${ws.id}/git/push`,
      { body: {} },
    );
    expect(push.body.branch).toBe('main');
    expect((await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`)).body.head).toBe(
      before,
    );
    await api(emulator, 'POST', `/workspaces/${ws.id}/git/pull`);
    expect((await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`)).body.head).toBe(
      push.body.commit,
    );
    // A push of a chosen commit, by repository URL, also reaches other workspaces of that repository.
    const commit = 'abcdef0123456789abcdef0123456789abcdef01';
    await call(emulator, 'POST', '/_emulator/git/push', {
      body: { gitUrl: 'https://github.com/acme/git-b.git', branch: 'main', commit },
    });
    await api(emulator, 'POST', `/workspaces/${ws.id}/git/pull/origin`);
    expect((await api<{ head: string }>(emulator, 'GET', `/workspaces/${ws.id}/git/head`)).body.head).toBe(
      commit,
    );
  });

  it('answers 400 for an unknown remote and for a workspace without a repository', async () => {
    const ws = await running();
    const remote = await api<{ detail: string }>(emulator, 'POST', `/workspaces/${ws.id}/git/pull/upstream`);
    expect(remote.status).toBe(400);
    expect(remote.body.detail).toContain("remote 'upstream'");
    const bare = await running({ gitUrl: undefined, initialBranch: undefined });
    expect((await api(emulator, 'GET', `/workspaces/${bare.id}/git/head`)).status).toBe(400);
  });
});
