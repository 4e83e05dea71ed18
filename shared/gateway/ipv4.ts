/**
 * IPv4 arithmetic the gateway helper needs: CIDR parsing, containment, pool sizes.
 * Codesphere's VPN configs are IPv4 only.
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

const blockSize = (prefix: number) => 2 ** (32 - prefix);

/** Parses "a.b.c.d/n" (a bare address counts as /32); returns a reason string when invalid. */
export function parseCidr(text: string): Cidr | string {
  const [address = '', prefixText = '32', ...rest] = text.trim().split('/');
  const network = parseIpv4(address);
  if (network === undefined || rest.length > 0) return `'${text}' is not an IPv4 CIDR (expected a.b.c.d/n)`;
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32)
    return `'${text}' has an invalid prefix length (0-32)`;
  const prefix = Number(prefixText);
  if (network % blockSize(prefix) !== 0) {
    return `'${text}' has host bits set (the network is ${formatIpv4(network - (network % blockSize(prefix)))}/${prefix})`;
  }
  return { network, prefix, text: `${formatIpv4(network)}/${prefix}` };
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + blockSize(cidr.prefix);
}

/** True when `outer` contains every address of `inner`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && cidrContains(outer, inner.network);
}

/**
 * Addresses strongSwan hands out from a `rightsourceip` CIDR pool: for /30 and wider it skips the
 * network and broadcast addresses (its mem_pool starts at .1 and excludes the last one).
 */
export function poolCapacity(cidr: Cidr): number {
  const size = blockSize(cidr.prefix);
  return size <= 2 ? size : size - 2;
}

/** Capacity of a pool written as CIDR or as an "a.b.c.d-e.f.g.h" range; undefined if unparsable. */
export function poolSize(pool: string): number | undefined {
  const range = pool.split('-');
  if (range.length === 2) {
    const from = parseIpv4(range[0] ?? '');
    const to = parseIpv4(range[1] ?? '');
    return from !== undefined && to !== undefined && to >= from ? to - from + 1 : undefined;
  }
  const cidr = parseCidr(pool);
  return typeof cidr === 'string' ? undefined : poolCapacity(cidr);
}

export function firstHost(network: number, prefix: number): number {
  return prefix >= 31 ? network : network + 1;
}
