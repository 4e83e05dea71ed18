/**
 * issue 9, case 5: variables dropped from `env` leave the workspace; variables set by hand stay.
 * Deploys against the emulator (its state is the outcome), plus a property over random sequences
 * of `env` inputs, hand edits and failed calls, driving the sync itself against the emulator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CodesphereClient } from '../../shared/codesphere/client.js';
import { ConfigError, deploy } from '../../shared/index.js';
import { MANAGED_ENV_MARKER, syncManagedEnv } from '../../shared/managed-env.js';
import type { EnvVar } from '../../shared/request.js';
import {
  apiCalls,
  baseInput,
  DEMO_TOKEN,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
  workspacesNamed,
} from './helpers.js';

const ctx = useEmulator();
const OLD_SECRET = 'old-db-pw-5f1e9c';

function apiClient(): CodesphereClient {
  return new CodesphereClient({
    apiUrl: ctx.em.url,
    token: DEMO_TOKEN,
    userAgent: 'codesphere-deploy-tests',
    sleep: () => Promise.resolve(),
  });
}

/** The preview's variables as Codesphere holds them (the marker included). */
function envOf(name = 'shop-#42'): Record<string, string> {
  const [ws] = workspacesNamed(ctx.em, name);
  return Object.fromEntries(ws?.env ?? []);
}

/** Env-var calls since `from` in the request log, as "METHOD" strings. */
function envCalls(from: number): string[] {
  return apiCalls(ctx.em)
    .slice(from)
    .filter((c) => c.path.endsWith('/env-vars'))
    .map((c) => c.method);
}

function restartedSince(from: number): boolean {
  return apiCalls(ctx.em)
    .slice(from)
    .some((c) => c.method === 'POST' && c.path.endsWith('/pipeline/prepare/start'));
}

describe('env: what the integration set and env no longer declares is removed', () => {
  it('A=1 + OLD_DB_PASSWORD, then A=1, then empty env: removed, hand-set variables kept, pipeline restarted', async () => {
    const { em } = ctx;
    const created = await deploy(
      baseInput(em, { env: `A=1\nOLD_DB_PASSWORD=${OLD_SECRET}` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    // Tracked from the create on, with no call beyond the POST.
    expect(envOf()).toEqual({
      A: '1',
      OLD_DB_PASSWORD: OLD_SECRET,
      [MANAGED_ENV_MARKER]: 'A,OLD_DB_PASSWORD',
    });
    expect(envCalls(0)).toEqual([]);
    // Someone sets a variable by hand in Codesphere.
    await apiClient().setEnvVars(created.workspaceId, [{ name: 'HAND_SET', value: 'kept' }]);

    let from = apiCalls(em).length;
    const reporter = new RecordingReporter();
    const dropped = await deploy(baseInput(em, { env: 'A=1' }), reporter, virtualTimeDeps());
    expect(dropped).toMatchObject({ action: 'updated', changes: ['env: 1 removed (OLD_DB_PASSWORD)'] });
    expect(envOf()).toEqual({ A: '1', HAND_SET: 'kept', [MANAGED_ENV_MARKER]: 'A' });
    expect(envCalls(from)).toEqual(['GET', 'DELETE', 'PUT']);
    expect(restartedSince(from), 'a removal restarts the pipeline like any env change').toBe(true);
    // Names are reported, the secret value never.
    expect(reporter.shown()).toContain('OLD_DB_PASSWORD');
    expect(reporter.shown()).not.toContain(OLD_SECRET);
    expect(JSON.stringify(dropped)).not.toContain(OLD_SECRET);

    from = apiCalls(em).length;
    const emptied = await deploy(baseInput(em, { env: '' }), new RecordingReporter(), virtualTimeDeps());
    expect(emptied.changes).toEqual(['env: 1 removed (A)']);
    expect(envOf(), 'no marker once nothing is managed').toEqual({ HAND_SET: 'kept' });
    expect(envCalls(from)).toEqual(['GET', 'DELETE']);

    from = apiCalls(em).length;
    const again = await deploy(baseInput(em), new RecordingReporter(), virtualTimeDeps());
    expect(again.changes).toEqual([]);
    expect(envOf()).toEqual({ HAND_SET: 'kept' });
    expect(envCalls(from), 'a no-op only reads').toEqual(['GET']);
  });

  it('a workspace deployed by an older version (no marker): deletes nothing, starts tracking, no restart for that', async () => {
    const { em } = ctx;
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    await deploy(
      baseInput(em, { commit, env: `A=1\nOLD_DB_PASSWORD=${OLD_SECRET}` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const [ws] = workspacesNamed(em, 'shop-#42');
    // What an older version left: the same variables, no marker.
    await apiClient().deleteEnvVars(ws!.id, [MANAGED_ENV_MARKER]);

    let from = apiCalls(em).length;
    const reporter = new RecordingReporter();
    const first = await deploy(baseInput(em, { commit, env: 'A=1' }), reporter, virtualTimeDeps());
    expect(first.changes, 'the marker is bookkeeping, not a change').toEqual([]);
    expect(restartedSince(from)).toBe(false);
    expect(envOf()).toEqual({ A: '1', OLD_DB_PASSWORD: OLD_SECRET, [MANAGED_ENV_MARKER]: 'A' });
    expect(reporter.shown()).toContain(`Tracking the variables env sets in "${MANAGED_ENV_MARKER}"`);

    from = apiCalls(em).length;
    const second = await deploy(
      baseInput(em, { commit, env: '' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(second.changes).toEqual(['env: 1 removed (A)']);
    expect(restartedSince(from)).toBe(true);
    expect(envOf(), 'never tracked, so never deleted').toEqual({ OLD_DB_PASSWORD: OLD_SECRET });
  });

  it('a redeploy that changes nothing makes no env call but the read', async () => {
    const { em } = ctx;
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    await deploy(baseInput(em, { commit, env: 'A=1\nB=2' }), new RecordingReporter(), virtualTimeDeps());
    const from = apiCalls(em).length;
    const result = await deploy(
      baseInput(em, { commit, env: 'B=2\nA=1' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.changes).toEqual([]);
    expect(envCalls(from)).toEqual(['GET']);
    expect(restartedSince(from)).toBe(false);
  });

  it('a zero-downtime VPN switch carries hand-set variables to the new workspace, not removed ones', async () => {
    const { em } = ctx;
    const ZD = { vpnSwitch: 'zero-downtime' };
    const first = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'office', env: `A=1\nOLD_DB_PASSWORD=${OLD_SECRET}` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    await apiClient().setEnvVars(first.workspaceId, [{ name: 'HAND_SET', value: 'kept' }]);
    const second = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'lab', env: 'A=2' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(second.workspaceId).not.toBe(first.workspaceId);
    expect(envOf()).toEqual({ A: '2', HAND_SET: 'kept', [MANAGED_ENV_MARKER]: 'A' });
  });

  it('a teardown that deletes the workspace while its variables are read: the deploy says so, truthfully', async () => {
    const { em } = ctx;
    const { workspaceId } = await deploy(
      baseInput(em, { env: 'A=1' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    em.arm({ kind: 'latency', method: 'GET', path: '/api/workspaces/*/env-vars', latencyMs: 600 });
    const running = deploy(baseInput(em, { env: '' }), new RecordingReporter(), virtualTimeDeps()).catch(
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await apiClient().deleteWorkspace(workspaceId);
    const err = await running;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      `Workspace ${workspaceId} was deleted while this deploy was running`,
    );
    expect((err as Error).message).not.toContain('left in place');
    expect(workspacesNamed(em, 'shop-#42')).toEqual([]);
  });

  it(`rejects ${MANAGED_ENV_MARKER} in env before any call, naming the field and what to do`, async () => {
    const { em } = ctx;
    const err = await deploy(
      baseInput(em, { env: `A=1\n${MANAGED_ENV_MARKER}=SOME_VAR` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues.map((i) => i.field)).toEqual(['env']);
    expect(issues[0]?.message).toMatch(
      new RegExp(`^name "${MANAGED_ENV_MARKER}" is reserved: .*manages.*; use any other name$`),
    );
    expect((err as Error).message).not.toContain('SOME_VAR');
    expect(apiCalls(em)).toEqual([]);
    expect(workspacesNamed(em, 'shop-#42')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The rule as a property: after every successful sync the workspace holds exactly the declared
// variables, the hand-set ones and the marker, whatever came before (other env inputs, hand
// edits, syncs that failed half-way after their deletions or before them).

const DECLARABLE = ['A', 'B', 'DB_PASSWORD', 'OLD_DB_PASSWORD', 'x.y-z', '_Q'];
const HAND = ['HAND_1', 'PORT'];

type Step =
  { kind: 'sync'; env: EnvVar[]; fail?: 'DELETE' | 'PUT' } | { kind: 'hand'; name: string; value: string };

const value = fc.string({ maxLength: 6 });
const envArb = fc
  .uniqueArray(fc.constantFrom(...DECLARABLE), { maxLength: DECLARABLE.length })
  .chain((names) => fc.tuple(...names.map((name) => value.map((v): EnvVar => ({ name, value: v })))))
  .map((vars): EnvVar[] => vars);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: envArb.map((env): Step => ({ kind: 'sync', env })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(envArb, fc.constantFrom('DELETE' as const, 'PUT' as const))
      .map(([env, fail]): Step => ({ kind: 'sync', env, fail })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...HAND), value)
      .map(([name, v]): Step => ({ kind: 'hand', name, value: v })),
  },
);

describe('env sync, as a property', () => {
  it('ends with exactly env + hand-set variables + marker, whatever the history', async () => {
    const client = apiClient();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(envArb, fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (initial, steps) => {
        const name = `envsync-${run++}`;
        const ws = await client.createWorkspace({
          teamId: 101,
          name,
          planId: 8,
          isPrivateRepo: false,
          replicas: 1,
          ...(initial.length > 0
            ? { env: [...initial, { name: MANAGED_ENV_MARKER, value: initial.map((v) => v.name).join(',') }] }
            : {}),
        });
        const hand = new Map<string, string>();
        for (const step of steps) {
          if (step.kind === 'hand') {
            await client.setEnvVars(ws.id, [{ name: step.name, value: step.value }]);
            hand.set(step.name, step.value);
            continue;
          }
          if (step.fail) {
            // More failures than the client retries: this sync stops at that call.
            ctx.em.arm({
              kind: 'server-error',
              method: step.fail,
              path: '/api/workspaces/*/env-vars',
              count: 6,
            });
          }
          const outcome = await syncManagedEnv(client, ws.id, step.env, new RecordingReporter()).then(
            (changes) => ({ changes }),
            (err: unknown) => ({ err }),
          );
          ctx.em.faults.clear();
          if ('err' in outcome) continue;
          const expected: Record<string, string> = Object.fromEntries(hand);
          for (const v of step.env) expected[v.name] = v.value;
          if (step.env.length > 0)
            expected[MANAGED_ENV_MARKER] = [...new Set(step.env.map((v) => v.name))].sort().join(',');
          expect(envOf(name)).toEqual(expected);
          expect(outcome.changes.join(' '), 'the marker is never reported').not.toContain(MANAGED_ENV_MARKER);
        }
      }),
      { seed: 20261129, numRuns: 100 },
    );
    expect(ctx.em.contractViolations(), 'every env call kept the OpenAPI contract').toEqual([]);
  });
});
