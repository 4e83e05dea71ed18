/**
 * cli/src/main.ts in process, with the real core against the emulator: the documented exit codes
 * (0 done, 1 failed, 2 usage naming the flag, 3 time budget), one JSON object on stdout with
 * `--json`, the log on stderr, and credentials that never show.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, VirtualClock } from '../../emulator/index.js';
import { DEMO_TOKEN } from '../doubles/run-entry.js';
import { CI_ENVIRONMENTS } from './ci-environments.js';
import { type CliRun, runCli } from './in-process.js';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let emulator: Emulator;
const cwd = mkdtempSync(path.join(tmpdir(), 'cli-exit-'));
/** The CLI and the emulator share virtual time: polls, the teardown's race checks and budgets take no real time. */
const clock = new VirtualClock();

beforeAll(async () => {
  emulator = await startEmulator({
    timing: { provisioningMs: 40, stageQueueMs: 10, stageMs: 40, tunnelConnectMs: 30, tunnelRestartMs: 20 },
    clock,
  });
});
afterAll(() => emulator.close());

function cli(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(
    argv,
    { CODESPHERE_API_URL: emulator.url, CODESPHERE_API_TOKEN: DEMO_TOKEN, ...env },
    { clock, cwd },
  );
}

const jenkins = CI_ENVIRONMENTS['Jenkins'] ?? {};
const TEAM = ['--team', 'My Team'];

describe('usage errors: exit 2, naming the flag', () => {
  it.each([
    ['no --team', ['deploy'], /--team is required by deploy/],
    [
      'a misspelt flag',
      ['deploy', ...TEAM, '--vpn-confg', 'office'],
      /unknown option '--vpn-confg'[\s\S]*--vpn-config/,
    ],
    ['a bad value', ['deploy', ...TEAM, '--replicas', 'two'], /"--replicas": got "two"/],
    ['a bad timeout', ['deploy', ...TEAM, '--timeout', '0'], /"--timeout": got "0"/],
    [
      'a private target the request refuses',
      ['deploy', ...TEAM, '--private-targets', 'tcp://0.0.0.0/0:5432'],
      /--private-targets/,
    ],
    [
      'an unreadable --env-file',
      ['deploy', ...TEAM, '--env-file', 'missing.env'],
      /"--env-file": cannot read "missing.env"/,
    ],
    ['prune without --open', ['prune', ...TEAM], /"--open": missing/],
    ['a bad --open', ['prune', ...TEAM, '--open', '3,x'], /"--open": got "3,x"/],
    ['an unknown command', ['deplyo', ...TEAM], /unknown command 'deplyo'/],
  ])('%s', async (_name, argv, message) => {
    const result = await cli(argv, jenkins);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(emulator.world.workspaces.size).toBe(0);
  });

  it('no credentials in the environment: names CODESPHERE_API_TOKEN; a secret flag does not exist', async () => {
    const result = await cli(['deploy', ...TEAM], { ...jenkins, CODESPHERE_API_TOKEN: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/CODESPHERE_API_TOKEN.*missing/);
    const flag = await cli(['deploy', ...TEAM, '--api-token', DEMO_TOKEN], jenkins);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--api-token'/);
  });

  it('with --json, a usage error is still exactly one JSON object on stdout', async () => {
    const result = await cli(['deploy', ...TEAM, '--replicas', 'two', '--json'], jenkins);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      result: 'usage-error',
      exitCode: 2,
      error: { message: expect.stringMatching(/--replicas/) as unknown },
    });
  });
});

describe('deploy, failure, budget', { timeout: 30_000 }, () => {
  it('exit 0: one JSON object on stdout, the log on stderr, the token nowhere', async () => {
    const result = await cli(['deploy', ...TEAM, '--vpn-config', 'office', '--json'], jenkins);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      command: 'deploy',
      result: 'created',
      workspace: { name: 'shop-#42' },
      vpnConfig: 'office',
      checks: { vpn: { status: 'skipped' } },
    });
    expect(result.stderr).toMatch(/Preview created/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(DEMO_TOKEN);
    const teardown = await cli(['teardown', ...TEAM, '--json'], jenkins);
    expect(teardown.code).toBe(0);
    expect(JSON.parse(teardown.stdout)).toMatchObject({ result: 'deleted', workspace: { name: 'shop-#42' } });
    expect(emulator.world.workspaces.size).toBe(0);
  });

  it('status lists the previews read-only; prune with --open keeps a preview younger than its margin', async () => {
    expect((await cli(['deploy', ...TEAM], jenkins)).code).toBe(0);
    const status = await cli(['status', ...TEAM, '--json'], jenkins);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ result: 'listed', previews: [{ name: 'shop-#42' }] });
    expect(status.stderr).toMatch(/this change's is shop-#42/);
    const pruned = await cli(['prune', ...TEAM, '--open', 'none', '--json'], jenkins);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toMatchObject({
      result: 'pruned',
      pruned: [],
      kept: [{ name: 'shop-#42' }],
    });
    expect(emulator.world.workspaces.size).toBe(1);
    await cli(['teardown', ...TEAM], jenkins);
  });

  it('exit 1: the VPN check fails (wrong PSK)', async () => {
    const result = await cli(
      [
        'deploy',
        ...TEAM,
        '--vpn-config',
        'office-wrong-psk',
        '--vpn-check',
        '10.250.0.5',
        '--json',
        '--timeout',
        '60',
      ],
      jenkins,
    );
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ result: 'failed', exitCode: 1 });
    await cli(['teardown', ...TEAM], jenkins);
  });

  it('exit 3: the time budget runs out', async () => {
    emulator.setTiming({ provisioningMs: 5000 });
    try {
      const result = await cli(['deploy', ...TEAM, '--pr', '43', '--timeout', '1', '--json'], jenkins);
      expect(result.code, result.stderr).toBe(3);
      expect(JSON.parse(result.stdout)).toMatchObject({ result: 'timeout', exitCode: 3 });
    } finally {
      emulator.setTiming({ provisioningMs: 40 });
    }
    await cli(['teardown', ...TEAM, '--pr', '43'], jenkins);
  });

  it('--debug prints the debug lines; without it they stay out of the log', async () => {
    const quiet = await cli(['teardown', ...TEAM], jenkins);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/DEBUG:/);
    const verbose = await cli(['teardown', ...TEAM, '--debug'], jenkins);
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stderr).toMatch(/DEBUG: repository acme\/shop, branch feat\/login, #42, job teardown/);
    const byVariable = await cli(['teardown', ...TEAM], { ...jenkins, CODESPHERE_DEBUG: 'true' });
    expect(byVariable.stderr).toMatch(/DEBUG: repository acme\/shop/);
  });

  it("the CI's own token is masked like the Codesphere credentials, in the log and in --json", async () => {
    const token = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
    // A value that reaches an error message: the unknown team is quoted in it.
    const result = await cli(['deploy', '--team', token, '--json'], { ...jenkins, GITHUB_TOKEN: token });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/team/i);
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
    expect(JSON.parse(result.stdout)).toMatchObject({ result: 'usage-error', exitCode: 2 });
  });

  it('--env-file is the workspace environment; its secret-named values are masked', async () => {
    writeFileSync(path.join(cwd, 'preview.env'), 'GREETING=hello\nDB_PASSWORD=pw-0f3a9c2e71\n');
    const result = await cli(['deploy', ...TEAM, '--env-file', 'preview.env', '--json', '--debug'], jenkins);
    expect(result.code, result.stderr).toBe(0);
    const [workspace] = [...emulator.world.workspaces.values()];
    expect(Object.fromEntries(workspace?.env ?? [])).toMatchObject({
      GREETING: 'hello',
      DB_PASSWORD: 'pw-0f3a9c2e71',
    });
    expect(`${result.stdout}${result.stderr}`).not.toContain('pw-0f3a9c2e71');
    await cli(['teardown', ...TEAM], jenkins);
  });
});
