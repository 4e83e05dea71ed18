/**
 * The VPN switch against real strongSwan tunnels: a 2-replica preview switches
 * office -> lab while a client keeps probing the host the preview's current VPN config routes to,
 * resolving the preview by its name every time (the prober: test/bench/vpn-switch.bench.ts).
 * Same skip rules as the other real-driver tests: skipped with a notice without root or strongSwan,
 * never skipped in CI as root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMeasurement, measureSwitch, SWITCH_TIMING } from '../bench/vpn-switch.bench.js';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import type { StrongswanTunnelDriver } from '../../emulator/tunnels/strongswan/index.js';
import { leftovers, mustRunReal, realDriverSkipReason } from './real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal) {
  console.warn(`[test/ipsec] VPN switch tests with real tunnels SKIPPED: ${skipReason}`);
}

describe.runIf(!skipReason || mustRunReal)('VPN switch with real tunnels', { timeout: 60_000 }, () => {
  let emulator: RunningEmulator;

  beforeAll(async () => {
    // in CI as root this is where a missing strongSwan fails loudly instead of skipping
    if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
    emulator = await startEmulator({ driver: 'strongswan', timing: SWITCH_TIMING });
  }, 60_000);

  afterAll(async () => {
    await emulator?.close();
  }, 60_000);

  it('in place: the same workspace restarts its tunnels, so for a moment none of its replicas has one up', async () => {
    const m = await measureSwitch(emulator, 'in-place', 1);
    console.info(`[test/ipsec] ${describeMeasurement(m)}`);
    expect(m.toWorkspaceId).toBe(m.fromWorkspaceId);
    expect(m.samplesWithoutWorkspace).toBe(0);
    expect(m.samplesWithoutUpTunnel).toBeGreaterThan(0);
    // the probes did run, and the preview reached the new config's host afterwards
    expect(m.probes).toBeGreaterThan(10);
    expect(m.lostProbes.every((p) => p.workspaceId === m.fromWorkspaceId)).toBe(true);
  });

  it('zero-downtime: the preview never loses its tunnels, and no probe is lost, the handover included', async () => {
    const m = await measureSwitch(emulator, 'zero-downtime', 2);
    console.info(`[test/ipsec] ${describeMeasurement(m)}`);
    expect(m.toWorkspaceId).not.toBe(m.fromWorkspaceId);
    expect(m.probes).toBeGreaterThan(10);
    // whichever workspace held the name had an up tunnel at every sample: nothing restarted under it
    expect(m.samplesWithoutUpTunnel).toBe(0);
    expect(m.handover).toBeDefined();
    // The name moves before anything is deleted (old -> retiring name, new -> the name, a drain,
    // then the old one goes), so a client following the name never finds its workspace gone.
    expect(m.lostProbes).toEqual([]);
  });

  it('leaves nothing behind: the switches deleted their workspaces, close() removes every namespace', async () => {
    expect(emulator.world.workspaces.size).toBe(0);
    expect(emulator.contractViolations()).toEqual([]);
    const driver = emulator.driver as StrongswanTunnelDriver;
    expect(leftovers(`${driver.prefix}w`, '/nonexistent')).toEqual([]);
    await emulator.close();
    expect(leftovers(driver.prefix, driver.stateDir)).toEqual([]);
  });
});
