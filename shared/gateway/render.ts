/**
 * The strongSwan configuration a company gateway needs so that every replica of a Codesphere
 * workspace attached to a VPN config can open its own tunnel: IKEv1 or IKEv2 with a PSK, the
 * exact IKE/ESP suites (strict: a trailing `!` refuses anything else, so a mismatch fails loudly
 * instead of silently negotiating a default suite), `right=%any` because replicas come from
 * changing addresses, a virtual-IP pool with one address per replica, the private subnets as
 * `leftsubnet`, and forced UDP encapsulation (ESP in UDP 4500).
 */

import { pskNotation } from './psk.js';

export interface GatewaySide {
  /** Used in the conn name: codesphere-<name>. */
  name: string;
  ikeVersion: 'ikev1' | 'ikev2';
  ikeProposals: string[];
  espProposals: string[];
  ikeLifetimeSeconds: number;
  espLifetimeSeconds: number;
  /** The gateway's public address (the VPN config's peer IP); its IKE identity. */
  publicIp: string;
  /** The private networks reached through the tunnel (the VPN config's peer subnets). */
  subnets: string[];
  /** rightsourceip: one address per replica. */
  pool: string;
  /** The PSK, or a placeholder when printing for a human; written in a notation that holds any key (psk.ts). */
  psk: string;
}

export interface RenderOptions {
  /** `left=`: default %defaultroute (the address of the default route's interface). */
  left?: string;
}

const PSK_PLACEHOLDER = '<the PSK of the VPN config>';
export { PSK_PLACEHOLDER };

/**
 * Comment lines above the secret: for the placeholder, how to write the real key in that file
 * (ipsec.secrets takes any text between double quotes but `"`; swanctl.conf reads `\` as an escape;
 * both decode a value starting with 0x/0s); for a key in base64 notation, why it is not readable.
 */
function pskComments(psk: string, file: 'ipsec.secrets' | 'swanctl.conf'): string[] {
  if (psk === PSK_PLACEHOLDER) {
    const awkward =
      file === 'ipsec.secrets' ? '" or a newline' : '" or \\ or a newline, or starting with 0x or 0s';
    return [
      "# replace the placeholder with the VPN config's PSK between double quotes; a PSK holding",
      `# ${awkward}: write 0s and its base64 instead (printf '%s' 'the PSK' | base64)`,
    ];
  }
  const { comment } = pskNotation(psk);
  return comment ? [`# ${comment}`] : [];
}

export function connName(side: Pick<GatewaySide, 'name'>): string {
  return `codesphere-${side.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const strict = (proposals: string[]) =>
  proposals.map((p, i) => (i === proposals.length - 1 ? `${p}!` : p)).join(',');

/** ipsec.conf (starter syntax) and the matching ipsec.secrets line. */
export function renderIpsecConf(
  side: GatewaySide,
  options: RenderOptions = {},
): { ipsecConf: string; ipsecSecrets: string } {
  const ipsecConf = [
    `# strongSwan ipsec.conf for the gateway ${side.publicIp}: Codesphere VPN config "${side.name}"`,
    'config setup',
    '',
    `conn ${connName(side)}`,
    `    keyexchange=${side.ikeVersion}`,
    '    type=tunnel',
    '    authby=psk',
    '    # ESP in UDP 4500 even without NAT: workspaces reach the gateway through NAT',
    '    forceencaps=yes',
    `    ike=${strict(side.ikeProposals)}`,
    `    esp=${strict(side.espProposals)}`,
    `    ikelifetime=${formatSeconds(side.ikeLifetimeSeconds)}`,
    `    lifetime=${formatSeconds(side.espLifetimeSeconds)}`,
    `    left=${options.left ?? '%defaultroute'}`,
    `    leftid=${side.publicIp}`,
    `    leftsubnet=${side.subnets.join(',')}`,
    '    # every replica of a workspace connects on its own, from an address not known in advance',
    '    right=%any',
    '    # one virtual IP per replica',
    `    rightsourceip=${side.pool}`,
    '    auto=add',
    '',
  ].join('\n');
  const ipsecSecrets = [
    ...pskComments(side.psk, 'ipsec.secrets'),
    `${side.publicIp} %any : PSK ${pskNotation(side.psk).value}`,
    '',
  ].join('\n');
  return { ipsecConf, ipsecSecrets };
}

/** The same gateway in swanctl.conf syntax (strongSwan's vici-based configuration). */
export function renderSwanctlConf(side: GatewaySide): string {
  const name = connName(side);
  const childRekey = Math.round(side.espLifetimeSeconds * 0.9);
  return [
    `# strongSwan swanctl.conf for the gateway ${side.publicIp}: Codesphere VPN config "${side.name}"`,
    'connections {',
    `    ${name} {`,
    `        version = ${side.ikeVersion === 'ikev1' ? 1 : 2}`,
    '        # replicas connect from addresses not known in advance (right=%any)',
    '        remote_addrs = %any',
    `        proposals = ${side.ikeProposals.join(',')}`,
    '        # ESP in UDP 4500 even without NAT (forceencaps=yes)',
    '        encap = yes',
    `        pools = ${name}-pool`,
    `        rekey_time = ${side.ikeLifetimeSeconds}s`,
    '        local {',
    '            auth = psk',
    `            id = ${side.publicIp}`,
    '        }',
    '        remote {',
    '            auth = psk',
    '        }',
    '        children {',
    '            workspaces {',
    `                local_ts = ${side.subnets.join(',')}`,
    `                esp_proposals = ${side.espProposals.join(',')}`,
    `                rekey_time = ${childRekey}s`,
    `                life_time = ${side.espLifetimeSeconds}s`,
    '            }',
    '        }',
    '    }',
    '}',
    'pools {',
    `    ${name}-pool {`,
    '        # one virtual IP per replica',
    `        addrs = ${side.pool}`,
    '    }',
    '}',
    'secrets {',
    `    ike-${name} {`,
    `        id = ${side.publicIp}`,
    ...pskComments(side.psk, 'swanctl.conf').map((line) => `        ${line}`),
    `        secret = ${pskNotation(side.psk).value}`,
    '    }',
    '}',
    '',
  ].join('\n');
}
