/**
 * GitHub Action figures (printed, never asserted), against the bundle in github-action/dist
 * (build it first: `npm run build:github-action`):
 * - its size: dist/index.js and every chunk ncc split off (loaded only by a dynamic `import()`),
 *   in bytes and gzipped;
 * - its cold start: from spawning `node github-action/dist/index.js` (as the runner does) to the
 *   first Codesphere request (the emulator's first logged request) and to the first GitHub API
 *   request, next to a bare `node -e 0` (spawn to exit) measured in the same run with the same
 *   node binary, interleaved run by run so both see the same machine load; medians, and the ratio
 *   cold start / bare node.
 * Targets: dist/index.js ≤ 1.0 MB, cold start ≤ 2× bare node.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { adapterNode } from '../doubles/run-entry.js';
import { startFixtureEmulator, startGitHubDouble } from '../github-action/fixture.js';
import { actionEntry, DEMO_TOKEN, runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

/** Runs of each kind (at least 7); odd, so the median is one run's figure. */
const RUNS = 9;
/** The bundle target: 1.0 MB (decimal megabyte, as `ls` and GitHub show sizes). */
const BUNDLE_TARGET_BYTES = 1_000_000;
const RATIO_TARGET = 2;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function bareNodeStartMs(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(adapterNode, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  return performance.now() - started;
}

function printBundle(): void {
  const dist = path.dirname(actionEntry);
  const files = readdirSync(dist)
    .filter((name) => name.endsWith('.js'))
    .sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)));
  console.log('github-action bundle (github-action/dist)');
  let total = 0;
  for (const name of files) {
    const file = path.join(dist, name);
    const bytes = statSync(file).size;
    const gzipped = gzipSync(readFileSync(file)).length;
    total += bytes;
    const role = name === 'index.js' ? 'entry, loaded at start' : 'chunk, loaded by a dynamic import()';
    console.log(
      `  ${name.padEnd(14)} ${String(bytes).padStart(9)} bytes (gzip ${String(gzipped).padStart(7)})  ${role}`,
    );
  }
  const entry = statSync(actionEntry).size;
  // A PR deploy with a GitHub token loads every file: @actions/core (the log) and @actions/github
  // (Octokit) each import undici's chunk, so this total is what such a run reads from disk.
  console.log(`  all files      ${String(total).padStart(9)} bytes  (all loaded by a PR deploy run)`);
  console.log(
    `  entry target ≤ ${BUNDLE_TARGET_BYTES} bytes: ${entry <= BUNDLE_TARGET_BYTES ? 'met' : 'NOT met'}`,
  );
}

async function main(): Promise<void> {
  printBundle();
  const emulator = await startFixtureEmulator();
  const github = await startGitHubDouble();
  const firstGitHub: number[] = [];
  const firstCodesphere: number[] = [];
  const total: number[] = [];
  const bare: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      bare.push(await bareNodeStartMs());
      await emulator.reset();
      const githubCallsBefore = github.calls.length;
      let firstGitHubAt: number | undefined;
      const push = github.calls.push.bind(github.calls);
      github.calls.push = (...calls) => {
        firstGitHubAt ??= Date.now();
        return push(...calls);
      };
      const started = Date.now();
      const run = await runAction({
        eventName: 'pull_request',
        payload: pullRequestPayload({ action: 'opened', number: 100 + i }),
        githubApiUrl: github.url,
        inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
      });
      github.calls.push = push;
      const finished = Date.now();
      if (run.code !== 0) throw new Error(`run ${i} failed:\n${run.stdout}\n${run.stderr}`);
      const firstEntry = emulator.requestLog()[0];
      if (
        firstEntry === undefined ||
        firstGitHubAt === undefined ||
        github.calls.length === githubCallsBefore
      ) {
        throw new Error(`run ${i} made no request`);
      }
      firstGitHub.push(firstGitHubAt - started);
      firstCodesphere.push(Date.parse(firstEntry.at) - started);
      total.push(finished - started);
    }
  } finally {
    await github.close();
    await emulator.close();
  }
  const bareMs = median(bare);
  const coldMs = median(firstCodesphere);
  const ratio = coldMs / bareMs;
  console.log(`github-action cold start (median of ${RUNS} PR-opened runs each, emulator timing fast)`);
  console.log(`  bare "node -e 0", spawn -> exit:             ${bareMs.toFixed(0)} ms`);
  console.log(`  spawn -> first Codesphere API request:       ${coldMs.toFixed(0)} ms`);
  console.log(
    `  ratio (cold start / bare node):              ${ratio.toFixed(2)}× (target ≤ ${RATIO_TARGET}×: ${ratio <= RATIO_TARGET ? 'met' : 'NOT met'})`,
  );
  console.log(`  spawn -> first GitHub API request:           ${median(firstGitHub).toFixed(0)} ms`);
  console.log(`  whole run (deploy, pipeline, GitHub calls):  ${median(total).toFixed(0)} ms`);
}

await main();
