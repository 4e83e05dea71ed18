/**
 * The printed PSK notation, read by strongSwan itself: a gateway configured
 * with what `npm run gateway -- print --with-psk` writes for a key holding quotes, `#`, spaces, a
 * backslash, non-ASCII and a newline (ipsec.secrets read by starter/charon; swanctl.conf loaded
 * with `swanctl --load-all`), and a replica given the key's bytes over VICI: the tunnel comes up
 * only when both hold the same key. And the notations an administrator may write by hand (`0s`,
 * `0x` with `:`, single quotes, unquoted, swanctl escapes and quoted `"0s..."`): strongSwan and
 * `check` agree on each, a tunnel comes up exactly when check finds no [psk] mismatch. Runs as root with strongSwan (see real-tunnels.ts); it skips
 * elsewhere, and in CI as root it must run.
 */
import { describe, expect, it } from 'vitest';
import type { GatewaySpec, VpnConfig } from '../../emulator/tunnels/driver.js';
import { createStrongswanDriver } from '../../emulator/tunnels/strongswan/index.js';
import { checkGateway, pskNotation, type VpnSettings } from '../../shared/gateway/index.js';
import { hq, leftovers, mustRunReal, office, realDriverSkipReason } from './real-tunnels.js';

const skipReason = realDriverSkipReason();
if (skipReason && !mustRunReal) {
  console.warn(`[test/ipsec] real strongSwan PSK notation tests SKIPPED: ${skipReason}`);
}

/** Everything a quoted string in one of the two files cannot hold as typed. */
const AWKWARD = `sp ace "q" #h \\b 'é' ✓\n0x`;

describe.runIf(!skipReason || mustRunReal)(
  'printed PSK notation read by strongSwan',
  { timeout: 60_000 },
  () => {
    it.each(['ipsec.conf', 'swanctl.conf'] as const)(
      'a gateway configured from the printed %s holds an awkward PSK: the right key connects, a near miss does not',
      async (gatewayConfig) => {
        if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
        expect(pskNotation(AWKWARD).value).toMatch(/^0s/);
        const gateway: GatewaySpec = { ...hq, psk: AWKWARD };
        const right: VpnConfig = { ...office, psk: AWKWARD };
        // the same text with the newline as a space: a reader that drops or mangles it would pass
        const nearMiss: VpnConfig = { ...office, name: 'office-near-miss', psk: AWKWARD.replace('\n', ' ') };
        const driver = await createStrongswanDriver([gateway], { gatewayConfig });
        try {
          await driver.connect(1, 1, right, gateway);
          await driver.connect(2, 1, nearMiss, gateway);
          expect((await driver.settled(1, 15_000)).map((t) => t.tunnel.state)).toEqual(['up']);
          expect((await driver.probe(1, 0, '10.250.0.5')).ok).toBe(true);
          expect((await driver.settled(2, 15_000))[0]?.tunnel).toMatchObject({
            state: 'down',
            reason: 'psk-mismatch',
          });
        } finally {
          await driver.close();
        }
        expect(leftovers(driver.prefix, driver.stateDir)).toEqual([]);
      },
    );
  },
);

/** One gateway per hand-written notation: its own address, pool and LAN. */
function gatewayFor(index: number, key: string): GatewaySpec {
  return {
    ...hq,
    name: `notation-${index}`,
    publicIp: `198.51.100.${20 + index}`,
    pool: `10.${210 + index}.0.0/24`,
    subnets: [`10.${230 + index}.0.0/24`],
    hosts: [`10.${230 + index}.0.5`],
    psk: key,
  };
}

const hex = (key: string) => Buffer.from(key, 'utf8').toString('hex');
const b64 = (key: string) => Buffer.from(key, 'utf8').toString('base64');
const PLAIN = 'office-psk-7f3a9c2e';

/** [the replica's key, the notation written into the gateway's file, whether they are one key] */
type Case = [key: string, notation: string, same: boolean];

const secretsCases: Case[] = [
  [AWKWARD, `0s${b64(AWKWARD)}`, true],
  [AWKWARD, `0x${hex(AWKWARD).match(/../g)?.join(':')}`, true],
  [`it"s #a key`, `'it"s #a key'`, true],
  [PLAIN, PLAIN, true],
  [PLAIN, `0X${hex('office-psk-7f3a9c2f').toUpperCase()}`, false],
];
const swanctlCases: Case[] = [
  [AWKWARD, `"0s${b64(AWKWARD)}"`, true],
  ['a"b\\c#d', '"a\\"b\\\\c#d"', true],
  [AWKWARD, `0X${hex(AWKWARD).toUpperCase()}`, true],
  [PLAIN, `"${PLAIN} "`, false],
];

describe.runIf(!skipReason || mustRunReal)(
  'hand-written PSK notations: strongSwan and check agree',
  { timeout: 60_000 },
  () => {
    it.each([
      ['ipsec.secrets', 'ipsec.conf', secretsCases],
      ['swanctl.conf', 'swanctl.conf', swanctlCases],
    ] as const)('%s', async (_, gatewayConfig, cases) => {
      if (skipReason) throw new Error(`real-driver tests cannot run in CI: ${skipReason}`);
      const gateways = cases.map(([key], index) => gatewayFor(index, key));
      const written = new Map<string, Record<string, string>>();
      const driver = await createStrongswanDriver(gateways, {
        gatewayConfig,
        editGatewayFiles: (files, spec) => {
          const notation = cases[gateways.indexOf(spec)]?.[1] ?? '';
          const edited =
            gatewayConfig === 'ipsec.conf'
              ? { ...files, 'ipsec.secrets': `${spec.publicIp} %any : PSK ${notation}\n` }
              : {
                  ...files,
                  'swanctl.conf': (files['swanctl.conf'] ?? '').replace(
                    /secret = .*/,
                    `secret = ${notation}`,
                  ),
                };
          written.set(spec.publicIp, edited);
          return edited;
        },
      });
      try {
        const configs: VpnConfig[] = gateways.map((gateway, index) => ({
          ...office,
          name: gateway.name,
          psk: cases[index]?.[0] ?? '',
          peerIp: gateway.publicIp,
          peerSubnets: gateway.subnets,
        }));
        for (const [index, config] of configs.entries())
          await driver.connect(100 + index, 1, config, gateways[index] ?? hq);
        for (const [index, config] of configs.entries()) {
          const [, notation, same] = cases[index] ?? ['', '', false];
          const files = written.get(config.peerIp) ?? {};
          const settings: VpnSettings = {
            ...config,
            ikeLifetime: config.ikeLifetime,
            espLifetime: config.espLifetime,
            replicas: 1,
            pool: gateways[index]?.pool,
          };
          const check = checkGateway(settings, {
            text: files['ipsec.conf'] ?? files['swanctl.conf'] ?? '',
            secrets: files['ipsec.secrets'],
          });
          const tunnel = (await driver.settled(100 + index, 15_000))[0]?.tunnel;
          const label = `${gatewayConfig} ${notation}`;
          expect(check.mismatches.filter((m) => m.kind === 'psk').length === 0, `check: ${label}`).toBe(same);
          expect(tunnel?.state, `strongSwan: ${label}`).toBe(same ? 'up' : 'down');
          if (!same) expect(tunnel).toMatchObject({ reason: 'psk-mismatch' });
        }
      } finally {
        await driver.close();
      }
    });
  },
);
