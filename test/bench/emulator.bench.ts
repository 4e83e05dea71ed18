/**
 * Emulator benchmark (prints figures, asserts nothing). The emulator runs as its own process via
 * the CLI, as it does for adapters and the demo, so client and server do not share a CPU budget:
 * start time, creating 1,000 workspaces, then rounds of 200 concurrent mixed requests (workspace
 * GETs, status, env-vars, team lists of 200 and 800 workspaces), and the emulator's RSS.
 * Run: npx tsx test/bench/emulator.bench.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/index.js';

const WORKSPACES = 1_000;
const CONCURRENCY = 200;
const ROUNDS = 10;
const TOKEN = 'csdemo-token-0123456789abcdef';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(url: string, method: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** Spawns `tsx emulator/cli.ts --port 0`; resolves with its URL, its own start figure and the wall time. */
function startCli(): Promise<{ child: ChildProcess; url: string; wallMs: number; reportedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/cli.ts', '--port', '0'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, EMULATOR_CONTRACT: 'off' },
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\S+) \(started in (\d+) ms/.exec(output);
      if (match?.[1] && match[2]) {
        resolve({ child, url: match[1], wallMs: performance.now() - started, reportedMs: Number(match[2]) });
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the emulator CLI exited (${code}) before listening`)));
  });
}

async function main(): Promise<void> {
  const [load1] = os.loadavg();
  console.log(`# emulator benchmark (${os.cpus().length} CPUs, load average ${load1?.toFixed(1)} at start)`);
  const t0 = performance.now();
  const inProcess = await startEmulator({ contract: 'off' });
  console.log(`in-process startEmulator(): ${fmt(performance.now() - t0)}`);
  await inProcess.close();

  const cli = await startCli();
  console.log(
    `cli: listening ${cli.reportedMs} ms after the emulator module loaded; ${fmt(cli.wallMs)} from spawn (incl. node + tsx start-up)`,
  );
  try {
    await request(`${cli.url}/_emulator/timing`, 'PATCH', { provisioningMs: 0, tunnelConnectMs: 0 });
    const base = `${cli.url}/api`;
    const configs = [undefined, 'office', 'lab', 'office-wrong-psk'];
    const createStarted = performance.now();
    let createErrors = 0;
    const ids: number[] = [];
    for (let batch = 0; batch < WORKSPACES / 50; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          const vpnConfig = n % 5 === 0 ? undefined : configs[n % 4];
          return request(`${base}/workspaces`, 'POST', {
            teamId: n % 5 === 0 ? 102 : 101,
            name: `bench-#${n}`,
            planId: 20,
            isPrivateRepo: true,
            replicas: 1 + (n % 3),
            gitUrl: 'https://github.com/acme/shop.git',
            initialBranch: `pr-${n}`,
            ...(vpnConfig ? { vpnConfig } : {}),
            env: [{ name: 'PR', value: String(n) }],
          });
        }),
      );
      for (const answer of answers) {
        if (answer.status === 200) ids.push((JSON.parse(answer.text) as { id: number }).id);
        else createErrors++;
      }
    }
    const createMs = performance.now() - createStarted;
    console.log(
      `create ${WORKSPACES} workspaces (50 in flight): ${fmt(createMs)}, ${((WORKSPACES / createMs) * 1000).toFixed(0)} creates/s, errors ${createErrors}`,
    );

    const pick = (i: number) => ids[(i * 7919) % ids.length] ?? 0;
    const single = [
      (i: number) => `${base}/workspaces/${pick(i)}`,
      (i: number) => `${base}/workspaces/${pick(i)}/status`,
      (i: number) => `${base}/workspaces/${pick(i)}/env-vars`,
      () => `${base}/teams`,
    ];
    const latencies: number[] = [];
    let errors = 0;
    let bytes = 0;
    const loadStarted = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, i) => {
          const n = round * CONCURRENCY + i;
          // One request in 20 lists a team's workspaces (800 or 200 of them); the rest are single GETs.
          const url =
            n % 20 === 0
              ? `${base}/workspaces/team/101`
              : n % 20 === 1
                ? `${base}/workspaces/team/102`
                : single[n % 4]!(n);
          const started = performance.now();
          try {
            const answer = await request(url, 'GET');
            bytes += answer.text.length;
            if (answer.status !== 200) errors++;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - started);
        }),
      );
    }
    const loadMs = performance.now() - loadStarted;
    latencies.sort((a, b) => a - b);
    const total = ROUNDS * CONCURRENCY;
    console.log(
      `${total} mixed GETs, ${CONCURRENCY} concurrent (${ROUNDS} rounds): ${((total / loadMs) * 1000).toFixed(0)} req/s, p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, errors ${errors}, ${mb(bytes)} served`,
    );
    const health = JSON.parse((await request(`${cli.url}/_emulator/health`, 'GET')).text) as {
      workspaces: number;
      rssBytes: number;
      heapUsedBytes: number;
    };
    console.log(
      `emulator process: ${health.workspaces} workspaces, RSS ${mb(health.rssBytes)}, heap used ${mb(health.heapUsedBytes)}`,
    );
  } finally {
    agent.destroy();
    cli.child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
