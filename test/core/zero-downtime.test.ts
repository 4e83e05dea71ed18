/** vpnSwitch: zero-downtime: a second workspace on the new VPN config replaces the old one. */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, DeploymentError, prune, teardown } from '../../shared/index.js';
import type { CoreDeps } from '../../shared/workflow/deps.js';
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
const ZD = { vpnSwitch: 'zero-downtime' };

describe('zero-downtime VPN switch', () => {
  it('builds the new workspace on the new config, then replaces the old one under the same name', async () => {
    const { em } = ctx;
    const first = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'office', env: 'A=1', replicas: '2' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const reporter = new RecordingReporter();
    const second = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'lab', vpnCheck: '10.251.0.5', env: 'A=1', replicas: '2' }),
      reporter,
      virtualTimeDeps(),
    );
    expect(second.workspaceId).not.toBe(first.workspaceId);
    expect(reporter.maxDepth).toBe(1);
    expect(second).toMatchObject({
      name: 'shop-#42',
      action: 'updated',
      vpnConfig: 'lab',
      url: `https://${second.workspaceId}-3000.2.codesphere.com`,
      changes: [
        `vpnConfig: office -> lab (zero-downtime: workspace ${second.workspaceId} replaced ${first.workspaceId})`,
      ],
      vpnCheck: { status: 'passed' },
    });
    const [ws, ...others] = workspacesNamed(em, 'shop-#42');
    expect(others).toEqual([]);
    expect(ws).toMatchObject({ id: second.workspaceId, vpnConfig: 'lab', replicas: 2 });
    expect(Object.fromEntries(ws?.env ?? [])).toEqual({
      A: '1',
      [managedEnvMarker('A')]: MANAGED_ENV_MARKER_VALUE,
    });
    expect(em.world.workspaces.has(first.workspaceId)).toBe(false);
    expect(workspacesNamed(em, 'shop-#42-vpn-switch')).toEqual([]);
    // The name moves before anything is deleted: the old workspace steps aside (rename), the new
    // one takes the name (rename), and only then is the old one deleted. Those two renames are the
    // only PATCHes: the old workspace's VPN config was never PATCHed (no restart).
    const handover = em
      .requestLog()
      .filter(
        (e) =>
          (e.method === 'PATCH' || e.method === 'DELETE') &&
          (e.path === `/api/workspaces/${first.workspaceId}` ||
            e.path === `/api/workspaces/${second.workspaceId}`),
      )
      .map((e) => `${e.method} ${e.path === `/api/workspaces/${first.workspaceId}` ? 'old' : 'new'}`);
    expect(handover).toEqual(['PATCH old', 'PATCH new', 'DELETE old']);
    expect(count(em, 'PATCH', /^\/api\/workspaces\/\d+$/)).toBe(2);
    expect(workspacesNamed(em, 'shop-#42-vpn-retiring')).toEqual([]);

    // Same config again: an ordinary update, no replacement.
    const third = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'lab', env: 'A=1', replicas: '2' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(third.workspaceId).toBe(second.workspaceId);
  });

  it('keeps the old workspace and removes the new one when the new one fails its VPN check', async () => {
    const { em } = ctx;
    const first = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'office' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const err = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'office-wrong-psk', vpnCheck: '10.250.0.5' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    expect((err as Error).message).toContain('Zero-downtime VPN switch to office-wrong-psk failed');
    expect((err as Error).message).toContain('VPN check failed');
    expect((err as DeploymentError).workspace.workspaceId).toBe(first.workspaceId);
    expect(workspacesNamed(em, 'shop-#42')).toMatchObject([{ id: first.workspaceId, vpnConfig: 'office' }]);
    expect(workspacesNamed(em, 'shop-#42-vpn-switch')).toEqual([]);
  });

  it('an unknown VPN config creates nothing and leaves the old workspace alone', async () => {
    const { em } = ctx;
    const first = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'office' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    const err = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'nope' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect([...em.world.workspaces.values()].map((w) => [w.id, w.name, w.vpnConfig])).toEqual([
      [first.workspaceId, 'shop-#42', 'office'],
    ]);
  });
});

/**
 * A job killed at a chosen moment: from the first `sleep` (a poll, a retry backoff or the drain)
 * at which `when()` holds, the run never resumes, as if its process died there. Nothing it would
 * have done afterwards (catch blocks, cleanup) runs.
 */
function killedWhen(when: () => boolean): Partial<CoreDeps> & { killed: Promise<void> } {
  const deps = virtualTimeDeps();
  let markKilled: () => void = () => undefined;
  const killed = new Promise<void>((resolve) => (markKilled = resolve));
  return {
    ...deps,
    killed,
    clock: {
      now: () => deps.clock.now(),
      sleep: (ms) => {
        if (!when()) return deps.clock.sleep(ms);
        markKilled();
        return new Promise<void>(() => undefined);
      },
    },
  };
}

const named = (name: string) => workspacesNamed(ctx.em, name)[0];
const state = () =>
  [...ctx.em.world.workspaces.values()].map((w) => `${w.name} ${w.vpnConfig ?? '(none)'}`).sort();

/** The preview on office, then a zero-downtime switch to lab killed where `at` says. */
async function interruptedSwitch(at: 'drain' | 'between-renames'): Promise<{ oldId: number; newId: number }> {
  const { em } = ctx;
  const first = await deploy(
    baseInput(em, { ...ZD, vpnConfig: 'office' }),
    new RecordingReporter(),
    virtualTimeDeps(),
  );
  let armed = false;
  const deps = killedWhen(() => {
    const building = named('shop-#42-vpn-switch');
    if (at === 'between-renames' && building && !armed) {
      // The rename of the new workspace fails once, so the client backs off (sleeps) right
      // after the old one stepped aside: the kill lands between the two renames.
      em.arm({ kind: 'server-error', method: 'PATCH', path: `/api/workspaces/${building.id}` });
      armed = true;
    }
    const retiring = named('shop-#42-vpn-retiring');
    if (!retiring) return false;
    return at === 'drain' ? named('shop-#42')?.vpnConfig === 'lab' : building !== undefined;
  });
  void deploy(baseInput(em, { ...ZD, vpnConfig: 'lab' }), new RecordingReporter(), deps);
  await deps.killed;
  const newId = (named('shop-#42') ?? named('shop-#42-vpn-switch'))?.id ?? -1;
  return { oldId: first.workspaceId, newId };
}

describe('zero-downtime VPN switch, interrupted', () => {
  it('killed during the drain: the next deploy removes the retiring workspace and keeps the new one', async () => {
    const { oldId, newId } = await interruptedSwitch('drain');
    expect(state()).toEqual(['shop-#42 lab', 'shop-#42-vpn-retiring office']);
    const reporter = new RecordingReporter();
    const next = await deploy(baseInput(ctx.em, { ...ZD, vpnConfig: 'lab' }), reporter, virtualTimeDeps());
    expect(next).toMatchObject({ workspaceId: newId, name: 'shop-#42', vpnConfig: 'lab', action: 'updated' });
    expect(state()).toEqual(['shop-#42 lab']);
    expect(ctx.em.world.workspaces.has(oldId)).toBe(false);
    expect(reporter.texts('warning').join('\n')).toContain(
      `Deleting workspace ${oldId} ("shop-#42-vpn-retiring", VPN config office): a zero-downtime switch already replaced it with workspace ${newId}`,
    );
  });

  it.each(['lab', 'office'])(
    'killed between the two renames: the next deploy (to %s) ends with one workspace under the name, on that config',
    async (vpnConfig) => {
      const { oldId, newId } = await interruptedSwitch('between-renames');
      expect(state()).toEqual(['shop-#42-vpn-retiring office', 'shop-#42-vpn-switch lab']);
      const reporter = new RecordingReporter();
      const next = await deploy(baseInput(ctx.em, { ...ZD, vpnConfig }), reporter, virtualTimeDeps());
      expect(state()).toEqual([`shop-#42 ${vpnConfig}`]);
      // The intermediate already on the requested config takes the name: no third workspace.
      const kept = vpnConfig === 'lab' ? newId : oldId;
      expect(next).toMatchObject({ workspaceId: kept, name: 'shop-#42', vpnConfig });
      expect(count(ctx.em, 'POST', /^\/api\/workspaces$/)).toBe(2);
      expect(reporter.texts('warning').join('\n')).toContain('stopped between its two renames');
    },
  );

  it('killed while building the replacement: a deploy to another config removes the half-built one', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { ...ZD, vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps());
    const deps = killedWhen(() => named('shop-#42-vpn-switch') !== undefined);
    void deploy(baseInput(em, { ...ZD, vpnConfig: 'lab' }), new RecordingReporter(), deps);
    await deps.killed;
    expect(state()).toEqual(['shop-#42 office', 'shop-#42-vpn-switch lab']);
    const reporter = new RecordingReporter();
    await deploy(baseInput(em, { ...ZD, vpnConfig: 'office' }), reporter, virtualTimeDeps());
    expect(state()).toEqual(['shop-#42 office']);
    expect(reporter.texts('warning').join('\n')).toContain(
      'the replacement a zero-downtime switch was building before it took the name',
    );
  });

  it('killed while building the replacement: a deploy to the same config continues with it', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { ...ZD, vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps());
    const deps = killedWhen(() => named('shop-#42-vpn-switch') !== undefined);
    void deploy(baseInput(em, { ...ZD, vpnConfig: 'lab' }), new RecordingReporter(), deps);
    await deps.killed;
    const halfBuilt = named('shop-#42-vpn-switch')?.id;
    const next = await deploy(
      baseInput(em, { ...ZD, vpnConfig: 'lab' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(next.workspaceId).toBe(halfBuilt);
    expect(state()).toEqual(['shop-#42 lab']);
    expect(count(em, 'POST', /^\/api\/workspaces$/)).toBe(2);
  });

  it.each(['drain', 'between-renames'] as const)(
    'killed (%s): a teardown removes every workspace of the preview',
    async (at) => {
      await interruptedSwitch(at);
      await teardown(baseInput(ctx.em), new RecordingReporter(), virtualTimeDeps());
      expect(state()).toEqual([]);
    },
  );

  it.each(['drain', 'between-renames'] as const)(
    'killed (%s): prune of the closed change request removes every workspace of the preview',
    async (at) => {
      await interruptedSwitch(at);
      // Past prune's recent-workspace margin, and the platform confirms the close.
      for (const w of ctx.em.world.workspaces.values())
        w.createdAt = new Date(Date.now() - 3_600_000).toISOString();
      const closed: Partial<CoreDeps> = {
        ...virtualTimeDeps(),
        changeRequests: { state: () => Promise.resolve('closed') },
      };
      const result = await prune(
        baseInput(ctx.em, { openChangeNumbers: [] }),
        new RecordingReporter(),
        closed,
      );
      expect(result.pruned).toHaveLength(2);
      expect(state()).toEqual([]);
    },
  );
});

describe('zero-downtime VPN switch, concurrent', () => {
  it(
    'ten concurrent switches of one PR end with one workspace on the new config, each run saying what happened',
    { timeout: 60_000 },
    async () => {
      const { em } = ctx;
      const first = await deploy(
        baseInput(em, { ...ZD, vpnConfig: 'office' }),
        new RecordingReporter(),
        virtualTimeDeps(),
      );
      const reporters = Array.from({ length: 10 }, () => new RecordingReporter());
      const results = await Promise.allSettled(
        reporters.map((r) => deploy(baseInput(em, { ...ZD, vpnConfig: 'lab' }), r, virtualTimeDeps())),
      );
      expect(state()).toEqual(['shop-#42 lab']);
      const final = named('shop-#42');
      expect(final?.id).not.toBe(first.workspaceId);
      for (const [i, result] of results.entries()) {
        const log = reporters[i]?.shown() ?? '';
        if (result.status === 'fulfilled') {
          expect(result.value, log).toMatchObject({
            workspaceId: final?.id,
            name: 'shop-#42',
            vpnConfig: 'lab',
          });
          continue;
        }
        const message = String(result.reason);
        // Whatever a run reports must match the end state: the name is on lab, no teardown ran.
        expect(message, log).not.toContain('kept its VPN config office');
        expect(message, log).not.toMatch(/teardown/i);
        expect(message, log).not.toMatch(/still "shop-#42" on VPN config office/);
        expect(message, log).toContain(`Workspace ${final?.id} is "shop-#42" on VPN config lab`);
      }
      expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    },
  );
});
