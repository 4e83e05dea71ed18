/**
 * PSK notations: every notation strongSwan accepts for a key compares equal
 * when it decodes to the VPN config's key, and what the helper prints holds any key. The forms
 * follow ipsec.secrets(5), swanctl.conf(5) and strongSwan's readers (see shared/gateway/psk.ts).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkGateway,
  gatewaySideFor,
  parseSwanctlConf,
  parseVpnSettings,
  pskNotation,
  readIpsecSecretsPsk,
  readSwanctlSecret,
  renderIpsecConf,
  renderSwanctlConf,
  type VpnSettings,
} from '../../shared/gateway/index.js';
import { runGatewayCli } from '../../shared/gateway/cli.js';

const SEED = 20261129;
const repoRoot = path.resolve(import.meta.dirname, '../..');
const PSK = 'office-psk-7f3a9c2e';

const settingsYaml = (psk: string) => `name: office
ikeVersion: ikev1
psk: ${JSON.stringify(psk)}
ikeProposal: aes256-sha256-modp2048
espProposal: aes256-sha256-modp2048
ikeLifetime: 8h
espLifetime: 1h
peerIp: 198.51.100.1
peerSubnets: [10.250.0.0/24]
replicas: 2
`;
const office = parseVpnSettings(settingsYaml(PSK), 'office.yaml');
const withPsk = (psk: string): VpnSettings => ({ ...office, psk });

const hex = (key: string) => Buffer.from(key, 'utf8').toString('hex');
const b64 = (key: string) => Buffer.from(key, 'utf8').toString('base64');
const pskKinds = (settings: VpnSettings, text: string, secrets?: string) =>
  checkGateway(settings, { text, secrets }).mismatches.filter((m) => m.kind === 'psk');

/** The gateway hq as the helper prints it, with the real key, and its ipsec.secrets swapped. */
const hq = renderIpsecConf(gatewaySideFor(office, true), { left: '198.51.100.1' });
const secretsLine = (notation: string) => `198.51.100.1 %any : PSK ${notation}\n`;
const hqSwanctl = (secret: string) =>
  renderSwanctlConf(gatewaySideFor(office, true)).replace(/secret = .*/, `secret = ${secret}`);

describe('gateway check: every PSK notation of the same key compares equal', () => {
  const ipsecForms: Array<[string, string]> = [
    ['double-quoted', `"${PSK}"`],
    ['single-quoted', `'${PSK}'`],
    ['unquoted', PSK],
    ['0x hex', `0x${hex(PSK)}`],
    ['0X upper-case hex', `0X${hex(PSK).toUpperCase()}`],
    ['0x hex with : separators', `0x${hex(PSK).match(/../g)?.join(':')}`],
    ['0s base64, as pasted into ipsec.secrets', `0s${b64(PSK)}`],
    ['0S base64', `0S${b64(PSK)}`],
    ['quoted, then a comment', `"${PSK}" # rotated 2026-11`],
    ['unquoted, then a comment', `${PSK}\t# rotated`],
  ];
  it.each(ipsecForms)('ipsec.secrets %s: no [psk] mismatch', (_, notation) => {
    expect(pskKinds(office, hq.ipsecConf, secretsLine(notation))).toEqual([]);
    // and a different key in the same notation is still told apart
    expect(pskKinds(withPsk('another-key-0000000'), hq.ipsecConf, secretsLine(notation))).toHaveLength(1);
  });

  it('ipsec.secrets: quotes keep #, spaces and the other quote; 0x inside quotes is text', () => {
    for (const [key, notation] of [
      ['a#b c', '"a#b c"'],
      ['0xabc', '"0xabc"'],
      ['back\\slash', '"back\\slash"'],
    ] as const) {
      expect(pskKinds(withPsk(key), hq.ipsecConf, secretsLine(notation)), notation).toEqual([]);
    }
    expect(pskKinds(withPsk(`it's`), hq.ipsecConf, secretsLine(`"it's"`))).toEqual([]);
    expect(pskKinds(withPsk('say "hi"'), hq.ipsecConf, secretsLine(`'say "hi"'`))).toEqual([]);
  });

  it('ipsec.secrets that only includes another file: the include is named', () => {
    const [mismatch] = pskKinds(office, hq.ipsecConf, 'include /var/lib/strongswan/ipsec.secrets.inc\n');
    expect(mismatch?.message).toContain('none found');
    expect(mismatch?.message).toContain('include /var/lib/strongswan/ipsec.secrets.inc');
  });

  it('ipsec.secrets: the entry for the gateway beats %any, whatever the order', () => {
    const secrets = `%any : PSK "wrong"\n198.51.100.1 : PSK 0s${b64(PSK)}\n`;
    expect(pskKinds(office, hq.ipsecConf, secrets)).toEqual([]);
  });

  // stroke_cred.c load_secrets() `break`s at the first line it cannot parse: entries below it are
  // never loaded, so a correct key there does not make the gateway work.
  it('ipsec.secrets: a line strongSwan stops at hides every entry below it', () => {
    const right = `198.51.100.1 %any : PSK 0s${b64(PSK)}\n`;
    for (const [why, broken] of [
      ['no " : " separator', '198.51.100.1 %any: PSK "old"\n'],
      ['an unknown type token', ': PKS "typo"\n'],
      ['a type token ending the line', '%any : PSK\n'],
      ['an EAP secret without its closing quote', 'carol : EAP "unterminated\n'],
      ['a %any PSK without its closing quote', '%any : PSK "unterminated\n'],
      ['"include" followed by a tab', 'include\t/etc/ipsec.d/*.secrets\n'],
    ] as const) {
      const [mismatch, ...more] = pskKinds(office, hq.ipsecConf, broken + right);
      expect(mismatch?.message, why).toMatch(/line 1/);
      expect(more, why).toEqual([]);
      expect(JSON.stringify(mismatch), why).not.toContain(PSK);
    }
    // what is above the line is loaded: the right key there works, a wrong one is still told apart
    expect(pskKinds(office, hq.ipsecConf, `${right}garbage line\n`)).toEqual([]);
    const wrongAbove = `%any : PSK "wrong"\ngarbage line\n${right}`;
    expect(pskKinds(office, hq.ipsecConf, wrongAbove)[0]?.message).toContain('differs');
  });

  const swanctlForms: Array<[string, string]> = [
    ['double-quoted', `"${PSK}"`],
    ['unquoted', PSK],
    ['0x hex', `0x${hex(PSK)}`],
    ['0s base64', `0s${b64(PSK)}`],
    ['"0s..." (decoded even inside quotes)', `"0s${b64(PSK)}"`],
    ['quoted, then a comment', `"${PSK}" # rotated`],
  ];
  it.each(swanctlForms)('swanctl.conf %s: no [psk] mismatch', (_, secret) => {
    expect(pskKinds(office, hqSwanctl(secret))).toEqual([]);
    expect(pskKinds(withPsk('another-key-0000000'), hqSwanctl(secret))).toHaveLength(1);
  });

  it('swanctl.conf: escapes and # inside a quoted string are read as strongSwan reads them', () => {
    expect(pskKinds(withPsk('a"b\\c#d\te'), hqSwanctl('"a\\"b\\\\c#d\\te"'))).toEqual([]);
    expect(pskKinds(withPsk('two  spaces'), hqSwanctl('"two  spaces"'))).toEqual([]);
    // unquoted parts are joined by one space
    expect(pskKinds(withPsk('two spaces'), hqSwanctl('two   spaces'))).toEqual([]);
  });

  it('a notation strongSwan cannot read as meant is named, without the key', () => {
    const [mismatch] = pskKinds(office, hq.ipsecConf, secretsLine('0s!!not-base64!!'));
    expect(mismatch?.message).toContain('not base64');
    const [unclosed] = pskKinds(office, hq.ipsecConf, secretsLine(`"${PSK}`));
    expect(unclosed?.message).toContain('closing " is missing');
    expect(JSON.stringify([mismatch, unclosed])).not.toContain(PSK);
    expect(pskKinds(office, hqSwanctl('0xzz'))[0]?.message).toContain('not hexadecimal');
  });
});

describe('PSK notation properties (fast-check)', () => {
  /** Any text a PSK field may hold: Unicode, control characters, quotes, #, backslashes. */
  const anyPsk = fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('"', "'", '#', '\\', ' ', '\t', '\n', '\r', '0', 'x', 's', '=', '}', '{'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      minLength: 1,
      maxLength: 40,
    })
    .filter((psk) => !psk.includes('\0') && psk === Buffer.from(psk, 'utf8').toString('utf8'));

  it('any PSK printed into ipsec.secrets and swanctl.conf reads back as itself', () => {
    fc.assert(
      fc.property(anyPsk, (psk) => {
        const settings = withPsk(psk);
        const side = gatewaySideFor(settings, true);
        const { ipsecConf, ipsecSecrets } = renderIpsecConf(side, { left: '198.51.100.1' });
        const swanctl = renderSwanctlConf(side);
        expect(checkGateway(settings, { text: ipsecConf, secrets: ipsecSecrets }).mismatches).toEqual([]);
        expect(checkGateway(settings, { text: swanctl }).mismatches).toEqual([]);
        // and the printed swanctl.conf still parses into the same sections (no value leaks out)
        const parsed = parseSwanctlConf(swanctl);
        expect(Object.keys(parsed)).toEqual(['connections', 'pools', 'secrets']);
        // a different key never passes
        expect(pskKinds(withPsk(`${psk}x`), ipsecConf, ipsecSecrets)).toHaveLength(1);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('every notation of the same key compares equal; different keys never do', () => {
    const key = fc.uint8Array({ minLength: 1, maxLength: 48 });
    fc.assert(
      fc.property(key, key, fc.boolean(), fc.boolean(), (bytes, other, upper, urlSafe) => {
        const buffer = Buffer.from(bytes);
        const hexText = buffer.toString('hex');
        const base64Text = buffer.toString('base64');
        const hexForms = [
          `0x${upper ? hexText.toUpperCase() : hexText}`,
          `0X${hexText.match(/../g)?.join(':')}`,
          // an odd digit count reads as a leading 0
          `0x${hexText.replace(/^0/, '')}`,
        ];
        const base64Forms = [
          `0s${base64Text}`,
          `0S${urlSafe ? base64Text.replace(/\+/g, '-').replace(/\//g, '_') : base64Text}`,
        ];
        for (const form of [...hexForms, ...base64Forms]) {
          const fromSecrets = readIpsecSecretsPsk(` ${form} # comment`);
          const fromSwanctl = readSwanctlSecret(form);
          expect(fromSecrets.ok && fromSecrets.key.equals(buffer), form).toBe(true);
          expect(fromSwanctl.ok && fromSwanctl.key.equals(buffer), form).toBe(true);
          const different = Buffer.from(other);
          if (!different.equals(buffer))
            expect(fromSecrets.ok && fromSecrets.key.equals(different)).toBe(false);
        }
        // the text form, where the bytes are text that needs no quoting rules
        const text = buffer.toString('latin1');
        if (/^[\x21-\x7e]+$/.test(text) && !/["'\\#]/.test(text) && !/^0[xs]/i.test(text)) {
          for (const form of [`"${text}"`, `'${text}'`, text]) {
            const read = readIpsecSecretsPsk(` ${form}`);
            expect(read.ok && read.key.equals(buffer), form).toBe(true);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('print writes quoted text only when strongSwan reads it back unchanged, else 0s base64', () => {
    expect(pskNotation(PSK)).toEqual({ value: `"${PSK}"` });
    for (const awkward of ['say "hi"', 'back\\slash', '0xdeadbeef', '0sAAAA', 'é', 'line\nbreak']) {
      expect(pskNotation(awkward).value).toBe(`0s${b64(awkward)}`);
      expect(pskNotation(awkward).comment).toContain('base64');
    }
    for (const plain of ['a#b c', "it's", ' padded ', '{}=;:']) {
      expect(pskNotation(plain).value).toBe(`"${plain}"`);
    }
  });
});

describe('gateway CLI with PSK notations', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-psk-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const cli = (args: string[]) => {
    let out = '';
    let err = '';
    const code = runGatewayCli(args, {
      out: (t) => (out += t),
      err: (t) => (err += t),
      readFile: (p) => fs.readFileSync(p, 'utf8'),
    });
    return { code, out, err };
  };

  it('`npm run gateway -- check` accepts a correct gateway whose ipsec.secrets uses 0s', async () => {
    const config = write('vpn.yaml', settingsYaml(PSK));
    const printed = cli(['print', '--config', config, '--format', 'ipsec']);
    const conf = write('ipsec.conf', /config setup[\s\S]*?auto=add\n/.exec(printed.out)?.[0] ?? '');
    const secrets = write('ipsec.secrets', `198.51.100.1 %any : PSK 0s${b64(PSK)}\n`);
    const run = promisify(execFile);
    const result = await run(
      'npm',
      ['run', '-s', 'gateway', '--', 'check', '--config', config, '--gateway', conf, '--secrets', secrets],
      { cwd: repoRoot },
    ).catch((error: unknown) => error as { code: number; stdout: string });
    expect(result.stdout).toMatch(/^OK: .*matches VPN config 'office'/);
    expect(result).not.toHaveProperty('code');
  }, 30_000);

  it('print --with-psk writes a key holding quotes, #, spaces, backslash and non-ASCII so check passes', () => {
    const awkward = `sp ace "q" #h \\b 'é' ✓`;
    const config = write('awkward.yaml', settingsYaml(awkward));
    const printed = cli(['print', '--config', config, '--with-psk']);
    expect(printed.code).toBe(0);
    expect(printed.out).toContain(`PSK 0s${b64(awkward)}`);
    expect(printed.out).toContain(`secret = 0s${b64(awkward)}`);
    expect(printed.out).not.toContain(awkward);
    const conf = write('a.conf', /config setup[\s\S]*?auto=add\n/.exec(printed.out)?.[0] ?? '');
    const secrets = write(
      'a.secrets',
      /# ---- \/etc\/ipsec.secrets\n([\s\S]*?)\n# ----/.exec(printed.out)?.[1] ?? '',
    );
    const swanctl = write('a.swanctl', printed.out.slice(printed.out.indexOf('# strongSwan swanctl.conf')));
    expect(cli(['check', '--config', config, '--gateway', conf, '--secrets', secrets]).out).toMatch(/^OK: /);
    expect(cli(['check', '--config', config, '--gateway', swanctl]).out).toMatch(/^OK: /);
  });

  it('print without --with-psk keeps the placeholder and says how to write an awkward key', () => {
    const config = write('vpn2.yaml', settingsYaml(PSK));
    const printed = cli(['print', '--config', config]);
    expect(printed.out).not.toContain(PSK);
    expect(printed.out).toContain('PSK "<the PSK of the VPN config>"');
    expect(printed.out).toContain('write 0s and its base64 instead');
    const noPsk = write('nopsk.yaml', settingsYaml(PSK).replace(/psk: .*\n/, ''));
    expect(cli(['print', '--config', noPsk, '--with-psk'])).toMatchObject({ code: 2 });
  });
});
