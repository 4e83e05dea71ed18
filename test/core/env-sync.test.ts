/**
 * Variables dropped from `env` leave the workspace; variables set by hand stay.
 * Deploys against the emulator (its state is the outcome), plus a property over random sequences
 * of `env` inputs, hand edits and failed calls, driving the sync itself against the emulator.
 * Overlapping syncs of one preview never leave a variable the
 * integration set unmarked; a property over random interleavings of two or three syncs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CodesphereClient } from '../../shared/codesphere/client.js';
import { ConfigError, deploy } from '../../shared/index.js';
import {
  LEGACY_MANAGED_ENV_RECORD,
  MANAGED_ENV_MARKER_PREFIX,
  MANAGED_ENV_MARKER_VALUE,
  managedEnvMarker,
  syncManagedEnv,
} from '../../shared/workflow/managed-env.js';
import type { EnvVar } from '../../shared/request/schema.js';
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
    clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
  });
}

/** `vars` plus the marker of each: what a workspace holds for variables the integration set. */
function marked(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...vars };
  for (const name of Object.keys(vars)) out[managedEnvMarker(name)] = MANAGED_ENV_MARKER_VALUE;
  return out;
}

/** The preview's variables as Codesphere holds them (markers included). */
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
    expect(envOf()).toEqual(marked({ A: '1', OLD_DB_PASSWORD: OLD_SECRET }));
    expect(envCalls(0)).toEqual([]);
    // Someone sets a variable by hand in Codesphere.
    await apiClient().setEnvVars(created.workspaceId, [{ name: 'HAND_SET', value: 'kept' }]);

    let from = apiCalls(em).length;
    const reporter = new RecordingReporter();
    const dropped = await deploy(baseInput(em, { env: 'A=1' }), reporter, virtualTimeDeps());
    expect(dropped).toMatchObject({ action: 'updated', changes: ['env: 1 removed (OLD_DB_PASSWORD)'] });
    expect(envOf()).toEqual({ ...marked({ A: '1' }), HAND_SET: 'kept' });
    expect(envCalls(from), 'the value and its marker go in one DELETE').toEqual(['GET', 'DELETE']);
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

  it('a workspace deployed before tracking (no marker): deletes nothing, starts tracking, no restart for that', async () => {
    const { em } = ctx;
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    await deploy(
      baseInput(em, { commit, env: `A=1\nOLD_DB_PASSWORD=${OLD_SECRET}` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const [ws] = workspacesNamed(em, 'shop-#42');
    // What a version before tracking left: the same variables, no marker.
    await apiClient().deleteEnvVars(ws!.id, [managedEnvMarker('A'), managedEnvMarker('OLD_DB_PASSWORD')]);

    let from = apiCalls(em).length;
    const reporter = new RecordingReporter();
    const first = await deploy(baseInput(em, { commit, env: 'A=1' }), reporter, virtualTimeDeps());
    expect(first.changes, 'the marker is bookkeeping, not a change').toEqual([]);
    expect(restartedSince(from)).toBe(false);
    expect(envOf()).toEqual({ ...marked({ A: '1' }), OLD_DB_PASSWORD: OLD_SECRET });
    expect(reporter.shown()).toContain('Tracking the variables env sets from now on');

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

  it('a workspace an earlier version tracked in one list: converted to markers once, the list deleted, then a no-op only reads', async () => {
    const { em } = ctx;
    const commit = em.world.remoteHead('https://github.com/acme/shop.git', 'feature/login');
    const { workspaceId } = await deploy(
      baseInput(em, { commit, env: `A=1\nOLD_DB_PASSWORD=${OLD_SECRET}` }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    // What the earlier version left: the variables, one list of their names, no markers; and a
    // variable set by hand that the list does not name.
    const client = apiClient();
    await client.deleteEnvVars(workspaceId, [managedEnvMarker('A'), managedEnvMarker('OLD_DB_PASSWORD')]);
    await client.setEnvVars(workspaceId, [
      { name: LEGACY_MANAGED_ENV_RECORD, value: 'A,OLD_DB_PASSWORD' },
      { name: 'HAND_SET', value: 'kept' },
    ]);

    let from = apiCalls(em).length;
    const reporter = new RecordingReporter();
    const migrated = await deploy(baseInput(em, { commit, env: 'A=1' }), reporter, virtualTimeDeps());
    expect(migrated.changes).toEqual(['env: 1 removed (OLD_DB_PASSWORD)']);
    expect(envOf()).toEqual({ ...marked({ A: '1' }), HAND_SET: 'kept' });
    expect(envCalls(from), 'markers first, then the removal and the list in one DELETE').toEqual([
      'GET',
      'PUT',
      'DELETE',
    ]);
    expect(reporter.shown()).toContain(`Converted "${LEGACY_MANAGED_ENV_RECORD}"`);
    expect(reporter.shown()).not.toContain(OLD_SECRET);

    from = apiCalls(em).length;
    const again = await deploy(
      baseInput(em, { commit, env: 'A=1' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(again.changes).toEqual([]);
    expect(envCalls(from), 'read once, converted, never again').toEqual(['GET']);
    expect(restartedSince(from)).toBe(false);
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
    expect(envOf()).toEqual({ ...marked({ A: '2' }), HAND_SET: 'kept' });
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
    // The read is in flight once the emulator took the fault: the teardown lands during it.
    while (em.faults.list().length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await apiClient().deleteWorkspace(workspaceId);
    const err = await running;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(
      `Workspace ${workspaceId} was deleted while this deploy was running`,
    );
    expect((err as Error).message).not.toContain('left in place');
    expect(workspacesNamed(em, 'shop-#42')).toEqual([]);
  });

  it.each([LEGACY_MANAGED_ENV_RECORD, managedEnvMarker('DB_URL')])(
    'rejects %s in env before any call, naming the field and the name, not the value',
    async (reserved) => {
      const { em } = ctx;
      const err = await deploy(
        baseInput(em, { env: `A=1\n${reserved}=SOME_VAR` }),
        new RecordingReporter(),
        virtualTimeDeps(),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues;
      expect(issues.map((i) => i.field)).toEqual(['env']);
      expect(issues[0]?.message).toMatch(
        new RegExp(`^name "${reserved}" is reserved: .*manages.*; use any other name$`),
      );
      expect((err as Error).message).not.toContain('SOME_VAR');
      expect(apiCalls(em)).toEqual([]);
      expect(workspacesNamed(em, 'shop-#42')).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// The rule as a property: after every successful sync the workspace holds exactly the declared
// variables with their markers and the hand-set ones, whatever came before (other env inputs,
// hand edits, syncs that failed half-way, a workspace an earlier version tracked in one list).

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
/** How the integration tracked the initial variables: markers, an earlier version's list. */
const trackingArb = fc.constantFrom('markers' as const, 'legacy list' as const);

/** What a workspace holds at the start: `initial` as the integration (of that version) set it. */
function initialEnv(initial: readonly EnvVar[], tracking: 'markers' | 'legacy list'): EnvVar[] {
  if (initial.length === 0) return [];
  if (tracking === 'legacy list')
    return [...initial, { name: LEGACY_MANAGED_ENV_RECORD, value: initial.map((v) => v.name).join(',') }];
  return Object.entries(marked(Object.fromEntries(initial.map((v) => [v.name, v.value])))).map(
    ([name, v]) => ({ name, value: v }),
  );
}

describe('env sync, as a property', () => {
  it('ends with exactly env + markers + hand-set variables, whatever the history', async () => {
    const client = apiClient();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        envArb,
        trackingArb,
        fc.array(stepArb, { minLength: 1, maxLength: 6 }),
        async (initial, tracking, steps) => {
          const name = `envsync-${run++}`;
          const env = initialEnv(initial, tracking);
          const ws = await client.createWorkspace({
            teamId: 101,
            name,
            planId: 8,
            isPrivateRepo: false,
            replicas: 1,
            ...(env.length > 0 ? { env } : {}),
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
            const expected = {
              ...Object.fromEntries(hand),
              ...marked(Object.fromEntries(step.env.map((v) => [v.name, v.value]))),
            };
            expect(envOf(name)).toEqual(expected);
            expect(outcome.changes.join(' '), 'markers are never reported').not.toContain(
              MANAGED_ENV_MARKER_PREFIX,
            );
          }
        },
      ),
      { seed: 20261129, numRuns: 100 },
    );
    expect(ctx.em.contractViolations(), 'every env call kept the OpenAPI contract').toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Overlapping runs of one preview. A list of managed names that each run
// reads and rewrites lost updates here: run 1 (env A) and run 2 (env A, B, C) both read "A,B";
// run 1 deleted B, run 2 set C with the list "A,B,C", then run 1 wrote "A", and C stayed in the
// workspace unlisted, counted as set by hand forever (20 of 20 runs).

/**
 * A client whose env-var calls wait for `Interleaving` to let them through, one at a time, so a
 * test decides in which order overlapping syncs reach the emulator (each call runs to its end
 * before the next one starts: one request is one step).
 */
class GatedClient extends CodesphereClient {
  constructor(private readonly gate: Interleaving) {
    super({
      apiUrl: ctx.em.url,
      token: DEMO_TOKEN,
      userAgent: 'codesphere-deploy-tests',
      clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
    });
  }
  override listEnvVars(id: number): Promise<Array<{ name: string; value: string }>> {
    return this.gate.step(() => super.listEnvVars(id));
  }
  override setEnvVars(id: number, vars: Array<{ name: string; value: string }>): Promise<void> {
    return this.gate.step(() => super.setEnvVars(id, vars));
  }
  override deleteEnvVars(id: number, names: string[]): Promise<void> {
    return this.gate.step(() => super.deleteEnvVars(id, names));
  }
}

/** Runs several syncs so that their API calls interleave in an order `choices` picks. */
class Interleaving {
  private readonly waiting: Array<() => void> = [];
  private busy = 0; // syncs running their own code (not waiting at a call, not finished)

  async step<T>(call: () => Promise<T>): Promise<T> {
    this.busy--;
    await new Promise<void>((release) => this.waiting.push(release));
    return call();
  }

  /**
   * Starts every run, then repeatedly waits until each is either finished or waiting at a call,
   * and lets the waiting call `choices[k] % waiting` through. Returns each run's outcome.
   */
  async run<T>(
    runs: Array<() => Promise<T>>,
    choices: readonly number[],
  ): Promise<PromiseSettledResult<T>[]> {
    let finished = 0;
    this.busy = runs.length;
    const all = Promise.allSettled(
      runs.map((r) =>
        r().finally(() => {
          this.busy--;
          finished++;
        }),
      ),
    );
    for (let k = 0; finished < runs.length; k++) {
      while (this.busy > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.waiting.length === 0) break;
      const [release] = this.waiting.splice((choices[k % choices.length] ?? 0) % this.waiting.length, 1);
      this.busy++;
      release!();
    }
    return all;
  }
}

/** Every variable name the integration may set here, and each one's marker. */
function integrationNames(env: Record<string, string>): string[] {
  return Object.keys(env).filter(
    (name) => !HAND.includes(name) && !name.startsWith('CODESPHERE_DEPLOY_MANAGED'),
  );
}

describe('env sync under overlapping runs of one preview', () => {
  it('never leaves a variable it set outside the record (env A and env A,B,C at once, from A,B)', async () => {
    const client = apiClient();
    const ws = await client.createWorkspace({
      teamId: 101,
      name: 'envsync-overlap',
      planId: 8,
      isPrivateRepo: false,
      replicas: 1,
      env: Object.entries(marked({ A: '1', B: '2' })).map(([name, v]) => ({ name, value: v })),
    });
    await Promise.all([
      syncManagedEnv(client, ws.id, [{ name: 'A', value: '1' }], new RecordingReporter()),
      syncManagedEnv(
        client,
        ws.id,
        [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
          { name: 'C', value: '3' },
        ],
        new RecordingReporter(),
      ),
    ]);
    const env = envOf('envsync-overlap');
    // Nothing was set by hand here: every variable must carry its marker, every marker its variable.
    expect(integrationNames(env).filter((name) => env[managedEnvMarker(name)] === undefined)).toEqual([]);
    expect(
      Object.keys(env)
        .filter((n) => n.startsWith(MANAGED_ENV_MARKER_PREFIX))
        .filter((marker) => env[marker.slice(MANAGED_ENV_MARKER_PREFIX.length)] === undefined),
    ).toEqual([]);
    expect(env).toMatchObject(marked({ A: '1' }));
  });

  it('every variable a sync ever set ends present and marked, or absent; hand-set ones intact; the next run converges', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        envArb,
        trackingArb,
        fc.array(envArb, { minLength: 2, maxLength: 3 }),
        fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 12 }),
        envArb,
        async (initial, tracking, concurrent, choices, last) => {
          const name = `envsync-overlap-${run++}`;
          const hand = { HAND_1: 'by hand', PORT: '8080' };
          const env = [
            ...initialEnv(initial, tracking),
            ...Object.entries(hand).map(([n, v]) => ({ name: n, value: v })),
          ];
          const ws = await apiClient().createWorkspace({
            teamId: 101,
            name,
            planId: 8,
            isPrivateRepo: false,
            replicas: 1,
            env,
          });
          const gate = new Interleaving();
          const client = new GatedClient(gate);
          const outcomes = await gate.run(
            concurrent.map(
              (declared) => () => syncManagedEnv(client, ws.id, declared, new RecordingReporter()),
            ),
            choices,
          );
          expect(outcomes.map((o) => o.status)).toEqual(concurrent.map(() => 'fulfilled'));

          const after = envOf(name);
          const values = new Set([...initial, ...concurrent.flat()].map((v) => `${v.name}=${v.value}`));
          for (const managed of integrationNames(after)) {
            // Present: marked, and holding a value some run (or the start) gave it.
            expect(after[managedEnvMarker(managed)], `${managed} is marked`).toBe(MANAGED_ENV_MARKER_VALUE);
            expect(values.has(`${managed}=${after[managed]}`), `${managed} holds a declared value`).toBe(
              true,
            );
          }
          for (const marker of Object.keys(after).filter((n) => n.startsWith(MANAGED_ENV_MARKER_PREFIX))) {
            // Absent: with its marker (no marker outlives its variable to claim a later hand-set one).
            expect(
              after[marker.slice(MANAGED_ENV_MARKER_PREFIX.length)],
              `${marker} has its variable`,
            ).toBeDefined();
          }
          expect(
            after[LEGACY_MANAGED_ENV_RECORD],
            'the old list is gone once a run finished',
          ).toBeUndefined();
          expect(Object.fromEntries(HAND.map((n) => [n, after[n]]))).toEqual(hand);

          // Converges: one more run ends with exactly its env, the markers and the hand-set ones.
          await syncManagedEnv(apiClient(), ws.id, last, new RecordingReporter());
          expect(envOf(name)).toEqual({
            ...hand,
            ...marked(Object.fromEntries(last.map((v) => [v.name, v.value]))),
          });
        },
      ),
      { seed: 20261129, numRuns: 150 },
    );
    expect(ctx.em.contractViolations(), 'every env call kept the OpenAPI contract').toEqual([]);
  });
});
