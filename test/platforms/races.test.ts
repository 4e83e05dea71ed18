/**
 * Races between a change request's runs and its close, on every platform: the built entry as
 * separate processes, the emulator holding the deploy's `POST /workspaces` until the close run is
 * over, and the platform's API double whose change requests the test opens and closes.
 */
import { describe, expect, it } from 'vitest';
import { backdateWorkspaces, createWorkspace, waitFor } from '../doubles/fixture.js';
import { HELD_MS, PLATFORMS, usePlatform, type Run } from './harness.js';

describe.each(PLATFORMS)('$name', (platform) => {
  const t = usePlatform(platform);
  const names = () =>
    t.emulator
      .state()
      .workspaces.map((w) => w.name)
      .sort();
  const cr = (n: number) => platform.changeRequest(n);
  const noUrlOutput = (run: Run) => expect(Object.values(run.outputs).join('\n')).not.toContain('https://');

  /** Starts `deploy` with its create held, runs `meanwhile` while it is, then lets the create land. */
  async function createLandsAfter(deploy: () => Promise<Run>, meanwhile: () => Promise<void>): Promise<Run> {
    t.emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: HELD_MS });
    const deploying = deploy();
    // The create is in flight once the emulator took the fault.
    await waitFor(() => (t.emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
    await meanwhile();
    t.emulator.releaseHeld();
    return deploying;
  }
  const closeAndStop = (n: number) => async () => {
    t.session.close(n);
    const stopped = await t.session.stop(n);
    expect(stopped.code, stopped.describe).toBe(0);
    platform.expectNothingToDelete(stopped, n);
  };

  describe('a change request closed while its deploy runs', () => {
    it('leaves no workspace and no "deployed" note when the close run ends before the create lands', async () => {
      t.session.open(11);
      const deployed = await createLandsAfter(() => t.session.deploy(11), closeAndStop(11));

      expect(deployed.code, deployed.describe).toBe(0);
      const workspace = `workspace "${platform.workspace(11)}" \\(id \\d+\\)`;
      platform.expectNoPreview(
        deployed,
        `${cr(11)} was closed while this deploy ran: deleted its ${workspace}`,
      );
      expect(names()).toEqual([]);
      const notes = t.session.notes(11);
      expect(notes).toHaveLength(1);
      expect(notes[0]).not.toContain('✅ Preview');
      expect(notes[0]).toMatch(/Preview (deleted|already gone)/);
      noUrlOutput(deployed); // no step output, dotenv report or output variable gives a later job the URL
      for (const deployment of t.session.deployments?.(11) ?? []) expect(deployment.state).toBe('inactive');
    }, 60_000);

    it('leaves no workspace when the create lands after the close and the pipeline then fails', async () => {
      t.session.open(12);
      await fetch(`${t.emulator.url}/_emulator/pipeline-failures`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stages: ['prepare'] }),
      });
      const deployed = await createLandsAfter(() => t.session.deploy(12), closeAndStop(12));

      // The close was the last thing asked: whatever the deploy's own failure, no workspace remains.
      expect(names(), deployed.describe).toEqual([]);
      expect(deployed.code, deployed.describe).toBe(0);
      const workspace = `workspace "${platform.workspace(12)}"`;
      const closed = `${cr(12)} was closed while this deploy ran \\(the deploy failed too\\)`;
      platform.expectNoPreview(deployed, `${closed}: deleted its ${workspace}`);
      expect(t.session.notes(12).join('\n')).not.toContain('is left in place');
    }, 60_000);

    it('creates nothing when the change request is already closed (its close run went first)', async () => {
      t.session.close(11);
      const run = await t.session.deploy(11);
      expect(run.code, run.describe).toBe(0);
      const nothing = `nothing deployed, no workspace "${platform.workspace(11)}" exists\\.`;
      platform.expectNoPreview(run, `${cr(11)} is closed: ${nothing}`);
      const creates = t.emulator
        .requestLog()
        .filter((e) => e.method === 'POST' && e.path === '/api/workspaces');
      expect(creates).toEqual([]);
    }, 60_000);
  });

  it('prune keeps the preview of a change request opened while the open list was on its way, and of one reopened', async () => {
    await createWorkspace(t.emulator, platform.workspace(18)); // merged: prune's to delete
    await createWorkspace(t.emulator, platform.workspace(20)); // closed when listed, reopened before deletion
    backdateWorkspaces(t.emulator);
    t.session.merge(18);
    t.session.close(20);
    const list = t.session.holdOpenList();
    const pruning = t.session.prune();
    await waitFor(() => (list.arrived() ? true : undefined), 'the open-list request', 20_000);
    // While the list (read without them) is on its way: 19 opens and deploys, 20 is reopened.
    t.session.open(19);
    t.session.open(20);
    const deployed = await t.session.deploy(19);
    expect(deployed.code, deployed.describe).toBe(0);
    list.release();
    const pruned = await pruning;

    expect(pruned.code, pruned.describe).toBe(0);
    expect(names()).toEqual([platform.workspace(19), platform.workspace(20)].sort());
    platform.expectPruned(pruned, [platform.workspace(18)]);
    const kept = (n: number, why: string) => new RegExp(`Keeping "${platform.workspace(n)}" .*${why}`);
    expect(pruned.log).toMatch(kept(19, 'created .*less than 10 minutes before'));
    expect(pruned.log).toMatch(kept(20, `${cr(20).toLowerCase()} is open again`));
  }, 60_000);

  // Prune never touches branch previews, so a create landing after the branch is gone would survive
  // for good: the deploy asks the platform whether its branch still exists.
  it('a branch deleted while its preview deploys leaves no workspace, whatever runs on the deletion', async () => {
    const deployed = await createLandsAfter(
      () => t.session.deployBranch('hotfix/x'),
      async () => {
        const deletion = await t.session.deleteBranch('hotfix/x');
        if (deletion) expect(deletion.code, deletion.describe).toBe(0);
      },
    );

    expect(names(), deployed.describe).toEqual([]);
    expect(deployed.code, deployed.describe).toBe(0);
    const workspace = 'workspace "shop-hotfix-x-[a-z]{10}" \\(id \\d+\\)';
    platform.expectNoPreview(
      deployed,
      `Branch "hotfix/x" was deleted while this deploy ran: deleted its ${workspace}`,
    );
    noUrlOutput(deployed);
  }, 60_000);
});
