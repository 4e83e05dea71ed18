/**
 * The gateway helper: what the company's strongSwan gateway must say for a Codesphere VPN config
 * (print), and what an existing gateway configuration gets wrong (check). Pure functions; the CLI
 * in cli.ts does the file reading.
 */
import { formatIpv4, parseIpv4 } from './ipv4.js';
import { PSK_PLACEHOLDER, renderIpsecConf, renderSwanctlConf, type GatewaySide } from './render.js';
import type { VpnSettings } from './settings.js';

export { checkGateway, detectFormat, type CheckResult, type Mismatch, type MismatchKind } from './check.js';
export { parseVpnSettings, SettingsError, type VpnSettings } from './settings.js';
export { renderIpsecConf, renderSwanctlConf, type GatewaySide } from './render.js';
export { pskNotation, readIpsecSecretsPsk, readSwanctlSecret, type PskReading } from './psk.js';
export { parseSwanctlConf } from './parse.js';

/** The smallest pool in 10.200.0.0/16 (at least a /24) with an address for every replica. */
export function suggestPool(replicas: number): string {
  let prefix = 24;
  while (prefix > 16 && 2 ** (32 - prefix) - 2 < replicas) prefix--;
  return `${formatIpv4(parseIpv4('10.200.0.0') ?? 0)}/${prefix}`;
}

/** The gateway's side of a VPN config; the PSK is replaced by a placeholder unless `withPsk`. */
export function gatewaySideFor(settings: VpnSettings, withPsk = false): GatewaySide {
  return {
    name: settings.name,
    ikeVersion: settings.ikeVersion,
    ikeProposals: [settings.ikeProposal],
    espProposals: [settings.espProposal],
    ikeLifetimeSeconds: settings.ikeLifetime,
    espLifetimeSeconds: settings.espLifetime,
    publicIp: settings.peerIp,
    subnets: settings.peerSubnets,
    pool: settings.pool ?? suggestPool(settings.replicas),
    psk: withPsk && settings.psk ? settings.psk : PSK_PLACEHOLDER,
  };
}

/**
 * Both configuration variants as one printable text. The PSK is a placeholder unless `withPsk`
 * (then written in a notation that holds any key: see psk.ts).
 */
export function printGatewayConfig(
  settings: VpnSettings,
  format: 'ipsec' | 'swanctl' | 'both' = 'both',
  withPsk = false,
): string {
  const side = gatewaySideFor(settings, withPsk);
  const parts: string[] = [];
  if (format !== 'swanctl') {
    const { ipsecConf, ipsecSecrets } = renderIpsecConf(side);
    parts.push('# ---- /etc/ipsec.conf', ipsecConf, '# ---- /etc/ipsec.secrets', ipsecSecrets);
  }
  if (format !== 'ipsec')
    parts.push('# ---- /etc/swanctl/swanctl.conf (alternative to ipsec.conf)', renderSwanctlConf(side));
  return parts.join('\n');
}
