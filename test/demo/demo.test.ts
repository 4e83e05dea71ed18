/**
 * `npm run demo` must keep working: run the demo script (on the already built bundle, as
 * `npm run demo` does after its build) and check that it exits 0 and walks through every step.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, spawnNode } from '../github-action/harness.js';

describe('npm run demo', () => {
  it('runs the built action through opened, push, VPN switch and closed, and passes', async () => {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
    };
    const { code, stdout, stderr } = await spawnNode(
      ['--import', 'tsx', path.join(repoRoot, 'scripts/demo.ts')],
      env,
    );
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(
      /Codesphere emulator: http:\/\/127\.0\.0\.1:\d+ \(tunnel driver: (simulated|strongswan)\)/,
    );
    for (const step of [
      '1. pull_request opened',
      '2. pull_request synchronize',
      '3. pull_request synchronize with the workflow changed to vpnConfig: lab',
      '4. pull_request closed',
    ]) {
      expect(stdout).toContain(step);
    }
    expect(stdout).toMatch(/tunnel: +replica 0 via office: up/);
    expect(stdout).toMatch(/tunnel: +replica 1 via lab: up/);
    expect(stdout).toContain('git pull done, no PATCH sent');
    expect(stdout).toContain('shop-#7 does not exist (any more)');
    expect(stdout).toContain('Demo passed: 4 of 4 steps');
    expect(stdout).not.toContain('FAILED');
  }, 180_000);

  it('then a landscape: two services and a managed Postgres, every service replica on the VPN, and passes', async () => {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
    };
    const { code, stdout, stderr } = await spawnNode(
      ['--import', 'tsx', path.join(repoRoot, 'scripts/demo.ts'), '--landscape'],
      env,
    );
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('profile preview, replicas web=2,api=1');
    expect(stdout).toContain('Demo (landscape) passed');
    expect(stdout).not.toContain('FAILED');
  }, 180_000);
});
