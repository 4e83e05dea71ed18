/**
 * End to end through the emulator's Public API with the real driver: a workspace on VPN config
 * `office` with 2 replicas gets two real tunnels to gateway `hq`, and `execute` pings cross them.
 * Same skip rules as the driver tests (never skipped in CI as root).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import type { ReplicaTunnel } from '../../emulator/tunnels/driver.js';
import type { StrongswanTunnelDriver } from '../../emulator/tunnels/strongswan/index.js';
import { leftovers, mustRunReal, realDriverSkipReason } from './real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal) {
  console.warn(`[test/ipsec] emulator end-to-end test with real tunnels SKIPPED: ${skipReason}`);
}

const TOKEN = 'csdemo-token-0123456789abcdef';
const MY_TEAM = 101;
const BOOST = 20;

describe.runIf(!skipReason || mustRunReal)("emulator with driver 'strongswan'", { timeout: 60_000 }, () => {
  let emulator: RunningEmulator;

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const settledTunnels = (id: number) =>
    until(`tunnels of workspace ${id}`, async () => {
      const answer = await api<{ tunnels: ReplicaTunnel[] }>('GET', `/_emulator/workspaces/${id}`);
      const list = answer.body.tunnels;
      return list.length > 0 && list.every((t) => t.tunnel.state === 'up' || t.tunnel.state === 'down')
        ? list
        : undefined;
    });

  const execute = (id: number, command: string, replica: number) =>
    api<{ output: string; error: string }>('POST', `/api/workspaces/${id}/execute`, {
      command,
      env: { CODESPHERE_REPLICA: String(replica) },
    });

  beforeAll(async () => {
    if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
    emulator = await startEmulator({
      driver: 'strongswan',
      timing: { provisioningMs: 50, stageQueueMs: 10, stageMs: 50, latencyMs: 0 },
    });
  }, 60_000);

  afterAll(async () => {
    await emulator?.close();
  }, 60_000);

  it('a workspace on office with 2 replicas: real tunnels from hq pool, execute pings cross them', async () => {
    expect(emulator.driver.kind).toBe('strongswan');
    const created = await api<{ id: number }>('POST', '/api/workspaces', {
      teamId: MY_TEAM,
      name: 'ipsec-e2e',
      planId: BOOST,
      isPrivateRepo: false,
      replicas: 2,
      vpnConfig: 'office',
    });
    expect(created.status).toBe(200);
    const id = created.body.id;

    const tunnels = await settledTunnels(id);
    expect(tunnels.map((t) => t.tunnel)).toEqual([
      expect.objectContaining({
        state: 'up',
        virtualIp: expect.stringMatching(/^10\.200\.0\.\d+$/) as unknown,
      }),
      expect.objectContaining({
        state: 'up',
        virtualIp: expect.stringMatching(/^10\.200\.0\.\d+$/) as unknown,
      }),
    ]);

    await until('workspace running', async () => {
      const status = await api<{ isRunning: boolean }>('GET', `/api/workspaces/${id}/status`);
      return status.body.isRunning ? true : undefined;
    });
    for (const replica of [0, 1]) {
      const ping = await execute(id, 'ping -c 3 -W 2 10.250.0.5', replica);
      expect(ping.status).toBe(200);
      expect(ping.body.error).toBe('');
      expect(ping.body.output).toMatch(/64 bytes from 10\.250\.0\.5/);
    }
    const tcp = await execute(id, 'nc -z -w 3 10.250.0.7 5432', 1);
    expect(tcp.body.error).toBe('');

    // switching the workspace to the wrong PSK restarts its tunnels for real: now they fail
    const patched = await api('PATCH', `/api/workspaces/${id}`, { vpnConfig: 'office-wrong-psk' });
    expect(patched.status).toBe(200);
    // the API answers at once; the restart runs in the background
    const broken = await until('tunnels restarted on office-wrong-psk', async () => {
      const list = await settledTunnels(id);
      return list.every((t) => t.vpnConfig === 'office-wrong-psk') ? list : undefined;
    });
    expect(broken.map((t) => t.tunnel)).toEqual([
      expect.objectContaining({ state: 'down', reason: 'psk-mismatch' }),
      expect.objectContaining({ state: 'down', reason: 'psk-mismatch' }),
    ]);
    const failing = await execute(id, 'ping -c 3 -W 2 10.250.0.5', 0);
    expect(failing.body.error).not.toBe('');

    // deleting the workspace removes its replicas' namespaces
    const driver = emulator.driver as StrongswanTunnelDriver;
    const replicaNamespaces = () => leftovers(`${driver.prefix}w${id}r`, '/nonexistent');
    expect(replicaNamespaces()).toHaveLength(2);
    expect((await api('DELETE', `/api/workspaces/${id}`)).status).toBe(200);
    await until('replica namespaces removed', () =>
      Promise.resolve(replicaNamespaces().length === 0 ? true : undefined),
    );
  });

  it('closing the emulator stops every daemon and removes every namespace', async () => {
    const driver = emulator.driver as StrongswanTunnelDriver;
    expect(leftovers(driver.prefix, driver.stateDir).length).toBeGreaterThan(0);
    await emulator.close();
    expect(leftovers(driver.prefix, driver.stateDir)).toEqual([]);
  });
});
