/**
 * The emulated world, all inside network namespaces this driver creates:
 *
 *   <prefix>inet      a bridge: the "internet" 198.51.100.0/24 (a documentation range)
 *   <prefix>gw<i>     gateway i: its public IP on the bridge, the first address of each LAN subnet
 *   <prefix>lan<i>    the private hosts behind gateway i, reachable only through it
 *   <prefix>w<id>r<n> replica n of workspace <id>: one address on the bridge, nothing else
 *
 * Replicas get no default route: an address outside the tunnel's traffic selectors is simply not
 * routed ("Network is unreachable"), and traffic can never leave the namespaces.
 */
import { ipBatch, mustRun, run } from './exec.js';
import type { RunState } from './state-dir.js';
import { deleteNamespace } from './state-dir.js';
import { cidrContains, firstHost, formatIpv4, parseCidr, parseIpv4 } from '../../../shared/gateway/ipv4.js';

export const INTERNET = '198.51.100.0/24';
const internet = parseCidr(INTERNET);

export function onInternet(ip: string): boolean {
  const address = parseIpv4(ip);
  return typeof internet !== 'string' && address !== undefined && cidrContains(internet, address);
}

/**
 * `ip` commands are batched (one process per namespace) because every process start costs tens of
 * milliseconds on a small CI machine. IPv6 is kept off the veths (`addrgenmode none`): no link-local
 * chatter, the model is IPv4 only.
 */
export class Network {
  readonly inet: string;
  private bridgePorts = 0;

  constructor(private readonly state: RunState) {
    this.inet = `${state.prefix}inet`;
  }

  async start(): Promise<void> {
    this.state.recordNamespace(this.inet);
    await mustRun('ip', ['netns', 'add', this.inet]);
    await ipBatch(
      ['link set lo up', 'link add br0 type bridge', 'link set br0 addrgenmode none', 'link set br0 up'],
      this.inet,
    );
  }

  /** Creates `netns` with a veth `pub0` plugged into the internet bridge. */
  private async plugged(...namespaces: string[]): Promise<void> {
    // one `ip` process for all namespaces and veths, one for all bridge ports: with 8 replicas
    // this is the difference between 24 processes and 10
    const ports = namespaces.map(() => `p${++this.bridgePorts}`);
    for (const netns of namespaces) this.state.recordNamespace(netns);
    await ipBatch(
      namespaces.flatMap((netns, i) => [
        `netns add ${netns}`,
        `link add pub0 netns ${netns} type veth peer name ${ports[i]} netns ${this.inet}`,
      ]),
    );
    await ipBatch(
      ports.flatMap((port) => [`link set ${port} addrgenmode none`, `link set ${port} master br0 up`]),
      this.inet,
    );
  }

  /** Address commands for a host on the bridge; off-range addresses get on-link routes both ways. */
  private static address(ip: string, peers: string[]): string[] {
    const lines = [
      'link set lo up',
      'link set pub0 addrgenmode none',
      onInternet(ip) ? `addr add ${ip}/24 dev pub0` : `addr add ${ip}/32 dev pub0`,
      'link set pub0 up',
    ];
    if (!onInternet(ip)) lines.push(`route add ${INTERNET} dev pub0`);
    for (const peer of peers) if (!onInternet(peer)) lines.push(`route add ${peer}/32 dev pub0`);
    return lines;
  }

  /** Replica namespaces, each with one address on the bridge (and on-link routes to off-range peers). */
  async addReplicas(replicas: Array<{ netns: string; ip: string; peerIp: string }>): Promise<void> {
    if (replicas.length === 0) return;
    await this.plugged(...replicas.map((r) => r.netns));
    await Promise.all(replicas.map((r) => ipBatch(Network.address(r.ip, [r.peerIp]), r.netns)));
  }

  /** The gateway's namespace and its private LAN namespace with the given hosts. */
  async addGateway(
    gwNetns: string,
    lanNetns: string,
    publicIp: string,
    subnets: string[],
    hosts: string[],
  ): Promise<void> {
    await this.plugged(gwNetns);
    this.state.recordNamespace(lanNetns);
    await ipBatch([
      `netns add ${lanNetns}`,
      `link add lan0 netns ${gwNetns} type veth peer name eth0 netns ${lanNetns}`,
    ]);
    const hostIps = hosts.map((host) => host.split(':')[0] ?? host);
    const gwLan: string[] = [];
    const lanAddrs: string[] = [];
    let firstRouter: string | undefined;
    for (const subnet of subnets) {
      const cidr = parseCidr(subnet);
      if (typeof cidr === 'string') throw new Error(`gateway subnet ${cidr}`);
      const router = gatewayLanAddress(cidr.network, cidr.prefix, hostIps);
      firstRouter ??= router;
      gwLan.push(`addr add ${router}/${cidr.prefix} dev lan0`);
      for (const host of hostIps) {
        const address = parseIpv4(host);
        if (address !== undefined && cidrContains(cidr, address))
          lanAddrs.push(`addr add ${host}/${cidr.prefix} dev eth0`);
      }
    }
    await Promise.all([
      ipBatch(
        [...Network.address(publicIp, []), 'link set lan0 addrgenmode none', ...gwLan, 'link set lan0 up'],
        gwNetns,
      ),
      // the gateway routes between its LAN and the tunnels
      mustRun('ip', ['netns', 'exec', gwNetns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']),
      ipBatch(
        [
          'link set lo up',
          'link set eth0 addrgenmode none',
          ...lanAddrs,
          'link set eth0 up',
          ...(firstRouter ? [`route add default via ${firstRouter}`] : []),
        ],
        lanNetns,
      ),
    ]);
  }

  async remove(netns: string): Promise<void> {
    await deleteNamespace(netns);
  }

  async close(): Promise<void> {
    await deleteNamespace(this.inet);
  }
}

/** The gateway's own LAN address: the first host address no declared host uses. */
function gatewayLanAddress(network: number, prefix: number, hosts: string[]): string {
  let candidate = firstHost(network, prefix);
  while (hosts.includes(formatIpv4(candidate))) candidate++;
  return formatIpv4(candidate);
}

/** True when `ip` answers to ping from inside `netns` within `timeoutS` (a reachability check). */
export async function pingOnce(netns: string, ip: string, timeoutS = 1): Promise<boolean> {
  const result = await run('ip', [
    'netns',
    'exec',
    netns,
    'ping',
    '-n',
    '-q',
    '-c',
    '1',
    '-W',
    String(timeoutS),
    ip,
  ]);
  return result.code === 0;
}
