import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { chooseDriver, type DriverEnvironment } from '../../emulator/driver-choice.js';
import { startEmulator } from '../../emulator/index.js';
import { createSimulatedDriver } from '../../emulator/tunnels/simulated.js';
import { DEFAULT_SEED_PATH } from '../../emulator/seed.js';
import { api, DEMO_TOKEN } from './helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Cli {
  url: Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): void;
}

function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'emulator/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, EMULATOR_CONTRACT: 'off', ...env },
  });
  let stdout = '';
  let stderr = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  url.catch(() => undefined); // observed through `exit` where a test expects a failure
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { url, exit, stop: () => child.kill('SIGTERM') };
}

// Each case spawns node + tsx: give them room on a loaded 2-core machine.
describe('npm run emulator (cli.ts)', { timeout: 30_000 }, () => {
  it('prints its URL and the demo token, serves the seed, and stops cleanly on SIGTERM', async () => {
    const cli = runCli(['--port', '0']);
    const url = await cli.url;
    const teams = await api<Array<{ name: string }>>({ url }, 'GET', '/teams');
    expect(teams.body.map((t) => t.name)).toEqual(['My Team', 'Platform Team']);
    cli.stop();
    const { code, stdout } = await cli.exit;
    expect(code).toBe(0);
    expect(stdout).toContain(DEMO_TOKEN);
    expect(stdout).toMatch(/started in \d+ ms/);
  });

  it('serves another seed given by EMULATOR_SEED', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'emulator-seed-'));
    const seed = parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as { teams: Array<{ name: string }> };
    seed.teams[0]!.name = 'Renamed Team';
    const file = path.join(dir, 'seed.yaml');
    writeFileSync(file, stringify(seed));
    const cli = runCli(['--port', '0'], { EMULATOR_SEED: file });
    try {
      const teams = await api<Array<{ name: string }>>({ url: await cli.url }, 'GET', '/teams');
      expect(teams.body.map((t) => t.name)).toContain('Renamed Team');
    } finally {
      cli.stop();
      await cli.exit;
    }
  });

  it.each([
    [
      'an unknown driver',
      ['--driver', 'magic'],
      /--driver must be one of simulated, strongswan, auto, got 'magic'/,
    ],
    ['a bad port', ['--port', 'http'], /--port must be an integer 0-65535, got 'http'/],
    [
      'a missing seed file',
      ['--seed', '/nonexistent/seed.yaml'],
      /Cannot read seed file \/nonexistent\/seed.yaml/,
    ],
  ])('fails with a clear message for %s', async (_, args, message) => {
    const { code, stderr } = await runCli(args).exit;
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });
});

describe('seed validation and driver choice', () => {
  it('refuses an invalid seed naming the field', async () => {
    await expect(
      startEmulator({ seed: { dataCenters: [], plans: [], users: [], teams: [] } }),
    ).rejects.toThrow(/Invalid seed \(the seed object\): dataCenters: /);
    const seed = parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as {
      teams: Array<{ members: Array<{ email: string }> }>;
    };
    seed.teams[0]!.members[0]!.email = 'ghost@example.com';
    await expect(startEmulator({ seed: seed as never })).rejects.toThrow(
      /member ghost@example.com is not a user/,
    );
  });

  it('refuses a seed VPN config that is invalid (0.0.0.0/0), with the reason', async () => {
    const seed = parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as {
      teams: Array<{ vpnConfigs?: Array<{ peerSubnets: string[] }> }>;
    };
    seed.teams[0]!.vpnConfigs![0]!.peerSubnets = ['0.0.0.0/0'];
    await expect(startEmulator({ seed: seed as never })).rejects.toThrow(/peerSubnets\.0: .*all traffic/);
  });

  it('uses the simulated driver by default', async () => {
    const emulator = await startEmulator();
    try {
      expect(emulator.driver.kind).toBe('simulated');
    } finally {
      await emulator.close();
    }
  });

  describe('driver choice (environment injected, so every row runs on any machine)', () => {
    const simulated = createSimulatedDriver(() => ({ tunnelConnectMs: 0, tunnelRestartMs: 0 }));
    const real = { ...simulated, kind: 'strongswan' as const };
    const env = (isRoot: boolean, hasCharon: boolean, load: 'ok' | 'missing'): DriverEnvironment => ({
      isRoot: () => isRoot,
      hasCharon: () => hasCharon,
      loadStrongswan: () =>
        load === 'ok'
          ? Promise.resolve(() => Promise.resolve(real))
          : Promise.reject(new Error("Cannot find module './tunnels/strongswan/index.js'")),
    });

    it.each([
      ['simulated: always the simulated driver', 'simulated', env(true, true, 'ok'), 'simulated', ''],
      [
        'auto as root with charon and the module: strongSwan',
        'auto',
        env(true, true, 'ok'),
        'strongswan',
        '',
      ],
      [
        'auto without root: simulated, with a notice',
        'auto',
        env(false, true, 'ok'),
        'simulated',
        'needs root',
      ],
      [
        'auto without charon: simulated, with a notice',
        'auto',
        env(true, false, 'ok'),
        'simulated',
        'needs root and /usr/lib/ipsec/charon',
      ],
      [
        'auto when the module is missing: simulated, with a notice',
        'auto',
        env(true, true, 'missing'),
        'simulated',
        'falls back to the simulated driver: Cannot find module',
      ],
      [
        'strongswan: loads the module whatever the checks say',
        'strongswan',
        env(false, false, 'ok'),
        'strongswan',
        '',
      ],
    ] as const)('%s', async (_, choice, environment, kind, notice) => {
      const notices: string[] = [];
      const driver = await chooseDriver(
        choice,
        [],
        () => simulated,
        (m) => notices.push(m),
        environment,
      );
      expect(driver.kind).toBe(kind);
      if (notice) expect(notices.join('\n')).toContain(notice);
      else expect(notices).toEqual([]);
    });

    it("'strongswan' fails with the reason when the module cannot load", async () => {
      await expect(
        chooseDriver(
          'strongswan',
          [],
          () => simulated,
          () => undefined,
          env(true, true, 'missing'),
        ),
      ).rejects.toThrow(/the strongSwan driver is unavailable: Cannot find module/);
    });
  });
});
