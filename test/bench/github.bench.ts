/**
 * GitHub Action figures (printed, never asserted): the committed bundle's size, and its cold
 * start, i.e. from spawning `node github-action/dist/index.js` (as the runner does) to the first
 * request it makes: to GitHub (the deployment) and to Codesphere (the emulator's first logged
 * request). A bare `node -e 0` start is printed alongside, since it is part of every figure and
 * varies a lot between machines. Targets from the issue: bundle < 1 MB, cold start < 100 ms.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { startFixtureEmulator, startGitHubDouble } from '../github-action/fixture.js';
import { actionEntry, DEMO_TOKEN, runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function bareNodeStartMs(): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  return performance.now() - started;
}

async function main(): Promise<void> {
  const bytes = statSync(actionEntry).size;
  const gzipped = gzipSync(readFileSync(actionEntry)).length;
  console.log('github-action bundle');
  console.log(
    `  dist/index.js: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes; gzip ${(gzipped / 1024).toFixed(0)} KiB)`,
  );

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
  console.log(`github-action cold start (median of ${RUNS} PR-opened runs, emulator timing fast)`);
  console.log(`  bare "node -e 0" start:                     ${median(bare).toFixed(0)} ms`);
  console.log(`  spawn -> first GitHub API request:          ${median(firstGitHub)} ms`);
  console.log(`  spawn -> first Codesphere API request:      ${median(firstCodesphere)} ms`);
  console.log(`  whole run (deploy, pipeline, GitHub calls): ${median(total)} ms`);
}

await main();
