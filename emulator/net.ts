/**
 * IPv4 arithmetic for the VPN model: CIDR parsing, membership, and which addresses count as
 * "public" for a gateway's peer IP. IPv6 is out of scope: Codesphere's VPN configs are IPv4.
 */

import {
  cidrContains,
  formatIpv4,
  parseCidr as parseCidrOrAddress,
  parseIpv4,
  type Cidr,
} from '../shared/gateway/ipv4.js';

// The arithmetic is the gateway helper's (tests may import shared/, never the other way round).
export { cidrContains, formatIpv4, parseIpv4, type Cidr };

/**
 * Parses "a.b.c.d/n"; returns a reason string when it is not a valid, aligned IPv4 CIDR. Stricter
 * than the gateway helper's parser, which reads a bare address as /32 (as ipsec.conf does): the
 * dashboard wants a VPN config's subnets written with their prefix length.
 */
export function parseCidr(text: string): Cidr | string {
  if (!text.includes('/')) return `'${text}' is not in CIDR notation (expected a.b.c.d/n)`;
  return parseCidrOrAddress(text);
}

/** Usable host addresses of a pool, in order (network and broadcast excluded for /30 and wider). */
export function poolAddresses(cidr: Cidr): number[] {
  const size = 2 ** (32 - cidr.prefix);
  if (size <= 2) return Array.from({ length: size }, (_, i) => cidr.network + i);
  return Array.from({ length: size - 2 }, (_, i) => cidr.network + 1 + i);
}

const NON_PUBLIC: Array<[string, string]> = [
  ['0.0.0.0/8', 'the "this network" range'],
  ['10.0.0.0/8', 'a private (RFC 1918) range'],
  ['100.64.0.0/10', 'the carrier-grade NAT range'],
  ['127.0.0.0/8', 'the loopback range'],
  ['169.254.0.0/16', 'the link-local range'],
  ['172.16.0.0/12', 'a private (RFC 1918) range'],
  ['192.168.0.0/16', 'a private (RFC 1918) range'],
  ['224.0.0.0/4', 'the multicast range'],
  ['240.0.0.0/4', 'the reserved range'],
];
const NON_PUBLIC_CIDRS = NON_PUBLIC.map(([text, why]) => ({ cidr: parseCidr(text) as Cidr, why }));

/**
 * Why an address cannot be a gateway's public peer IP, or undefined when it can.
 * Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are deliberately
 * accepted: seeds and docs use them as stand-ins for real public addresses.
 */
export function nonPublicReason(address: number): string | undefined {
  const hit = NON_PUBLIC_CIDRS.find(({ cidr }) => cidrContains(cidr, address));
  return hit ? `${formatIpv4(address)} is in ${hit.cidr.text}, ${hit.why}` : undefined;
}

export function isPrivate(address: number): boolean {
  return nonPublicReason(address) !== undefined;
}
