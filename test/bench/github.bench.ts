/**
 * GitHub Action figures (printed, never asserted), against the bundle in github-action/dist
 * (build it first: `npm run build:github-action`):
 * - its size: dist/index.js and every chunk ncc split off (loaded only by a dynamic `import()`),
 *   in bytes and gzipped, and which of them a PR-opened deploy actually loads (recorded by a
 *   module load hook in one extra, untimed run; needs node:module registerHooks, Node 22.15+);
 * - its cold start: from spawning `node github-action/dist/index.js` (as the runner does) to the
 *   first Codesphere request (the emulator's first logged request) and to the first GitHub API
 *   request, next to a bare `node -e 0` (spawn to exit) measured in the same run with the same
 *   node binary, interleaved run by run so both see the same machine load; medians, and the ratio
 *   cold start / bare node;
 * - the same in CPU time (user + system, all threads), which a busy machine distorts less than wall
 *   time: the action's CPU time at its first Codesphere request (read by a diagnostics_channel
 *   hook, in runs of their own) next to a bare node's CPU time at the end of `-e`.
 * Targets: the JavaScript a PR deploy loads ≤ 1.0 MB, cold start ≤ 2× bare node.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

/**
 * A module load hook (preloaded with --import) that appends each file URL the process loads,
 * CommonJS or ESM, entry or chunk, to the file named by LOADED_FILES_OUT.
 */
// A namespace import: a named one would fail to link on a node without registerHooks.
const LOAD_RECORDER = `import * as nodeModule from 'node:module';
import { appendFileSync } from 'node:fs';
const { registerHooks } = nodeModule;
const out = process.env.LOADED_FILES_OUT;
if (registerHooks !== undefined && out) {
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:')) appendFileSync(out, url + '\\n');
      return nextLoad(url, context);
    },
  });
}
`;

/**
 * A CommonJS hook (preloaded with --require, lighter than an --import) that writes the process's
 * CPU time (user + system, ms) and the path of its first node:http request, the first Codesphere
 * call (GitHub's go through undici), to the file named by FIRST_REQUEST_CPU_OUT.
 */
const FIRST_REQUEST_CPU = `const { subscribe } = require('node:diagnostics_channel');
const { writeFileSync } = require('node:fs');
let first = true;
subscribe('http.client.request.start', ({ request }) => {
  if (!first) return;
  first = false;
  const { user, system } = process.cpuUsage();
  writeFileSync(process.env.FIRST_REQUEST_CPU_OUT, (user + system) / 1000 + ' ' + request.path);
});
`;

/** CPU time (ms, user + system) of a bare node at the end of its `-e` script. */
async function bareNodeCpuMs(): Promise<number> {
  const script =
    'const { user, system } = process.cpuUsage(); process.stdout.write(String((user + system) / 1000))';
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(adapterNode, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  return Number(out);
}

/** Runs one PR-opened deploy with FIRST_REQUEST_CPU preloaded; resolves to its CPU ms at the first Codesphere request. */
async function cpuAtFirstRequestMs(
  emulator: Awaited<ReturnType<typeof startFixtureEmulator>>,
  github: Awaited<ReturnType<typeof startGitHubDouble>>,
  dir: string,
  number: number,
): Promise<number> {
  const hook = path.join(dir, 'first-request-cpu.cjs');
  const out = path.join(dir, 'first-request-cpu.txt');
  writeFileSync(hook, FIRST_REQUEST_CPU);
  rmSync(out, { force: true });
  await emulator.reset();
  const run = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload({ action: 'opened', number }),
    githubApiUrl: github.url,
    inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
    extraEnv: { NODE_OPTIONS: `--require ${hook}`, FIRST_REQUEST_CPU_OUT: out },
  });
  if (run.code !== 0) throw new Error(`the CPU-timed run failed:\n${run.stdout}\n${run.stderr}`);
  const [cpu = '', requestPath = ''] = readFileSync(out, 'utf8').split(' ');
  if (!requestPath.startsWith('/api/'))
    throw new Error(`the first http request was not Codesphere's: ${requestPath}`);
  return Number(cpu);
}

/**
 * Runs one PR-opened deploy with the load recorder preloaded; resolves to the dist files it loaded
 * (base names), or undefined where this node has no registerHooks.
 */
async function filesLoadedByPrDeploy(
  emulator: Awaited<ReturnType<typeof startFixtureEmulator>>,
  github: Awaited<ReturnType<typeof startGitHubDouble>>,
): Promise<Set<string> | undefined> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-bench-loads-'));
  try {
    const hook = path.join(dir, 'record-loads.mjs');
    const out = path.join(dir, 'loaded.txt');
    writeFileSync(hook, LOAD_RECORDER);
    writeFileSync(out, '');
    await emulator.reset();
    const run = await runAction({
      eventName: 'pull_request',
      payload: pullRequestPayload({ action: 'opened', number: 99 }),
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' },
      extraEnv: { NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, LOADED_FILES_OUT: out },
    });
    if (run.code !== 0) throw new Error(`the recorded run failed:\n${run.stdout}\n${run.stderr}`);
    const dist = path.dirname(actionEntry);
    const loaded = readFileSync(out, 'utf8')
      .split('\n')
      .filter((url) => url.startsWith('file:'))
      .map((url) => fileURLToPath(url))
      .filter((file) => path.dirname(file) === dist)
      .map((file) => path.basename(file));
    return loaded.length === 0 ? undefined : new Set(loaded);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printBundle(loaded: Set<string> | undefined): void {
  const dist = path.dirname(actionEntry);
  const files = readdirSync(dist)
    .filter((name) => name.endsWith('.js'))
    .sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)));
  console.log('github-action bundle (github-action/dist)');
  let total = 0;
  let loadedTotal = 0;
  for (const name of files) {
    const file = path.join(dist, name);
    const bytes = statSync(file).size;
    const gzipped = gzipSync(readFileSync(file)).length;
    total += bytes;
    if (loaded?.has(name)) loadedTotal += bytes;
    const role = name === 'index.js' ? 'entry' : 'chunk (a dynamic import())';
    const use =
      loaded === undefined
        ? ''
        : loaded.has(name)
          ? ', loaded by a PR deploy'
          : ', not loaded by a PR deploy';
    console.log(
      `  ${name.padEnd(14)} ${String(bytes).padStart(9)} bytes (gzip ${String(gzipped).padStart(7)})  ${role}${use}`,
    );
  }
  console.log(`  all files      ${String(total).padStart(9)} bytes`);
  if (loaded === undefined) {
    console.log('  loaded by a PR deploy: not recorded (this node has no node:module registerHooks)');
    return;
  }
  console.log(
    `  loaded by a PR deploy ${String(loadedTotal).padStart(9)} bytes (target ≤ ${BUNDLE_TARGET_BYTES}: ${loadedTotal <= BUNDLE_TARGET_BYTES ? 'met' : 'NOT met'})`,
  );
}

async function main(): Promise<void> {
  const emulator = await startFixtureEmulator();
  const github = await startGitHubDouble();
  const firstGitHub: number[] = [];
  const firstCodesphere: number[] = [];
  const total: number[] = [];
  const bare: number[] = [];
  const cpuFirstCodesphere: number[] = [];
  const cpuBare: number[] = [];
  const hooks = mkdtempSync(path.join(tmpdir(), 'gh-bench-cpu-'));
  try {
    printBundle(await filesLoadedByPrDeploy(emulator, github));
    for (let i = 0; i < RUNS; i++) {
      cpuBare.push(await bareNodeCpuMs());
      cpuFirstCodesphere.push(await cpuAtFirstRequestMs(emulator, github, hooks, 200 + i));
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
    rmSync(hooks, { recursive: true, force: true });
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
  const cpuRatio = median(cpuFirstCodesphere) / median(cpuBare);
  console.log(`  CPU time, bare node at the end of -e:        ${median(cpuBare).toFixed(0)} ms`);
  console.log(`  CPU time at the first Codesphere request:    ${median(cpuFirstCodesphere).toFixed(0)} ms`);
  console.log(`  ratio in CPU time:                           ${cpuRatio.toFixed(2)}×`);
  console.log(`  spawn -> first GitHub API request:           ${median(firstGitHub).toFixed(0)} ms`);
  console.log(`  whole run (deploy, pipeline, GitHub calls):  ${median(total).toFixed(0)} ms`);
}

await main();
