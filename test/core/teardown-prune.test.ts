/** teardown and prune against the emulator. */
import { describe, expect, it } from 'vitest';

import { CodesphereClient } from '../../shared/codesphere/client.js';
import { deploy, prune, teardown } from '../../shared/index.js';
import { workspaceName } from '../../shared/naming.js';
import {
  baseInput,
  DEMO_TOKEN,
  RecordingReporter,
  useEmulator,
  virtualTimeDeps,
  workspacesNamed,
} from './helpers.js';

const ctx = useEmulator();

async function createRaw(name: string, teamId = 101): Promise<number> {
  const client = new CodesphereClient({
    apiUrl: ctx.em.url,
    token: DEMO_TOKEN,
    userAgent: 't',
    sleep: () => Promise.resolve(),
  });
  const ws = await client.createWorkspace({ teamId, name, planId: 8, isPrivateRepo: false, replicas: 1 });
  return ws.id;
}

const names = () => [...ctx.em.world.workspaces.values()].map((w) => w.name).sort();

describe('teardown', () => {
  it('deletes the change request workspace; a second run finds nothing and succeeds', async () => {
    const { em } = ctx;
    const { workspaceId } = await deploy(baseInput(em), new RecordingReporter(), virtualTimeDeps());
    const first = await teardown(baseInput(em), new RecordingReporter(), virtualTimeDeps());
    expect(first).toEqual({ name: 'shop-#42', workspaceId, deleted: true });
    expect(workspacesNamed(em, 'shop-#42')).toEqual([]);
    const reporter = new RecordingReporter();
    const second = await teardown(baseInput(em), reporter, virtualTimeDeps());
    expect(second).toEqual({ name: 'shop-#42', deleted: false });
    expect(reporter.shown()).toContain('nothing to delete');
  });

  it('deletes a branch preview by its branch, and only it', async () => {
    const { em } = ctx;
    const name = workspaceName({ platform: 'github', repository: 'acme/shop', branch: 'feature/x' });
    const sibling = workspaceName({ platform: 'github', repository: 'acme/shop', branch: 'feature-x' });
    await createRaw(name);
    await createRaw(sibling);
    // A branch preview under the scheme before 2026-11 (`<repo>-<slug>`) is no longer this branch's.
    await createRaw('shop-feature-x');
    await createRaw('shop-#42');
    const result = await teardown(
      baseInput(em, { changeNumber: undefined, branch: 'feature/x' }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result).toMatchObject({ deleted: true, name });
    expect(names()).toEqual(['shop-#42', 'shop-feature-x', sibling].sort());
  });
});

describe('prune', () => {
  async function previews() {
    for (const name of ['shop-#1', 'shop-#2', 'shop-#3', 'shop-main', 'shopping-#1', 'shop-!1', 'hand-made'])
      await createRaw(name);
    await createRaw('shop-#9', 102); // another team: never listed
  }

  it('deletes previews of closed change requests and nothing else', async () => {
    await previews();
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [2] }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.dryRun).toBe(false);
    expect(result.pruned.map((p) => [p.name, p.reason])).toEqual([
      ['shop-#1', 'change #1 is no longer open'],
      ['shop-#3', 'change #3 is no longer open'],
    ]);
    expect(result.kept.map((k) => k.name)).toEqual(['shop-#2']);
    expect(names()).toEqual(['hand-made', 'shop-!1', 'shop-#2', 'shop-#9', 'shop-main', 'shopping-#1']);
  });

  it('dry run lists what it would delete and deletes nothing', async () => {
    await previews();
    const before = names();
    const reporter = new RecordingReporter();
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [2], dryRun: 'true' }),
      reporter,
      virtualTimeDeps(),
    );
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-#1', 'shop-#3']);
    expect(names()).toEqual(before);
    expect(reporter.shown()).toContain('Would delete "shop-#1"');
    expect(ctx.em.requestLog().filter((e) => e.method === 'DELETE')).toEqual([]);
  });

  it('prunes by age with a TTL, whatever the change state', async () => {
    await previews();
    const later = { ...virtualTimeDeps(), now: () => Date.now() + 49 * 3_600_000 };
    const young = await prune(
      baseInput(ctx.em, { pruneTtlHours: '72', dryRun: 'yes' }),
      new RecordingReporter(),
      later,
    );
    expect(young.pruned).toEqual([]);
    const old = await prune(
      baseInput(ctx.em, { pruneTtlHours: '48', openChangeNumbers: [1, 2, 3] }),
      new RecordingReporter(),
      later,
    );
    expect(old.pruned.map((p) => p.name)).toEqual(['shop-#1', 'shop-#2', 'shop-#3']);
    expect(old.pruned[0]?.reason).toMatch(/^older than 48 h/);
  });

  it("treats a switch's intermediate workspaces as their preview's", async () => {
    for (const name of [
      'shop-#1-vpn-switch',
      'shop-#1-vpn-retiring',
      'shop-#2',
      'shop-#2-vpn-retiring',
      'shop-#2-vpn-other',
      'shop-!1-vpn-switch',
    ])
      await createRaw(name);
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [2] }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.pruned.map((p) => [p.name, p.reason])).toEqual([
      ['shop-#1-vpn-switch', 'change #1 is no longer open'],
      ['shop-#1-vpn-retiring', 'change #1 is no longer open'],
    ]);
    expect(names()).toEqual(['shop-!1-vpn-switch', 'shop-#2', 'shop-#2-vpn-other', 'shop-#2-vpn-retiring']);
  });

  it('knows each platform by its own pattern', async () => {
    await previews();
    const result = await prune(
      baseInput(ctx.em, { platform: 'gitlab', repository: 'group/shop', openChangeNumbers: [] }),
      new RecordingReporter(),
      virtualTimeDeps(),
    );
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-!1']);
  });
});
