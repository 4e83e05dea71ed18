/**
 * The printed PSK notation, read by strongSwan itself (issue 10, case 11): a gateway configured
 * with what `npm run gateway -- print --with-psk` writes for a key holding quotes, `#`, spaces, a
 * backslash, non-ASCII and a newline (ipsec.secrets read by starter/charon; swanctl.conf loaded
 * with `swanctl --load-all`), and a replica given the key's bytes over VICI: the tunnel comes up
 * only when both hold the same key. Runs as root with strongSwan (see real-tunnels.ts); it skips
 * elsewhere, and in CI as root it must run.
 */
import { describe, expect, it } from 'vitest';
import type { GatewaySpec, VpnConfig } from '../emulator/tunnels/driver.js';
import { createStrongswanDriver } from '../emulator/tunnels/strongswan/index.js';
import { pskNotation } from '../../shared/gateway/index.js';
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
