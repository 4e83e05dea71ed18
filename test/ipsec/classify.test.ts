/**
 * Failure classification from charon log lines (the signatures the ipsec-lab recorded), and the
 * VICI wire codec. Pure: runs everywhere, also where the real-driver tests skip.
 */
import { describe, expect, it } from 'vitest';
import {
  combine,
  freshAttempt,
  gatewayHint,
  observeReplicaLog,
} from '../../emulator/tunnels/strongswan/classify.js';
import { decodeMessage, encodeMessage, type ViciSection } from '../../emulator/tunnels/strongswan/vici.js';

const PEER = '198.51.100.1';

function classify(lines: string[]) {
  const attempt = freshAttempt();
  for (const line of lines) observeReplicaLog(attempt, line, PEER);
  return attempt.failure?.reason;
}

describe('replica log classification', () => {
  it.each([
    [
      'IKEv1 wrong PSK',
      [
        'sending packet: from 198.51.100.10[500] to 198.51.100.1[500] (180 bytes)',
        'received packet: from 198.51.100.1[500] to 198.51.100.10[500] (160 bytes)',
        'invalid HASH_V1 payload length, decryption failed?',
        'could not decrypt payloads',
      ],
      'psk-mismatch',
    ],
    [
      'IKEv2 wrong PSK',
      [
        'received packet: from 198.51.100.2[4500] to 198.51.100.10[4500] (80 bytes)',
        'received AUTHENTICATION_FAILED notify error',
      ],
      'psk-mismatch',
    ],
    [
      'IKE proposal refused',
      [
        'received packet: from 198.51.100.1[500] to 198.51.100.10[500] (40 bytes)',
        'received NO_PROPOSAL_CHOSEN error notify',
      ],
      'ike-proposal-mismatch',
    ],
    [
      'ESP proposal refused after IKE came up',
      [
        'received packet: from 198.51.100.1[4500]',
        'IKE_SA gw[1] established between 198.51.100.10[198.51.100.10]...198.51.100.1[198.51.100.1]',
        'received NO_PROPOSAL_CHOSEN error notify',
      ],
      'esp-proposal-mismatch',
    ],
    [
      'IKEv2 pool exhausted',
      [
        'received packet: from 198.51.100.2[4500]',
        'received INTERNAL_ADDRESS_FAILURE notify, no CHILD_SA built',
      ],
      'pool-exhausted',
    ],
    [
      'silence',
      [
        'sending packet: from 198.51.100.10[500] to 198.51.100.9[500] (180 bytes)',
        'sending retransmit 1 of request message ID 0, seq 1',
      ],
      'gateway-unreachable',
    ],
  ] as const)('%s -> %s', (_label, lines, reason) => {
    expect(classify([...lines])).toBe(reason);
  });

  it('a retransmit after the gateway answered is not "unreachable", and success leaves no failure', () => {
    expect(
      classify([
        'received packet: from 198.51.100.1[500]',
        'sending retransmit 1 of request message ID 0, seq 1',
      ]),
    ).toBeUndefined();
    expect(
      classify([
        'received packet: from 198.51.100.1[500]',
        'IKE_SA gw[1] established between a...b',
        'CHILD_SA lan{1} established',
      ]),
    ).toBeUndefined();
  });

  it('keeps the first failure of an attempt', () => {
    expect(
      classify([
        'received packet: from x',
        'could not decrypt payloads',
        'received NO_PROPOSAL_CHOSEN error notify',
      ]),
    ).toBe('psk-mismatch');
  });
});

describe('gateway hints', () => {
  it('reads "no IKE config found" as an IKE version mismatch of that peer, and overrides the bare NO_PROPOSAL_CHOSEN', () => {
    const found = gatewayHint(
      'no IKE config found for 198.51.100.1...198.51.100.11, sending NO_PROPOSAL_CHOSEN',
      'hq',
    );
    expect(found?.peer).toBe('198.51.100.11');
    const replica = { reason: 'ike-proposal-mismatch' as const, detail: 'NO_PROPOSAL_CHOSEN' };
    expect(combine(replica, found?.hint)?.reason).toBe('ike-version-mismatch');
    expect(combine(undefined, found?.hint)?.reason).toBe('ike-version-mismatch');
  });

  it('reads a full pool for the peer that asked', () => {
    const found = gatewayHint("no virtual IP found for %any requested by '198.51.100.10'", 'tiny');
    expect(found).toMatchObject({ peer: '198.51.100.10', hint: { reason: 'pool-exhausted' } });
    expect(combine(undefined, found?.hint)?.reason).toBe('pool-exhausted');
  });

  it('ignores unrelated lines and leaves other failures alone', () => {
    expect(gatewayHint("assigning virtual IP 10.200.0.1 to peer '198.51.100.10'", 'hq')).toBeUndefined();
    const psk = { reason: 'psk-mismatch' as const, detail: 'x' };
    expect(combine(psk, { reason: 'ike-version-mismatch', detail: 'y' })).toBe(psk);
  });
});

describe('VICI message codec', () => {
  it('round-trips sections, key/values and lists (UTF-8 included)', () => {
    const message: ViciSection = {
      gw: {
        version: '1',
        local_addrs: ['198.51.100.10'],
        proposals: ['aes256-sha256-modp2048'],
        local: { auth: 'psk', id: 'réplica-0' },
        children: { lan: { remote_ts: ['10.250.0.0/24', '10.251.0.0/24'], start_action: 'start' } },
      },
      empty: [],
    };
    expect(decodeMessage(encodeMessage(message))).toEqual(message);
  });

  it('encodes the documented wire format', () => {
    // KEY_VALUE(3) name-len "k" value-len(2 bytes) "v"; LIST_START(4) "l" LIST_ITEM(5) "a" LIST_END(6)
    expect([...encodeMessage({ k: 'v', l: ['a'] })]).toEqual([
      3, 1, 107, 0, 1, 118, 4, 1, 108, 5, 0, 1, 97, 6,
    ]);
  });

  it('rejects an unknown element instead of misreading it', () => {
    expect(() => decodeMessage(Buffer.from([9, 0]))).toThrow(/unknown message element 9/);
  });
});
