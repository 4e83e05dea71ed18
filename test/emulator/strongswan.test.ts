/**
 * The emulator with real IPsec (the strongSwan driver from tunnels/strongswan/) instead of the
 * simulated one: the same API flows must give the same tunnel outcomes for each seeded config.
 * Needs root and strongSwan's charon (CI installs it); skipped with a notice elsewhere.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import type { ReplicaTunnel } from '../../emulator/tunnels/driver.js';
import { api, createWorkspace, eventually, startFast } from './helpers.js';

const possible = process.getuid?.() === 0 && existsSync('/usr/lib/ipsec/charon');
if (!possible) console.warn('strongSwan emulator tests skipped: they need root and /usr/lib/ipsec/charon.');

describe.skipIf(!possible)('emulator with the strongSwan driver', { timeout: 60_000 }, () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startFast({ driver: 'strongswan' });
  }, 60_000);
  afterAll(() => emulator?.close());

  function settled(id: number): Promise<ReplicaTunnel[]> {
    return eventually(() => {
      const list = emulator.driver.tunnels(id);
      return list.length > 0 && list.every((t) => t.tunnel.state === 'up' || t.tunnel.state === 'down')
        ? list
        : undefined;
    }, 30_000);
  }

  async function execute(id: number, command: string) {
    return (
      await api<{ output: string; error: string }>(emulator, 'POST', `/workspaces/${id}/execute`, {
        body: { command },
      })
    ).body;
  }

  it('brings each seeded config to the same outcome as the simulated driver, and probes through real tunnels', async () => {
    expect(emulator.driver.kind).toBe('strongswan');
    const office = await createWorkspace(emulator, { vpnConfig: 'office', replicas: 2 });
    const lab = await createWorkspace(emulator, { vpnConfig: 'lab' });
    const wrongPsk = await createWorkspace(emulator, { vpnConfig: 'office-wrong-psk' });
    const badProposal = await createWorkspace(emulator, { vpnConfig: 'office-bad-proposal' });

    expect((await settled(office.id)).map((t) => t.tunnel.state)).toEqual(['up', 'up']);
    expect((await settled(lab.id)).map((t) => t.tunnel.state)).toEqual(['up']);
    expect((await settled(wrongPsk.id))[0]?.tunnel).toMatchObject({ state: 'down', reason: 'psk-mismatch' });
    expect((await settled(badProposal.id))[0]?.tunnel).toMatchObject({
      state: 'down',
      reason: 'esp-proposal-mismatch',
    });

    const ping = await execute(office.id, 'ping -c 1 -W 2 10.250.0.5');
    expect(ping.error).toBe('');
    expect(ping.output).toContain(' 0% packet loss');
    expect((await execute(office.id, 'nc -z -w 2 10.250.0.7 5432')).error).toBe('');
    expect((await execute(wrongPsk.id, 'ping -c 1 -W 1 10.250.0.5')).error).not.toBe('');
  });

  it('restarts real tunnels when PATCH switches the config, and they come up', async () => {
    const ws = await createWorkspace(emulator, { vpnConfig: 'office-wrong-psk' });
    expect((await settled(ws.id))[0]?.tunnel.state).toBe('down');
    expect(
      (await api(emulator, 'PATCH', `/workspaces/${ws.id}`, { body: { vpnConfig: 'office' } })).status,
    ).toBe(200);
    await eventually(
      () => (emulator.driver.tunnels(ws.id)[0]?.vpnConfig === 'office' ? true : undefined),
      30_000,
    );
    expect((await settled(ws.id))[0]?.tunnel.state).toBe('up');
    expect(emulator.world.driverErrors).toEqual([]);
  });
});
