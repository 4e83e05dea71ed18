/**
 * Core benchmarks (figures only, no assertions), against the emulator:
 *  1. API calls per path: create, update, no-op update, teardown (from the emulator's request log).
 *  2. Readiness lag: time from the workspace / a pipeline stage becoming ready to the poll that
 *     notices it (median, p90), with provisioning and stage delays spread over 0.3-3.5 s.
 *  3. Steady-state poll rate during a long wait (provisioning 14 s).
 *  4. 50 deploys of different PRs in parallel: 50 workspaces, wall time.
 * Run: npx tsx test/bench/core.bench.ts          (all four)
 *      npx tsx test/bench/core.bench.ts calls    (only the API-call table, a few seconds)
 */
import { deploy, teardown } from '../../shared/index.js';
import type { JobInput } from '../../shared/request/job-input.js';
import type { Reporter } from '../../shared/reporter.js';
import { DEFAULT_SCHEDULE } from '../../shared/workflow/wait.js';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';

const silent: Reporter = {
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  group: (_name, fn) => fn(),
  mask: () => undefined,
};

const GIT_URL = 'https://github.com/acme/shop.git';
const input = (em: RunningEmulator, pr: number, extra: Partial<JobInput> = {}): JobInput => ({
  apiUrl: em.url,
  apiToken: em.apiToken,
  team: 'My Team',
  platform: 'github',
  repository: 'acme/shop',
  gitUrl: GIT_URL,
  branch: `pr-${pr}`,
  changeNumber: String(pr),
  ...extra,
});

const POLL = /\/(status|pipeline\/(prepare|run))$/;

interface PathCalls {
  total: number;
  polls: number;
  /** Calls besides polls. */
  fixed: number;
  /** Of those, the prepare steps' log streams (one GET per step, read while the stage runs). */
  streams: number;
  /** Every call but the polls, in order ("GET /teams", "POST /workspaces", ...), ids as {id}. */
  list: string[];
}

function callsSince(em: RunningEmulator, seq: number): PathCalls {
  const calls = em.requestLog().filter((e) => e.seq > seq && e.path.startsWith('/api/'));
  const isPoll = (c: (typeof calls)[number]) => c.method === 'GET' && POLL.test(c.path);
  const polls = calls.filter(isPoll).length;
  const list = calls
    .filter((c) => !isPoll(c))
    .map((c) => `${c.method} ${c.path.slice('/api'.length).replace(/\/\d+(?=\/|$)/g, '/{id}')}`);
  const streams = calls.filter((c) => c.method === 'GET' && /\/logs\//.test(c.path)).length;
  return { total: calls.length, polls, fixed: calls.length - polls, streams, list };
}

const lastSeq = (em: RunningEmulator) => em.requestLog().at(-1)?.seq ?? 0;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Runs of equal calls folded: "GET /workspaces/{id}/env-vars x2". */
function folded(list: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < list.length;) {
    let j = i;
    while (j < list.length && list[j] === list[i]) j++;
    out.push(j - i > 1 ? `${list[i]} x${j - i}` : (list[i] ?? ''));
    i = j;
  }
  return out.join(', ');
}

async function callCounts(): Promise<void> {
  const em = await startEmulator({
    timing: { provisioningMs: 300, stageQueueMs: 50, stageMs: 300, tunnelConnectMs: 50, tunnelRestartMs: 20 },
  });
  try {
    const rows: Array<[string, PathCalls]> = [];
    let seq = lastSeq(em);
    await deploy(input(em, 1, { env: 'A=1' }), silent);
    rows.push(['create', callsSince(em, seq)]);

    em.world.push(GIT_URL, 'pr-1');
    seq = lastSeq(em);
    await deploy(input(em, 1, { env: 'A=2' }), silent);
    rows.push(['update (env change + new commit)', callsSince(em, seq)]);

    seq = lastSeq(em);
    await deploy(input(em, 1, { env: 'A=2', vpnConfig: 'office' }), silent);
    rows.push(['update with VPN switch', callsSince(em, seq)]);

    const commit = em.world.remoteHead(GIT_URL, 'pr-1');
    seq = lastSeq(em);
    await deploy(input(em, 1, { env: 'A=2', vpnConfig: 'office', commit }), silent);
    rows.push(['no-op update (same commit, same config)', callsSince(em, seq)]);

    seq = lastSeq(em);
    await deploy(input(em, 1, { env: 'A=2', vpnConfig: 'office' }), silent);
    rows.push(['update without commit (pull + pipeline)', callsSince(em, seq)]);

    seq = lastSeq(em);
    await teardown(input(em, 1), silent);
    rows.push(['teardown', callsSince(em, seq)]);

    seq = lastSeq(em);
    await teardown(input(em, 1), silent);
    rows.push(['teardown (already gone)', callsSince(em, seq)]);

    console.log(
      '\nAPI calls per path (provisioning 300 ms, stages 300 ms; polls = status/pipeline GETs; log streams = one GET per prepare step):',
    );
    console.log(
      `  ${'path'.padEnd(42)} ${'besides polls'.padStart(13)} ${'of them log streams'.padStart(19)} ${'polls'.padStart(6)} ${'total'.padStart(6)}`,
    );
    for (const [name, c] of rows)
      console.log(
        `  ${name.padEnd(42)} ${String(c.fixed).padStart(13)} ${String(c.streams).padStart(19)} ${String(c.polls).padStart(6)} ${String(c.total).padStart(6)}`,
      );
    console.log('\nCalls besides polls, per path:');
    for (const [name, c] of rows) console.log(`  ${name}: ${folded(c.list)}`);
  } finally {
    await em.close();
  }
}

interface Lag {
  phase: 'provision' | 'prepare' | 'run';
  ms: number;
}

/** Finds, per wait, the ready instant (from the emulator's state) and the first poll after it. */
function lagsOf(
  em: RunningEmulator,
  id: number,
  timing: { provisioningMs: number; stageQueueMs: number; stageMs: number },
): Lag[] {
  const ws = em.world.workspaces.get(id);
  if (!ws) return [];
  const log = em.requestLog();
  const firstPollAfter = (suffix: string, ready: number): number | undefined => {
    const hit = log.find(
      (e) => e.method === 'GET' && e.path === `/api/workspaces/${id}/${suffix}` && Date.parse(e.at) >= ready,
    );
    return hit ? Date.parse(hit.at) + hit.durationMs - ready : undefined;
  };
  const lags: Lag[] = [];
  const provisioned = firstPollAfter('status', ws.provisioningFrom + timing.provisioningMs);
  if (provisioned !== undefined) lags.push({ phase: 'provision', ms: provisioned });
  const prepare = ws.pipeline.prepare;
  if (prepare) {
    const lag = firstPollAfter('pipeline/prepare', prepare.startedAt + timing.stageQueueMs + timing.stageMs);
    if (lag !== undefined) lags.push({ phase: 'prepare', ms: lag });
  }
  const run = ws.pipeline.run;
  if (run) {
    const lag = firstPollAfter('pipeline/run', run.startedAt + timing.stageQueueMs);
    if (lag !== undefined) lags.push({ phase: 'run', ms: lag });
  }
  return lags;
}

async function readinessLag(): Promise<void> {
  const em = await startEmulator({ timing: { tunnelConnectMs: 50, tunnelRestartMs: 20 } });
  const lags: Lag[] = [];
  let pr = 100;
  try {
    // Rounds with different delays; within a round, starts are staggered so readiness falls at
    // every phase of the poll schedule.
    const rounds = [
      { provisioningMs: 400, stageQueueMs: 100, stageMs: 300 },
      { provisioningMs: 1300, stageQueueMs: 150, stageMs: 900 },
      { provisioningMs: 2600, stageQueueMs: 150, stageMs: 1700 },
      { provisioningMs: 3500, stageQueueMs: 200, stageMs: 2400 },
    ];
    for (const timing of rounds) {
      em.setTiming(timing);
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i * 37));
          return deploy(input(em, pr++), silent);
        }),
      );
      for (const r of results) lags.push(...lagsOf(em, r.workspaceId, timing));
    }
  } finally {
    await em.close();
  }
  const all = lags.map((l) => l.ms);
  console.log(
    `\nReadiness lag (ready -> deploy notices), schedule ${DEFAULT_SCHEDULE.fastIntervalMs} ms for ${DEFAULT_SCHEDULE.fastPhaseMs / 1000} s then ${DEFAULT_SCHEDULE.slowIntervalMs} ms, ` +
      'provisioning 0.4-3.5 s, stages 0.3-2.4 s, 32 deploys:',
  );
  for (const phase of ['provision', 'prepare', 'run'] as const) {
    const v = lags.filter((l) => l.phase === phase).map((l) => l.ms);
    console.log(
      `  ${phase.padEnd(10)} n=${String(v.length).padStart(3)}  median ${quantile(v, 0.5)} ms  p90 ${quantile(v, 0.9)} ms  max ${Math.max(...v)} ms`,
    );
  }
  console.log(
    `  all        n=${String(all.length).padStart(3)}  median ${quantile(all, 0.5)} ms  p90 ${quantile(all, 0.9)} ms`,
  );
}

async function steadyState(): Promise<void> {
  const provisioningMs = 14_000;
  const em = await startEmulator({
    timing: { provisioningMs, stageQueueMs: 20, stageMs: 50, tunnelConnectMs: 50 },
  });
  try {
    const started = Date.now();
    const result = await deploy(input(em, 500), silent);
    const polls = em
      .requestLog()
      .filter((e) => e.method === 'GET' && e.path === `/api/workspaces/${result.workspaceId}/status`)
      .map((e) => Date.parse(e.at) - started);
    const rate = (from: number, to: number) =>
      polls.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
    console.log(
      `\nPolling rate while waiting ${provisioningMs / 1000} s for one workspace to start (status GETs):`,
    );
    console.log(`  first 5 s (fast phase): ${rate(0, 5_000).toFixed(1)} req/s`);
    console.log(`  6-14 s (steady state):  ${rate(6_000, provisioningMs).toFixed(2)} req/s`);
    console.log(
      `  whole wait:             ${polls.length} polls in ${(provisioningMs / 1000).toFixed(0)} s = ${(polls.length / (provisioningMs / 1000)).toFixed(2)} req/s`,
    );
  } finally {
    await em.close();
  }
}

async function parallelDeploys(): Promise<void> {
  const em = await startEmulator({ timing: { provisioningMs: 1500, stageQueueMs: 150, stageMs: 1500 } });
  try {
    const started = Date.now();
    const seq = lastSeq(em);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => deploy(input(em, 1000 + i), silent)),
    );
    const wall = Date.now() - started;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const previews = [...em.world.workspaces.values()].filter((w) => /^shop-#10\d\d$/.test(w.name)).length;
    const calls = callsSince(em, seq);
    console.log('\n50 deploys of different PRs in parallel (provisioning 1.5 s, prepare 1.65 s):');
    console.log(`  succeeded ${ok}/50, workspaces ${previews}, wall time ${(wall / 1000).toFixed(2)} s`);
    console.log(
      `  API calls ${calls.total} (${(calls.total / 50).toFixed(1)} per deploy, ${calls.polls} of them polls), ${(calls.total / (wall / 1000)).toFixed(0)} req/s at the emulator`,
    );
    for (const r of results) if (r.status === 'rejected') console.log(`  failure: ${String(r.reason)}`);
  } finally {
    await em.close();
  }
}

const t0 = Date.now();
await callCounts();
if (process.argv[2] !== 'calls') {
  await readinessLag();
  await steadyState();
  await parallelDeploys();
}
console.log(`\ncore.bench finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
