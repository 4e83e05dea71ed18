/**
 * Concurrent runs of one change request, on every platform, with the built entry as separate
 * processes against the emulator and the platform's API double (whose note list and create are
 * separate calls, as on the real platforms): one note per change request whatever the concurrency,
 * and neither the note nor GitHub's active deployment goes back to a commit older than one a run
 * already reported. Runs are ordered as the platform numbers them (run id, pipeline id, build number).
 */
import { describe, expect, it } from 'vitest';
import { workspaceNamed } from '../doubles/fixture.js';
import { PLATFORMS, usePlatform, type Run } from './harness.js';

/** A commit whose short form (what the note shows) differs for every n. */
const commit = (n: number) => `${n.toString(16).padStart(7, '0')}${'e'.repeat(33)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const succeeded = (runs: Run[]) => {
  for (const run of runs) expect(run.code, run.describe).toBe(0);
};

describe.each(PLATFORMS)('$name', (platform) => {
  const t = usePlatform(platform);
  const short = (n: number) => commit(n).slice(0, platform.shortSha);
  /** The commits of the change request's deployments whose latest state is `success` (GitHub). */
  const active = (n: number) =>
    (t.session.deployments?.(n) ?? []).filter((d) => d.state === 'success').map((d) => d.sha);
  const hasDeployments = () => t.session.deployments !== undefined;

  it('six concurrent deploys leave one workspace, one note and one active deployment', async () => {
    t.session.open(41);
    // The worst interleaving, where every run lists the notes: all list before any creates one.
    t.session.gateNoteList(41, 6);
    const runs = Array.from({ length: 6 }, (_, i) => t.session.deploy(41, { sha: commit(41), order: 1 + i }));
    succeeded(await Promise.all(runs));
    expect(t.emulator.state().workspaces.map((w) => w.name)).toEqual([platform.workspace(41)]);
    const notes = t.session.notes(41);
    expect(notes, JSON.stringify(notes, null, 2)).toHaveLength(1);
    expect(notes[0]).toContain('✅ Preview');
    if (hasDeployments()) expect(active(41)).toHaveLength(1);
  }, 90_000);

  it('five concurrent pushes finishing in scrambled order: the note and the active deployment name the newest commit', async () => {
    t.session.open(42);
    for (let n = 1; n <= 5; n++) t.emulator.world.push(platform.cloneUrl, 'feature-42', commit(n));
    // Push n is run n. The newest starts first and the oldest last, so they finish roughly in the
    // reverse order of the pushes. Real time: the runs are separate processes.
    const runs: Array<Promise<Run>> = [];
    for (const n of [5, 2, 4, 1, 3]) {
      runs.push(t.session.deploy(42, { sha: commit(n), order: n }));
      await sleep(250);
    }
    succeeded(await Promise.all(runs));

    expect(workspaceNamed(t.emulator, platform.workspace(42))?.git?.commit).toBe(commit(5));
    const notes = t.session.notes(42);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('✅ Preview');
    expect(notes[0]).toContain(short(5));
    for (const n of [1, 2, 3, 4]) expect(notes[0]).not.toContain(short(n));
    if (hasDeployments())
      expect(active(42), JSON.stringify(t.session.deployments?.(42))).toEqual([commit(5)]);
  });

  it('a late deploy from before the close keeps "deleted"; a newer deploy after reopening replaces it', async () => {
    const { session } = t;
    session.open(43);
    succeeded([await session.deploy(43, { sha: commit(1), order: 1 })]);
    // GitLab runs the stop job in the pipeline of the environment's last deployment; a stop job is
    // newer than the deploy job of its own pipeline. Elsewhere the close is a run of its own.
    const stopOrder = platform.stopRunsInDeployPipeline ? 1 : 3;
    session.close(43);
    succeeded([await session.stop(43, { order: stopOrder })]);
    expect(session.notes(43)).toEqual([expect.stringMatching(/Preview deleted/)]);

    // The retried first deploy, then a deploy older than the stop, arrive late. Whether they deploy
    // or stop because the change request is closed, their note must not replace the newer "deleted".
    await session.deploy(43, { sha: commit(1), order: 1 });
    await session.deploy(43, { sha: commit(stopOrder - 1), order: stopOrder - 1 });
    expect(session.notes(43)).toEqual([expect.stringMatching(/Preview deleted/)]);

    session.open(43);
    succeeded([await session.deploy(43, { sha: commit(4), order: 4 })]);
    expect(session.notes(43)).toEqual([expect.stringContaining(short(4))]);
    expect(session.notes(43)[0]).toMatch(/✅ Preview (deployed|updated)/);
    if (hasDeployments()) expect(active(43)).toEqual([commit(4)]);
  }, 90_000); // five runs one after the other
});
