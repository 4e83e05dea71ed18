/**
 * The gateway helper tells the pool's size (the number for vpnPoolSize): `print` on stderr (its
 * stdout is the configuration), `check` after its verdict, for ipsec.conf and swanctl.conf pools.
 */
import { describe, expect, it } from 'vitest';
import { runGatewayCli } from '../../shared/gateway/cli.js';
import { readGatewayPools } from '../../shared/gateway/pool.js';

const SETTINGS = `name: office
ikeVersion: ikev1
psk: office-psk-7f3a9c2e
ikeProposal: aes256-sha256-modp2048
espProposal: aes256-sha256-modp2048
peerIp: 198.51.100.1
peerSubnets: [10.250.0.0/24]
replicas: 2
pool: 10.200.0.0/26
`;

function cli(args: string[], files: Record<string, string>) {
  let out = '';
  let err = '';
  const code = runGatewayCli(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return text;
    },
  });
  return { code, out, err };
}

describe('gateway pool size', () => {
  it('print names the pool and its size on stderr', () => {
    const printed = cli(['print', '--config', 'vpn.yaml', '--format', 'ipsec'], { 'vpn.yaml': SETTINGS });
    expect(printed.code).toBe(0);
    expect(printed.out).toContain('rightsourceip=10.200.0.0/26');
    expect(printed.err).toBe('pool 10.200.0.0/26: 62 addresses (vpnPoolSize: 62)\n');
  });

  it('check reports the size of the rightsourceip it read', () => {
    const conf = 'conn office\n  keyexchange=ikev1\n  rightsourceip=10.200.0.0/24\n  auto=add\n';
    const checked = cli(['check', '--config', 'vpn.yaml', '--gateway', 'ipsec.conf'], {
      'vpn.yaml': SETTINGS,
      'ipsec.conf': conf,
    });
    expect(checked.out).toContain('pool 10.200.0.0/24: 254 addresses (vpnPoolSize: 254)');
  });

  it('reads swanctl addrs, ranges and pools from elsewhere', () => {
    expect(
      readGatewayPools(
        'pools {\n  p {\n    addrs = 10.200.0.10-10.200.0.19\n  }\n}\nrightsourceip=%config\n',
      ),
    ).toEqual([
      { pool: '10.200.0.10-10.200.0.19', size: 10 },
      { pool: '%config', size: undefined },
    ]);
  });
});
