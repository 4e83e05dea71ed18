/**
 * The gateway helper CLI: print, check (exit 0 / 1), and bad input (exit 2 with what was wrong).
 * Runs the real entry (`npm run gateway`) on files in a temp directory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatewayCli } from '../../shared/gateway/cli.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let dir: string;

const settings = `name: office
ikeVersion: ikev1
psk: office-psk-7f3a9c2e
ikeProposal: aes256-sha256-modp2048
espProposal: aes256-sha256-modp2048
ikeLifetime: 8h
espLifetime: 1h
peerIp: 198.51.100.1
peerSubnets: [10.250.0.0/24]
replicas: 2
`;

function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = runGatewayCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: (p) => fs.readFileSync(path.resolve(dir, p), 'utf8'),
  });
  return { code, out, err };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cli-'));
  fs.writeFileSync(path.join(dir, 'vpn.yaml'), settings);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('gateway CLI', () => {
  it('prints both variants without the PSK, and what it prints passes check (exit 0)', () => {
    const printed = cli(['print', '--config', 'vpn.yaml']);
    expect(printed.code).toBe(0);
    expect(printed.out).toContain('rightsourceip=10.200.0.0/24');
    expect(printed.out).toContain('connections {');
    expect(printed.out).not.toContain('office-psk-7f3a9c2e');
    const conf = /config setup[\s\S]*?auto=add\n/.exec(printed.out)?.[0] ?? '';
    fs.writeFileSync(path.join(dir, 'ipsec.conf'), conf);
    fs.writeFileSync(path.join(dir, 'ipsec.secrets'), '198.51.100.1 %any : PSK "office-psk-7f3a9c2e"\n');
    const checked = cli([
      'check',
      '--config',
      'vpn.yaml',
      '--gateway',
      'ipsec.conf',
      '--secrets',
      'ipsec.secrets',
    ]);
    expect(checked).toMatchObject({ code: 0, err: '' });
    expect(checked.out).toMatch(/^OK: .*matches VPN config 'office'/);
  });

  it('lists each mismatch and exits 1', () => {
    fs.writeFileSync(
      path.join(dir, 'bad.conf'),
      'conn vpn\n    keyexchange=ikev2\n    authby=psk\n    ike=aes128-sha1-modp1024\n    esp=aes256-sha256-modp2048\n    ikelifetime=8h\n    right=%any\n    rightsourceip=10.9.9.0/32\n    leftsubnet=10.250.0.0/24\n    forceencaps=yes\n',
    );
    const checked = cli(['check', '--config', 'vpn.yaml', '--gateway', 'bad.conf']);
    expect(checked.code).toBe(1);
    expect(checked.out).toContain('3 mismatches');
    expect(checked.out).toContain('[ike-version]');
    expect(checked.out).toContain('[ike-proposal]');
    expect(checked.out).toContain('[pool]');
  });

  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['print'], '--config <vpn.yaml> is required'],
    [['check', '--config', 'vpn.yaml'], '--gateway <ipsec.conf|swanctl.conf> is required'],
    [
      ['check', '--config', 'vpn.yaml', '--gateway', 'missing.conf'],
      "cannot read the gateway configuration 'missing.conf': ENOENT",
    ],
    [
      ['print', '--config', 'vpn.yaml', '--format', 'xml'],
      "--format 'xml' is not one of ipsec, swanctl, both",
    ],
  ])('bad usage %j exits 2 saying %s', (args, message) => {
    const result = cli(args);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('names each invalid field of the settings file', () => {
    fs.writeFileSync(
      path.join(dir, 'invalid.yaml'),
      settings.replace('ikev1', 'ikev3').replace('10.250.0.0/24', '0.0.0.0/0'),
    );
    const result = cli(['print', '--config', 'invalid.yaml']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('ikeVersion: expected ikev1 or ikev2');
    expect(result.err).toContain('peerSubnets.0: 0.0.0.0/0 would route all traffic');
  });

  it.each([['--help'], ['-h'], ['help']])(
    '%s prints the usage and exits 0; no command is a usage error',
    (flag) => {
      const help = cli([flag]);
      expect(help.code).toBe(0);
      expect(help.out).toContain('gateway check --config');
      const none = cli([]);
      expect(none.code).toBe(2);
      expect(none.err).toContain('no command given');
    },
  );

  it('runs as `npm run gateway` and exits 1 on a mismatch', async () => {
    fs.writeFileSync(
      path.join(dir, 'noencap.conf'),
      fs.readFileSync(path.join(dir, 'ipsec.conf'), 'utf8').replace('forceencaps=yes', 'forceencaps=no'),
    );
    const run = promisify(execFile);
    const error = await run(
      'npm',
      [
        'run',
        '-s',
        'gateway',
        '--',
        'check',
        '--config',
        path.join(dir, 'vpn.yaml'),
        '--gateway',
        path.join(dir, 'noencap.conf'),
      ],
      { cwd: repoRoot },
    ).catch((e: unknown) => e as { code: number; stdout: string });
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stdout: string }).stdout).toContain('[encapsulation]');
  }, 30_000);
});
