/**
 * The gateway checker against the seed's VPN configs and gateway `hq`: the printed configuration
 * passes, and each seeded or single-line mismatch is named (and only that one).
 */
import { describe, expect, it } from 'vitest';
import {
  checkGateway,
  gatewaySideFor,
  parseVpnSettings,
  renderIpsecConf,
  renderSwanctlConf,
  type MismatchKind,
} from '../../shared/gateway/index.js';

const office = parseVpnSettings(
  `
name: office
ikeVersion: ikev1
psk: office-psk-7f3a9c2e
ikeProposal: aes256-sha256-modp2048
espProposal: aes256-sha256-modp2048
ikeLifetime: 28800
espLifetime: 3600
peerIp: 198.51.100.1
peerSubnets: [10.250.0.0/24]
replicas: 2
pool: 10.200.0.0/24
`,
  'office.yaml',
);

/** The seed's gateway hq, as its administrator would have configured it. */
const side = gatewaySideFor(office, true);
const hq = renderIpsecConf(side, { left: '198.51.100.1' });
const hqSwanctl = renderSwanctlConf(side);

const kinds = (result: ReturnType<typeof checkGateway>) => result.mismatches.map((m) => m.kind);

describe('gateway check: ipsec.conf', () => {
  it('accepts the configuration the helper prints (with the right PSK in ipsec.secrets)', () => {
    const result = checkGateway(office, { text: hq.ipsecConf, secrets: hq.ipsecSecrets });
    expect(result).toMatchObject({ format: 'ipsec.conf', connection: 'codesphere-office', mismatches: [] });
  });

  it('seeded office-wrong-psk: names the PSK without showing either key', () => {
    const wrongPsk = { ...office, name: 'office-wrong-psk', psk: 'not-the-office-psk' };
    const result = checkGateway(wrongPsk, { text: hq.ipsecConf, secrets: hq.ipsecSecrets });
    expect(kinds(result)).toEqual(['psk']);
    const text = JSON.stringify(result);
    expect(text).not.toContain('office-psk-7f3a9c2e');
    expect(text).not.toContain('not-the-office-psk');
  });

  it('seeded office-bad-proposal: names the ESP proposal and what the gateway accepts', () => {
    const badProposal = { ...office, name: 'office-bad-proposal', espProposal: 'aes128-sha1-modp1024' };
    const result = checkGateway(badProposal, { text: hq.ipsecConf, secrets: hq.ipsecSecrets });
    expect(kinds(result)).toEqual(['esp-proposal']);
    expect(result.mismatches[0]?.message).toContain('aes128-sha1-modp1024');
    expect(result.mismatches[0]?.message).toContain('aes256-sha256-modp2048');
  });

  it('seeded lab (IKEv2) against hq (IKEv1): names the IKE version', () => {
    const lab = { ...office, name: 'lab', ikeVersion: 'ikev2' as const };
    expect(kinds(checkGateway(lab, { text: hq.ipsecConf }))).toEqual(['ike-version']);
  });

  const edits: Array<[MismatchKind, RegExp, string]> = [
    ['ike-version', /keyexchange=ikev1/, 'keyexchange=ikev2'],
    ['ike-proposal', /ike=.*/, 'ike=aes128-sha1-modp1024!'],
    ['ike-proposal', /\n\s+ike=.*/, ''],
    ['esp-proposal', /esp=.*/, 'esp=aes256gcm16-modp2048!'],
    ['ike-lifetime', /ikelifetime=.*/, 'ikelifetime=1h'],
    ['esp-lifetime', /\blifetime=1h/, 'lifetime=8h'],
    ['psk', /authby=psk/, 'authby=pubkey'],
    ['right-any', /right=%any/, 'right=203.0.113.7'],
    ['pool', /rightsourceip=.*/, 'rightsourceip=10.200.0.0/32'],
    ['pool', /\n\s+rightsourceip=.*/, ''],
    ['subnets', /leftsubnet=.*/, 'leftsubnet=10.250.0.0/25'],
    ['encapsulation', /forceencaps=yes/, 'forceencaps=no'],
  ];
  it.each(edits)('names %s when the gateway says %s -> %s', (kind, pattern, replacement) => {
    const text = hq.ipsecConf.replace(pattern, replacement);
    expect(text).not.toBe(hq.ipsecConf);
    const result = checkGateway(office, { text, secrets: hq.ipsecSecrets });
    expect(kinds(result)).toEqual([kind]);
    expect(result.mismatches[0]?.message.length).toBeGreaterThan(20);
  });

  it('counts pool capacity against the replicas (a /30 holds 2, a range its length)', () => {
    const text = hq.ipsecConf.replace(/rightsourceip=.*/, 'rightsourceip=10.200.0.0/30');
    expect(kinds(checkGateway(office, { text }))).toEqual([]);
    expect(checkGateway({ ...office, replicas: 3 }, { text }).mismatches[0]?.message).toContain(
      'holds 2 addresses, but 3 replicas',
    );
    const range = hq.ipsecConf.replace(/rightsourceip=.*/, 'rightsourceip=10.200.0.10-10.200.0.12');
    expect(kinds(checkGateway({ ...office, replicas: 3 }, { text: range }))).toEqual([]);
  });

  it('reads conn %default and also=, and picks the matching conn among several', () => {
    const text = [
      'config setup',
      'conn %default',
      '    keyexchange=ikev1',
      '    forceencaps=yes',
      'conn base',
      '    authby=psk',
      '    ike=aes256-sha256-modp2048!',
      '    esp=aes256-sha256-modp2048!',
      '    ikelifetime=8h',
      '    lifetime=1h',
      '    auto=ignore',
      'conn roadwarriors',
      '    authby=pubkey',
      '    right=%any',
      'conn workspaces',
      '    also=base',
      '    leftsubnet=10.0.0.0/8',
      '    right=%any',
      '    rightsourceip=10.200.0.0/24',
      '    auto=add',
    ].join('\n');
    const result = checkGateway(office, { text });
    expect(result.connection).toBe('workspaces');
    expect(result.mismatches).toEqual([]);
  });

  it('reports a missing PSK entry in ipsec.secrets', () => {
    const result = checkGateway(office, { text: hq.ipsecConf, secrets: '198.51.100.9 : PSK "x"\n' });
    expect(kinds(result)).toEqual(['psk']);
    expect(result.mismatches[0]?.message).toContain('none found');
  });
});

describe('gateway check: swanctl.conf', () => {
  it('accepts the swanctl.conf the helper prints', () => {
    expect(checkGateway(office, { text: hqSwanctl })).toMatchObject({
      format: 'swanctl.conf',
      mismatches: [],
    });
  });

  const edits: Array<[MismatchKind, RegExp, string]> = [
    ['ike-version', /version = 1/, 'version = 2'],
    ['ike-proposal', /\bproposals = .*/, 'proposals = aes128-sha256-modp2048'],
    ['esp-proposal', /esp_proposals = .*/, 'esp_proposals = aes128-sha1-modp1024'],
    ['ike-lifetime', /rekey_time = 28800s/, 'rekey_time = 4h'],
    ['esp-lifetime', /life_time = 3600s/, 'life_time = 2h'],
    ['psk', /secret = ".*"/, 'secret = "something-else"'],
    ['right-any', /remote_addrs = %any/, 'remote_addrs = 203.0.113.7'],
    ['pool', /addrs = 10.200.0.0\/24/, 'addrs = 10.200.0.0/32'],
    ['subnets', /local_ts = .*/, 'local_ts = 10.251.0.0/24'],
    ['encapsulation', /encap = yes/, 'encap = no'],
  ];
  it.each(edits)('names %s when the gateway says %s -> %s', (kind, pattern, replacement) => {
    const text = hqSwanctl.replace(pattern, replacement);
    expect(text).not.toBe(hqSwanctl);
    expect(kinds(checkGateway(office, { text }))).toEqual([kind]);
  });
});
