/**
 * IPv4 arithmetic for the VPN model: CIDR parsing, membership, and which addresses count as
 * "public" for a gateway's peer IP. IPv6 is out of scope: Codesphere's VPN configs are IPv4.
 */

export interface Cidr {
  network: number;
  prefix: number;
  text: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit number, or undefined when it is not dotted-quad IPv4. */
export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text.trim());
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((acc, octet) => acc * 256 + octet, 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses "a.b.c.d/n"; returns a reason string when it is not a valid, aligned IPv4 CIDR. */
export function parseCidr(text: string): Cidr | string {
  const [address, prefixText, ...rest] = text.trim().split('/');
  if (address === undefined || prefixText === undefined || rest.length > 0) {
    return `'${text}' is not in CIDR notation (expected a.b.c.d/n)`;
  }
  const network = parseIpv4(address);
  if (network === undefined) return `'${text}' has an invalid IPv4 address`;
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) {
    return `'${text}' has an invalid prefix length (0-32)`;
  }
  const prefix = Number(prefixText);
  if (network % blockSize(prefix) !== 0) {
    return `'${text}' has host bits set (network address is ${formatIpv4(network - (network % blockSize(prefix)))}/${prefix})`;
  }
  return { network, prefix, text: `${formatIpv4(network)}/${prefix}` };
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + blockSize(cidr.prefix);
}

/** Usable host addresses of a pool, in order (network and broadcast excluded for /30 and wider). */
export function poolAddresses(cidr: Cidr): number[] {
  const size = blockSize(cidr.prefix);
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
