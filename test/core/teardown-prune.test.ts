/** teardown and prune against the emulator. */
import { describe, expect, it } from 'vitest';

import { CodesphereClient } from '../../shared/codesphere/client.js';
import type { ChangeRequestState, CoreDeps } from '../../shared/workflow/deps.js';
import { deploy, DeployCancelledError, prune, teardown } from '../../shared/index.js';
import { workspaceName } from '../../shared/workflow/naming.js';
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
    clock: { now: () => Date.now(), sleep: () => Promise.resolve() },
  });
  const ws = await client.createWorkspace({ teamId, name, planId: 8, isPrivateRepo: false, replicas: 1 });
  return ws.id;
}

const names = () => [...ctx.em.world.workspaces.values()].map((w) => w.name).sort();

/** Every workspace that exists now looks an hour old: past prune's recent-workspace margin. */
function backdate(): void {
  for (const w of ctx.em.world.workspaces.values())
    w.createdAt = new Date(Date.now() - 3_600_000).toISOString();
}

/** The platform as the ChangeRequests port sees it: these numbers are open, every other one closed. */
function platform(open: number[], asked: number[] = []): Partial<CoreDeps> {
  return {
    ...virtualTimeDeps(),
    changeRequests: {
      state: (n): Promise<ChangeRequestState> => {
        asked.push(n);
        return Promise.resolve(open.includes(n) ? 'open' : 'closed');
      },
    },
  };
}

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
    backdate();
  }

  it('deletes previews of closed change requests and nothing else', async () => {
    await previews();
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [2] }),
      new RecordingReporter(),
      platform([2]),
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
      platform([2]),
    );
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-#1', 'shop-#3']);
    expect(names()).toEqual(before);
    expect(reporter.shown()).toContain('Would delete "shop-#1"');
    expect(ctx.em.requestLog().filter((e) => e.method === 'DELETE')).toEqual([]);
  });

  it('prunes by age with a TTL, whatever the change state', async () => {
    await previews();
    const base = virtualTimeDeps();
    const later = { ...base, clock: { ...base.clock, now: () => Date.now() + 49 * 3_600_000 } };
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

  it('never takes a hand-made look-alike with a leading zero for a preview', async () => {
    for (const name of ['shop-#07', 'shop-#007-vpn-switch', 'shop-#7']) await createRaw(name);
    backdate();
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [] }),
      new RecordingReporter(),
      platform([]),
    );
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-#7']);
    expect(names()).toEqual(['shop-#007-vpn-switch', 'shop-#07']);
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
    backdate();
    const result = await prune(
      baseInput(ctx.em, { openChangeNumbers: [2] }),
      new RecordingReporter(),
      platform([2]),
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
      platform([]),
    );
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-!1']);
  });

  it('keeps a preview created after the open list was read, and one whose change request opened since', async () => {
    await createRaw('shop-#1');
    await createRaw('shop-#2');
    backdate();
    await createRaw('shop-#3'); // created now: after the adapter read the list
    const asked: number[] = [];
    const reporter = new RecordingReporter();
    // The list says none is open; the platform, asked right before each deletion, says #2 is.
    const result = await prune(baseInput(ctx.em, { openChangeNumbers: [] }), reporter, platform([2], asked));
    expect(result.pruned.map((p) => p.name)).toEqual(['shop-#1']);
    expect(names()).toEqual(['shop-#2', 'shop-#3']);
    expect(asked).toEqual([1, 2]); // one question per candidate; none for the young one
    expect(reporter.shown()).toContain('pull request #2 is open again');
    expect(reporter.shown()).toMatch(/Keeping "shop-#3" .*less than 10 minutes before/);
  });

  it('keeps and warns when the platform cannot confirm the close, or cannot be asked', async () => {
    await createRaw('shop-#1');
    await createRaw('shop-#2');
    backdate();
    const failing: Partial<CoreDeps> = {
      ...virtualTimeDeps(),
      changeRequests: {
        state: (n) =>
          n === 1 ? Promise.reject(new Error('HTTP 502 from the platform')) : Promise.resolve('unknown'),
      },
    };
    const reporter = new RecordingReporter();
    const result = await prune(baseInput(ctx.em, { openChangeNumbers: [] }), reporter, failing);
    expect(result.pruned).toEqual([]);
    expect(names()).toEqual(['shop-#1', 'shop-#2']);
    expect(reporter.texts('warning').join('\n')).toContain('HTTP 502 from the platform');
    expect(reporter.texts('warning').join('\n')).toContain('could not confirm that it is closed');

    const withoutPort = new RecordingReporter();
    const none = await prune(baseInput(ctx.em, { openChangeNumbers: [] }), withoutPort, virtualTimeDeps());
    expect(none.pruned).toEqual([]);
    expect(withoutPort.texts('warning').join('\n')).toContain(
      'cannot confirm that pull request #1 is closed',
    );
  });
});

describe('deploy racing a close', () => {
  function closedAfter(questions: number): { deps: Partial<CoreDeps>; asked: () => number } {
    let asked = 0;
    return {
      asked: () => asked,
      deps: {
        ...virtualTimeDeps(),
        changeRequests: { state: () => Promise.resolve(++asked > questions ? 'closed' : 'open') },
      },
    };
  }

  it('deletes its own workspace and reports no preview when the change request closed while it ran', async () => {
    const { deps, asked } = closedAfter(1);
    const error: unknown = await deploy(baseInput(ctx.em), new RecordingReporter(), deps).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeployCancelledError);
    const cancelled = error as DeployCancelledError;
    expect(cancelled.message).toMatch(
      /^Pull request #42 was closed while this deploy ran: deleted its workspace "shop-#42" \(id \d+\); the preview is not reported ready\.$/,
    );
    expect(cancelled.removed).toMatchObject({ name: 'shop-#42', deleted: true });
    expect(asked()).toBe(2);
    expect(names()).toEqual([]);
  });

  it('ends cancelled, not failed, when the close run deleted its workspace mid-deploy', async () => {
    let closed = false;
    const deps: Partial<CoreDeps> = {
      ...virtualTimeDeps(),
      changeRequests: { state: () => Promise.resolve(closed ? 'closed' : 'open') },
    };
    const deploying = deploy(baseInput(ctx.em), new RecordingReporter(), deps).catch((e: unknown) => e);
    while (workspacesNamed(ctx.em, 'shop-#42').length === 0) await new Promise((r) => setTimeout(r, 5));
    closed = true;
    const tornDown = await teardown(baseInput(ctx.em), new RecordingReporter(), virtualTimeDeps());
    expect(tornDown.deleted).toBe(true);
    const outcome = await deploying;
    expect(outcome).toBeInstanceOf(DeployCancelledError);
    expect((outcome as DeployCancelledError).message).toMatch(
      /^Pull request #42 was closed while this deploy ran/,
    );
    expect(names()).toEqual([]);
  });

  it('creates nothing for a change request that is already closed', async () => {
    const { deps } = closedAfter(0);
    await expect(deploy(baseInput(ctx.em), new RecordingReporter(), deps)).rejects.toThrow(
      'Pull request #42 is closed: nothing deployed, no workspace "shop-#42" exists.',
    );
    expect(ctx.em.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces')).toEqual(
      [],
    );
  });

  it('deploys with a warning when the platform cannot say', async () => {
    const reporter = new RecordingReporter();
    const result = await deploy(baseInput(ctx.em), reporter, {
      ...virtualTimeDeps(),
      changeRequests: { state: () => Promise.reject(new Error('HTTP 503')) },
    });
    expect(result.action).toBe('created');
    expect(reporter.texts('warning')).toEqual([
      'Could not check whether pull request #42 is still open: HTTP 503',
      'Could not check whether pull request #42 is still open: HTTP 503',
    ]);
  });
});
