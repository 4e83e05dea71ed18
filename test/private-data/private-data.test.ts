/**
 * Private data per preview, on all three platforms as their runners run the built adapters:
 * private targets checked from every replica (a refused port and a bad certificate named with
 * their replica and reason), onCreate once per workspace (redeploys, overlapping runs),
 * onDelete before the deletion on teardown and prune (its failure never blocks it), the VPN pool
 * warning and refusal before any create, and bad targets as input errors before any call.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { backdateWorkspaces, startFixtureEmulator, workspaceNamed, workspaces } from '../doubles/fixture.js';
import { DEMO_TOKEN } from '../doubles/run-entry.js';
import { PLATFORMS, setProbeFaults, type PlatformRun } from './platforms.js';

const show = (run: PlatformRun) => `exit ${run.code}\n${run.text}`;

/** Creates a workspace on VPN config "office" straight through the API, as another preview would be. */
async function otherPreview(emulator: RunningEmulator, name: string, replicas: number): Promise<void> {
  const response = await fetch(`${emulator.url}/api/workspaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEMO_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      teamId: 101,
      name,
      planId: 20,
      isPrivateRepo: true,
      replicas,
      vpnConfig: 'office',
    }),
  });
  if (!response.ok) throw new Error(`creating ${name}: HTTP ${response.status} ${await response.text()}`);
}

// The platforms run side by side, each on its own emulator and double: a run is mostly waiting
// (polls, the teardown's race checks, the note's pause), so the three overlap. One platform's
// tests run one after the other.
describe.concurrent.each(PLATFORMS)('private data on $name', (platform) => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startFixtureEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  const executions = () => emulator.world.executions;
  const apiCalls = () => emulator.requestLog().filter((e) => e.path.startsWith('/api/'));

  describe.sequential('one test after another', () => {
    beforeEach(async () => {
      await emulator.reset();
      await platform.start(emulator);
    });
    afterEach(async () => {
      await platform.stop();
    });

    it('names the target, replica and reason when one replica is refused, and checks every replica', async () => {
      await setProbeFaults(emulator, [{ target: '10.250.0.7:5432', fault: 'refused', replica: 1 }]);
      const run = await platform.deploy(51, {
        plan: 'Boost',
        replicas: '2',
        privateTargets: '10.250.0.5, 10.250.0.7:5432',
      });
      expect(run.code, show(run)).not.toBe(0);
      expect(run.text).toMatch(/10\.250\.0\.7:5432 from replica 1: refused/);
      expect(run.text).not.toMatch(/10\.250\.0\.7:5432 from replica 0/);
      // The failed note shows the grid: which replica failed which target.
      expect(run.note).toMatch(/\| replica 0 \| ✅ \| ✅ \|/);
      expect(run.note).toMatch(/\| replica 1 \| ✅ \| ❌ refused \|/);
      // Every target from every replica, each command naming the host it checks.
      const probes = executions().filter((e) => e.command.includes('10.250.0.'));
      expect(
        probes.map((e) => `${e.env.CODESPHERE_REPLICA} ${/10\.250\.0\.\d+/.exec(e.command)?.[0]}`).sort(),
      ).toEqual(['0 10.250.0.5', '0 10.250.0.7', '1 10.250.0.5', '1 10.250.0.7']);
      // The preview stays for the next run to reuse.
      expect(workspaceNamed(emulator, platform.previewName(51))).toBeDefined();
    }, 120_000);

    it('passes with a grid in the note, and fails a tls:// target whose certificate does not match', async () => {
      const targets = { privateTargets: '10.250.0.5\ntls://10.250.0.7:5432' };
      const ok = await platform.deploy(52, targets);
      expect(ok.code, show(ok)).toBe(0);
      expect(ok.note).toContain('**Private targets**');
      expect(ok.note).toMatch(/\| replica 0 \| ✅ \| ✅ \|/);
      expect(executions().some((e) => e.command.includes('openssl s_client -connect 10.250.0.7:5432'))).toBe(
        true,
      );

      await setProbeFaults(emulator, [{ target: '10.250.0.7:5432', fault: 'tls-hostname-mismatch' }]);
      const bad = await platform.deploy(52, targets, 9052);
      expect(bad.code, show(bad)).not.toBe(0);
      expect(bad.text).toMatch(
        /tls:\/\/10\.250\.0\.7:5432 from replica 0: TLS certificate problem: hostname mismatch/,
      );
    }, 120_000);

    it('runs onCreate exactly once across two overlapping runs and a redeploy, with the preview key', async () => {
      const hook = { onCreate: 'echo seeding schema $CODESPHERE_PREVIEW_KEY' };
      const [a, b] = await Promise.all([platform.deploy(53, hook, 9100), platform.deploy(53, hook, 9101)]);
      expect(a.code, show(a)).toBe(0);
      expect(b.code, show(b)).toBe(0);
      const again = await platform.deploy(53, hook, 9102);
      expect(again.code, show(again)).toBe(0);
      const runs = executions().filter((e) => e.command === hook.onCreate);
      expect(runs).toHaveLength(1);
      expect(runs[0]?.env).toMatchObject({
        CODESPHERE_PREVIEW_NAME: platform.previewName(53),
        CODESPHERE_PREVIEW_KEY: platform.previewKey(53),
      });
      expect(runs[0]?.env.CODESPHERE_PREVIEW_URL).toMatch(/^https:\/\//);
      expect(`${a.text}\n${b.text}`).toContain(`seeding schema ${platform.previewKey(53)}`);
    }, 120_000);

    it('fails the deploy on a failing onCreate with its output, keeps the preview, and retries it next time', async () => {
      const failing = await platform.deploy(54, { onCreate: 'echo cannot reach db && exit 3' });
      expect(failing.code, show(failing)).not.toBe(0);
      expect(failing.text).toMatch(/onCreate failed inside workspace \d+ \(command exited with status 3\)/);
      expect(failing.text).toContain('cannot reach db');
      expect(workspaceNamed(emulator, platform.previewName(54))).toBeDefined();
      const fixed = await platform.deploy(54, { onCreate: 'echo seeded' }, 9154);
      expect(fixed.code, show(fixed)).toBe(0);
      expect(executions().filter((e) => e.command === 'echo seeded')).toHaveLength(1);
    }, 120_000);

    it('runs onDelete right before the teardown deletes the preview, and deletes it when onDelete fails', async () => {
      const deployed = await platform.deploy(55);
      expect(deployed.code, show(deployed)).toBe(0);
      const id = workspaceNamed(emulator, platform.previewName(55))?.id;
      const before = apiCalls().length;
      const torn = await platform.teardown(55, {
        onDelete: 'echo dropping $CODESPHERE_PREVIEW_KEY && exit 7',
      });
      expect(torn.code, show(torn)).toBe(0);
      expect(torn.text).toContain(`dropping ${platform.previewKey(55)}`);
      expect(torn.text).toMatch(
        /onDelete failed inside workspace \d+ \(command exited with status 7\); deleting it anyway/,
      );
      expect(workspaces(emulator)).toEqual([]);
      const calls = apiCalls()
        .slice(before)
        .map((e) => `${e.method} ${e.path}`);
      const hookAt = calls.indexOf(`POST /api/workspaces/${id}/execute`);
      const deleteAt = calls.indexOf(`DELETE /api/workspaces/${id}`);
      expect(hookAt, calls.join('\n')).toBeGreaterThanOrEqual(0);
      expect(hookAt).toBeLessThan(deleteAt);
    }, 120_000);

    it('runs onDelete before a prune deletes a preview past its TTL', async () => {
      const deployed = await platform.deploy(56);
      expect(deployed.code, show(deployed)).toBe(0);
      backdateWorkspaces(emulator, 3 * 3_600_000);
      const pruned = await platform.prune({
        pruneTtlHours: '2',
        onDelete: 'echo drop $CODESPHERE_PREVIEW_KEY',
      });
      expect(pruned.code, show(pruned)).toBe(0);
      expect(workspaces(emulator)).toEqual([]);
      const hook = executions().find((e) => e.command === 'echo drop $CODESPHERE_PREVIEW_KEY');
      expect(hook?.env.CODESPHERE_PREVIEW_KEY).toBe(platform.previewKey(56));
      expect(pruned.text).toContain(`drop ${platform.previewKey(56)}`);
    }, 120_000);

    it('warns at 80 % of the VPN pool and refuses a create beyond it before creating anything', async () => {
      await otherPreview(emulator, 'shop-other-a', 2);
      await otherPreview(emulator, 'shop-other-b', 1);
      const warned = await platform.deploy(57, { vpnPoolSize: '4' });
      expect(warned.code, show(warned)).toBe(0);
      expect(warned.text).toContain('4 of 4 addresses in use (100 %)');
      expect(warned.note).toMatch(/VPN pool \| ⚠️ 4 of 4 addresses in use \(100 %\)/);

      const before = apiCalls().length;
      const refused = await platform.deploy(58, { vpnPoolSize: '4' });
      expect(refused.code, show(refused)).not.toBe(0);
      expect(refused.text).toContain(platform.inputName('vpnPoolSize'));
      expect(refused.text).toMatch(/5 of 4 \(125 %\) would exceed it/);
      expect(refused.text).toContain('"shop-other-a" (2)');
      expect(
        apiCalls()
          .slice(before)
          .filter((e) => e.method === 'POST' && e.path === '/api/workspaces'),
      ).toEqual([]);
      expect(workspaceNamed(emulator, platform.previewName(58))).toBeUndefined();
    }, 120_000);

    it('refuses malformed targets as an input error naming each entry, before any call', async () => {
      const run = await platform.deploy(59, {
        privateTargets: '10.250.0.0/24,,10.250.0.7:70000, 0.0.0.0, db\u0007.corp, tls://10.250.0.9',
      });
      expect(run.code, show(run)).not.toBe(0);
      expect(run.text).toContain(platform.inputName('privateTargets'));
      expect(run.text).toMatch(/entry 1 "10\.250\.0\.0\/24" is a network range/);
      expect(run.text).toMatch(/entry 2 is empty/);
      expect(run.text).toMatch(/entry 3 "10\.250\.0\.7:70000" has a port outside 1-65535/);
      expect(run.text).toMatch(/entry 4 "0\.0\.0\.0" is the unspecified address/);
      expect(run.text).toMatch(/entry 5 "db\\u0007\.corp" holds a control or invisible character/);
      expect(run.text).toMatch(/entry 6 "tls:\/\/10\.250\.0\.9" needs a port/);
      expect(apiCalls()).toEqual([]);
    }, 120_000);
  });
});
