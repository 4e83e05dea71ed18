/**
 * A landscape on real tunnels: the emulator with the strongSwan driver (root, strongSwan; skipped
 * with a notice otherwise, as test/ipsec is, and never skipped in CI as root), a preview of web ×2
 * and api ×1 plus a managed Postgres deployed through the core, and its VPN check run from every
 * service replica: three real tunnels from gateway hq's pool, one per service replica.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import { deploy } from '../../shared/index.js';
import { baseInput, RecordingReporter } from '../core/helpers.js';
import { mustRunReal, realDriverSkipReason } from '../ipsec/real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal) {
  console.warn(`[test/landscapes] landscape on real tunnels SKIPPED: ${skipReason}`);
}

describe.runIf(!skipReason || mustRunReal)(
  'a landscape on real strongSwan tunnels',
  { timeout: 90_000 },
  () => {
    let emulator: RunningEmulator;

    beforeAll(async () => {
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      emulator = await startEmulator({
        driver: 'strongswan',
        timing: { provisioningMs: 50, stageQueueMs: 10, stageMs: 50, latencyMs: 0, managedServiceMs: 50 },
        notice: () => {},
      });
    }, 60_000);

    afterAll(async () => {
      await emulator?.close();
    }, 60_000);

    it('opens one real tunnel per service replica, and the VPN check passes from each', async () => {
      const result = await deploy(
        baseInput(emulator, {
          branch: 'landscape',
          plan: 'Pro',
          vpnConfig: 'office',
          replicas: 'web=2,api=1',
          vpnCheck: '10.250.0.5',
          timeoutSeconds: '60',
        }),
        new RecordingReporter(),
      );
      expect(result.services?.map((s) => [s.name, s.checks.map((c) => c.vpn)])).toEqual([
        ['web', ['10.250.0.5 reachable', '10.250.0.5 reachable']],
        ['api', ['10.250.0.5 reachable']],
        ['db', [undefined]],
      ]);
      const tunnels = emulator.driver.tunnels(result.workspaceId);
      expect(tunnels).toHaveLength(3);
      const ips = tunnels.map((t) => (t.tunnel.state === 'up' ? t.tunnel.virtualIp : t.tunnel.state));
      // Each service replica has its own virtual IP from hq's pool (10.200.0.0/24).
      expect(ips.every((ip) => /^10\.200\.0\.\d+$/.test(ip))).toBe(true);
      expect(new Set(ips).size).toBe(3);
    });
  },
);
