/**
 * A private TCP target through real strongSwan tunnels (the emulator's real driver, root only):
 * it passes from every replica, and fails as a timeout, named with its replica, once the gateway's
 * firewall drops that port while ICMP to the same LAN still answers. Skipped with a notice where
 * the real driver cannot run (never in CI as root).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import { PrivateTargetsFailedError } from '../../shared/errors.js';
import { deploy } from '../../shared/workflow/deploy.js';
import { baseInput, quickDeps, RecordingReporter } from '../core/helpers.js';
import { mustRunReal, realDriverSkipReason } from '../ipsec/real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal)
  console.warn(`[test/private-data] private targets through real tunnels SKIPPED: ${skipReason}`);

/** The namespace of the gateway whose public address is `ip` (the real driver names them <prefix>gw<n>). */
function gatewayNamespace(prefix: string, ip: string): string {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}gw`));
  const found = names.find((ns) =>
    execFileSync('ip', ['-n', ns, 'addr'], { encoding: 'utf8' }).includes(`${ip}/`),
  );
  if (!found) throw new Error(`no gateway namespace with ${ip} among ${names.join(', ')}`);
  return found;
}

function firewall(ns: string, action: '-I' | '-D'): void {
  execFileSync('ip', [
    'netns',
    'exec',
    ns,
    'iptables',
    action,
    'FORWARD',
    '-p',
    'tcp',
    '--dport',
    '5432',
    '-j',
    'DROP',
  ]);
}

describe.runIf(!skipReason || mustRunReal)(
  'private targets through real tunnels',
  { timeout: 180_000 },
  () => {
    let emulator: RunningEmulator;

    beforeAll(async () => {
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      emulator = await startEmulator({
        driver: 'strongswan',
        timing: { provisioningMs: 50, stageQueueMs: 10, stageMs: 50, latencyMs: 0 },
        notice: () => {},
      });
    }, 60_000);

    afterAll(async () => {
      await emulator?.close();
    }, 60_000);

    it('a TCP target passes through the tunnel, and fails when the gateway drops the port while ping answers', async () => {
      const input = baseInput(emulator, {
        vpnConfig: 'office',
        replicas: '2',
        privateTargets: '10.250.0.5, 10.250.0.7:5432',
      });
      const passed = await deploy(input, new RecordingReporter(), quickDeps(200));
      expect(passed.privateTargets?.cells.map((c) => `${c.replica} ${c.target} ${c.ok}`)).toEqual([
        '0 10.250.0.5 true',
        '1 10.250.0.5 true',
        '0 10.250.0.7:5432 true',
        '1 10.250.0.7:5432 true',
      ]);

      const driver = emulator.driver;
      if (driver.kind !== 'strongswan' || !('prefix' in driver))
        throw new Error('expected the strongswan driver');
      const gw = gatewayNamespace(String(driver.prefix), '198.51.100.1');
      firewall(gw, '-I');
      try {
        const failed = await deploy(input, new RecordingReporter(), quickDeps(200)).then(
          () => undefined,
          // The deploy wraps it in a DeploymentError saying the workspace is left in place.
          (err: unknown) => (err instanceof Error && err.cause !== undefined ? err.cause : err),
        );
        expect(failed).toBeInstanceOf(PrivateTargetsFailedError);
        const grid = failed instanceof PrivateTargetsFailedError ? failed.grid : undefined;
        expect(grid?.cells.map((c) => `${c.replica} ${c.target} ${c.ok ? 'ok' : c.reason}`)).toEqual([
          '0 10.250.0.5 ok',
          '1 10.250.0.5 ok',
          '0 10.250.0.7:5432 timeout',
          '1 10.250.0.7:5432 timeout',
        ]);
        expect(String(failed)).toMatch(/10\.250\.0\.7:5432 from replica 0: timeout/);
      } finally {
        firewall(gw, '-D');
      }
    });
  },
);
