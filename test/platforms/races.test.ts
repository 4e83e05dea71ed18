/**
 * Races between a change request's runs and its close, on every platform: the built entry as
 * separate processes, the emulator holding the deploy's `POST /workspaces` until the close run is
 * over (the interleaving that once kept the preview), and the platform's API double whose change
 * requests the test opens and closes at the right moment.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { backdateWorkspaces, createWorkspace, waitFor } from '../doubles/fixture.js';
import { HELD_MS, PLATFORMS, startHoldingEmulator, type Session } from './harness.js';

describe.each(PLATFORMS)('$name', (platform) => {
  let emulator: RunningEmulator;
  let releaseCreate: () => void;
  let session: Session;

  beforeAll(async () => {
    const holding = await startHoldingEmulator();
    emulator = holding.emulator;
    releaseCreate = holding.release;
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(async () => {
    await emulator.reset();
    session = await platform.start(emulator);
  });
  afterEach(async () => {
    await session.finish();
  });

  const names = () =>
    emulator
      .state()
      .workspaces.map((w) => w.name)
      .sort();
  const holdCreate = () =>
    emulator.arm({ kind: 'latency', method: 'POST', path: '/api/workspaces', latencyMs: HELD_MS });
  /** The create is in flight once the emulator took the fault. */
  const createInFlight = () =>
    waitFor(() => (emulator.faults.list().length === 0 ? true : undefined), 'the create', 20_000);
  const failPrepare = () =>
    fetch(`${emulator.url}/_emulator/pipeline-failures`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stages: ['prepare'] }),
    });
  const cr = (n: number) => platform.changeRequest(n);

  describe('a change request closed while its deploy runs', () => {
    it('leaves no workspace and no "deployed" note when the close run ends before the create lands', async () => {
      session.open(11);
      holdCreate();
      const deploying = session.deploy(11);
      await createInFlight();
      session.close(11);
      const stopped = await session.stop(11);
      expect(stopped.code, stopped.describe).toBe(0);
      platform.expectNothingToDelete(stopped, 11);
      releaseCreate();
      const deployed = await deploying;

      expect(deployed.code, deployed.describe).toBe(0);
      platform.expectNoPreview(
        deployed,
        `${cr(11)} was closed while this deploy ran: deleted its workspace "${platform.workspace(11)}" \\(id \\d+\\)`,
      );
      expect(names()).toEqual([]);
      const notes = session.notes(11);
      expect(notes).toHaveLength(1);
      expect(notes[0]).not.toContain('✅ Preview');
      expect(notes[0]).toMatch(/Preview (deleted|already gone)/);
      // No output (step output, dotenv report, output variable) gives a later job the preview's URL.
      expect(Object.values(deployed.outputs).join('\n')).not.toContain('https://');
      for (const deployment of session.deployments?.(11) ?? []) expect(deployment.state).toBe('inactive');
    }, 60_000);

    it('leaves no workspace when the create lands after the close and the pipeline then fails', async () => {
      session.open(12);
      await failPrepare();
      holdCreate();
      const deploying = session.deploy(12);
      await createInFlight();
      session.close(12);
      expect((await session.stop(12)).code).toBe(0);
      releaseCreate();
      const deployed = await deploying;

      // The close was the last thing asked: whatever the deploy's own failure, no workspace remains.
      expect(names(), deployed.describe).toEqual([]);
      expect(deployed.code, deployed.describe).toBe(0);
      platform.expectNoPreview(
        deployed,
        `${cr(12)} was closed while this deploy ran \\(the deploy failed too\\): deleted its workspace "${platform.workspace(12)}"`,
      );
      expect(session.notes(12).join('\n')).not.toContain('is left in place');
    }, 60_000);

    it('creates nothing when the change request is already closed (its close run went first)', async () => {
      session.close(11);
      const run = await session.deploy(11);
      expect(run.code, run.describe).toBe(0);
      platform.expectNoPreview(
        run,
        `${cr(11)} is closed: nothing deployed, no workspace "${platform.workspace(11)}" exists\\.`,
      );
      const creates = emulator
        .requestLog()
        .filter((e) => e.method === 'POST' && e.path === '/api/workspaces');
      expect(creates).toEqual([]);
    }, 60_000);
  });

  it('prune keeps the preview of a change request opened while the open list was on its way, and of one reopened', async () => {
    await createWorkspace(emulator, platform.workspace(18)); // merged: prune's to delete
    await createWorkspace(emulator, platform.workspace(20)); // closed when listed, reopened before deletion
    backdateWorkspaces(emulator);
    session.merge(18);
    session.close(20);
    const list = session.holdOpenList();
    const pruning = session.prune();
    await waitFor(() => (list.arrived() ? true : undefined), 'the open-list request', 20_000);
    // While the list (read without them) is on its way: 19 opens and deploys, 20 is reopened.
    session.open(19);
    session.open(20);
    const deployed = await session.deploy(19);
    expect(deployed.code, deployed.describe).toBe(0);
    list.release();
    const pruned = await pruning;

    expect(pruned.code, pruned.describe).toBe(0);
    expect(names()).toEqual([platform.workspace(19), platform.workspace(20)].sort());
    platform.expectPruned(pruned, [platform.workspace(18)]);
    expect(pruned.log).toMatch(
      new RegExp(`Keeping "${platform.workspace(19)}" .*created .*less than 10 minutes before`),
    );
    expect(pruned.log).toMatch(
      new RegExp(`Keeping "${platform.workspace(20)}" .*${cr(20).toLowerCase()} is open again`),
    );
  }, 60_000);

  // Prune never touches branch previews, so a create landing after the branch is gone would survive
  // for good: the deploy asks the platform whether its branch still exists.
  it('a branch deleted while its preview deploys leaves no workspace, whatever runs on the deletion', async () => {
    holdCreate();
    const deploying = session.deployBranch('hotfix/x');
    await createInFlight();
    const deletion = await session.deleteBranch('hotfix/x');
    if (deletion) expect(deletion.code, deletion.describe).toBe(0);
    releaseCreate();
    const deployed = await deploying;

    expect(names(), deployed.describe).toEqual([]);
    expect(deployed.code, deployed.describe).toBe(0);
    platform.expectNoPreview(
      deployed,
      'Branch "hotfix/x" was deleted while this deploy ran: deleted its workspace "shop-hotfix-x-[a-z]{10}" \\(id \\d+\\)',
    );
    expect(Object.values(deployed.outputs).join('\n')).not.toContain('https://');
  }, 60_000);
});
