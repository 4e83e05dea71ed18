/** vpnSwitch: zero-downtime: a second workspace on the new VPN config replaces the old one. */
import { describe, expect, it } from 'vitest';

import { ConfigError, deploy, DeploymentError } from '../../shared/index.js';
import { MANAGED_ENV_MARKER_VALUE, managedEnvMarker } from '../../shared/managed-env.js';
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
      vpnCheck: { ok: true },
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

  it('cleans up a half-built workspace left by an interrupted switch', async () => {
    const { em } = ctx;
    await deploy(baseInput(em, { ...ZD, vpnConfig: 'office' }), new RecordingReporter(), virtualTimeDeps());
    await deploy(
      baseInput(em, { changeNumber: undefined, branch: 'x', vpnConfig: 'lab' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    ).catch(() => undefined);
    // Simulate the leftover: a workspace with the temporary name.
    const leftover = [...em.world.workspaces.values()].find((w) => w.name === 'shop-x');
    if (leftover) leftover.name = 'shop-#42-vpn-switch';
    const reporter = new RecordingReporter();
    await deploy(baseInput(em, { ...ZD, vpnConfig: 'lab' }), reporter, virtualTimeDeps());
    expect(reporter.texts('warning').join('\n')).toContain('left by an interrupted switch');
    expect([...em.world.workspaces.values()].map((w) => w.name)).toEqual(['shop-#42']);
  });
});
