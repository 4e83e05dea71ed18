/**
 * Config rendering: what each daemon is told. A replica's IKE connection in VICI's message form
 * (what swanctl.conf would say), and a gateway's files from the gateway helper (shared/gateway:
 * the same text users get from `npm run gateway -- print`).
 */
import type { GatewaySpec, VpnConfig } from '../driver.js';
import type { ViciSection } from './vici.js';
import { renderIpsecConf, renderSwanctlConf, type GatewaySide } from '../../../shared/gateway/render.js';

/** The gateway's lifetimes (a GatewaySpec declares none): the seed example's values. */
const GATEWAY_IKE_LIFETIME_S = 8 * 3600;
const GATEWAY_ESP_LIFETIME_S = 3600;

/** How a gateway is configured: starter reading ipsec.conf, or charon loaded by swanctl. */
export type GatewayConfigFormat = 'ipsec.conf' | 'swanctl.conf';

function lifetimes(seconds: number): { rekey: string; over: string } {
  const rekey = Math.max(60, Math.round(seconds * 0.9));
  return { rekey: `${rekey}s`, over: `${Math.max(1, seconds - rekey)}s` };
}

/** The replica's IKE connection, as swanctl.conf would say it, in VICI's message form. */
export function replicaConnection(config: VpnConfig, localIp: string): ViciSection {
  const ike = lifetimes(config.ikeLifetime);
  const esp = lifetimes(config.espLifetime);
  return {
    gw: {
      version: config.ikeVersion === 'ikev1' ? '1' : '2',
      local_addrs: [localIp],
      remote_addrs: [config.peerIp],
      proposals: [config.ikeProposal],
      // ESP in UDP 4500 (forceencaps); userspace ESP needs it anyway
      encap: 'yes',
      // ask the gateway's pool for an address (leftsourceip=%config)
      vips: ['0.0.0.0'],
      rekey_time: ike.rekey,
      over_time: ike.over,
      dpd_delay: '5s',
      ...(config.ikeVersion === 'ikev1' ? { dpd_timeout: '15s' } : {}),
      // each replica's own identity: two with the same one knock each other out
      local: { auth: 'psk', id: localIp },
      remote: { auth: 'psk', id: config.peerIp },
      children: {
        lan: {
          remote_ts: config.peerSubnets,
          esp_proposals: [config.espProposal],
          rekey_time: esp.rekey,
          life_time: `${config.espLifetime}s`,
          dpd_action: 'restart',
          close_action: 'start',
          start_action: 'start',
        },
      },
    },
  };
}

/** The gateway's etc/ files (file name -> text) in the given format, as the gateway helper renders them. */
export function gatewayFiles(spec: GatewaySpec, format: GatewayConfigFormat): Record<string, string> {
  const side: GatewaySide = {
    name: spec.name,
    ikeVersion: spec.ikeVersion,
    ikeProposals: spec.ikeProposals,
    espProposals: spec.espProposals,
    ikeLifetimeSeconds: GATEWAY_IKE_LIFETIME_S,
    espLifetimeSeconds: GATEWAY_ESP_LIFETIME_S,
    publicIp: spec.publicIp,
    subnets: spec.subnets,
    pool: spec.pool,
    psk: spec.psk,
  };
  if (format === 'swanctl.conf') return { 'swanctl.conf': renderSwanctlConf(side) };
  const { ipsecConf, ipsecSecrets } = renderIpsecConf(side, { left: spec.publicIp });
  return { 'ipsec.conf': ipsecConf, 'ipsec.secrets': ipsecSecrets };
}
