import { poolSize } from './ipv4.js';

/**
 * The address pools a gateway configuration hands replicas from (ipsec.conf `rightsourceip=`,
 * swanctl.conf `addrs =`), with their sizes: the number to give as `vpnPoolSize`
 * (docs/private-data.md). Pools from elsewhere (`%config`, `%dhcp`, `%radius`) have no size here.
 */

export interface GatewayPool {
  /** As written: a CIDR (10.200.0.0/24) or a range (10.200.0.10-10.200.0.50). */
  pool: string;
  /** Addresses it holds, or undefined when it cannot be read or is not local. */
  size: number | undefined;
}

/** Every pool the configuration text declares, in order, each once. */
export function readGatewayPools(text: string): GatewayPool[] {
  const found = new Set<string>();
  for (const match of text.matchAll(/^\s*(?:rightsourceip|addrs)\s*=\s*([^#\s]+)/gm))
    for (const pool of (match[1] ?? '').split(',')) if (pool.trim()) found.add(pool.trim());
  return [...found].map((pool) => ({ pool, size: pool.startsWith('%') ? undefined : poolSize(pool) }));
}

/** One line per pool: "pool 10.200.0.0/24: 254 addresses (vpnPoolSize: 254)". */
export function describePools(pools: readonly GatewayPool[]): string {
  return pools
    .map((p) =>
      p.size === undefined
        ? `pool ${p.pool}: size unknown (addresses come from elsewhere)\n`
        : `pool ${p.pool}: ${p.size} address${p.size === 1 ? '' : 'es'} (vpnPoolSize: ${p.size})\n`,
    )
    .join('');
}
