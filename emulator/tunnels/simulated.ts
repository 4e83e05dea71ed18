/**
 * The simulated tunnel driver: decides each replica's tunnel state from the VPN config and what
 * the gateway declares it accepts, in the order IKE negotiates (version, IKE proposal, PSK
 * authentication, ESP proposal, virtual IP from the pool). Time is evaluated lazily against the
 * clock, so a thousand workspaces cost no timers and `close()` has nothing to cancel.
 */
import type {
  GatewaySpec,
  ProbeResult,
  ReplicaTunnel,
  TunnelDownReason,
  TunnelDriver,
  TunnelState,
  VpnConfig,
} from './driver.js';
import { cidrContains, formatIpv4, parseCidr, parseIpv4, poolAddresses, type Cidr } from '../net.js';

export interface SimulatedTiming {
  tunnelConnectMs: number;
  tunnelRestartMs: number;
}

interface Negotiated {
  ok: boolean;
  reason?: TunnelDownReason;
  detail: string;
}

export interface SimulatedTunnel {
  replica: number;
  config: VpnConfig;
  gateway: GatewaySpec | undefined;
  /** When this attempt began (connect or restart). */
  startedAt: number;
  /** A restart shows `restarting` (tunnelRestartMs) before `connecting`. */
  restarted: boolean;
  outcome: Negotiated;
  virtualIp?: string;
}

export function createSimulatedDriver(
  timing: () => SimulatedTiming,
  now: () => number = Date.now,
): TunnelDriver & { kind: 'simulated' } {
  const byWorkspace = new Map<number, SimulatedTunnel[]>();
  /** Virtual IPs handed out per gateway pool, so each tunnel's address is unique. */
  const leases = new Map<string, Set<number>>();

  function release(tunnel: SimulatedTunnel): void {
    if (!tunnel.virtualIp || !tunnel.gateway) return;
    leases.get(tunnel.gateway.name)?.delete(parseIpv4(tunnel.virtualIp) ?? -1);
    delete tunnel.virtualIp;
  }

  function lease(gateway: GatewaySpec): string | undefined {
    const pool = parseCidr(gateway.pool);
    if (typeof pool === 'string') return undefined;
    const used = leases.get(gateway.name) ?? new Set<number>();
    leases.set(gateway.name, used);
    const free = poolAddresses(pool).find((address) => !used.has(address));
    if (free === undefined) return undefined;
    used.add(free);
    return formatIpv4(free);
  }

  function establish(
    workspaceId: number,
    replicas: number,
    config: VpnConfig,
    gateway: GatewaySpec | undefined,
    restarted: boolean,
  ): void {
    for (const old of byWorkspace.get(workspaceId) ?? []) release(old);
    const start = now();
    const tunnels: SimulatedTunnel[] = [];
    for (let replica = 0; replica < replicas; replica++) {
      const tunnel: SimulatedTunnel = {
        replica,
        config,
        gateway,
        startedAt: start,
        restarted,
        outcome: negotiate(config, gateway),
      };
      if (tunnel.outcome.ok && gateway) {
        const virtualIp = lease(gateway);
        if (virtualIp) tunnel.virtualIp = virtualIp;
        else
          tunnel.outcome = {
            ok: false,
            reason: 'pool-exhausted',
            detail: `gateway ${gateway.name}: no free address in pool ${gateway.pool}`,
          };
      }
      tunnels.push(tunnel);
    }
    byWorkspace.set(workspaceId, tunnels);
  }

  function stateOf(tunnel: SimulatedTunnel): TunnelState {
    const t = now();
    // Phases are derived from the current timing when read, so tests can stretch or shrink them.
    const connectingFrom = tunnel.startedAt + (tunnel.restarted ? timing().tunnelRestartMs : 0);
    if (t < connectingFrom) return { state: 'restarting' };
    const upAt = connectingFrom + timing().tunnelConnectMs;
    if (t < upAt) return { state: 'connecting' };
    if (tunnel.outcome.ok && tunnel.virtualIp) {
      return { state: 'up', virtualIp: tunnel.virtualIp, since: new Date(upAt).toISOString() };
    }
    return { state: 'down', reason: tunnel.outcome.reason ?? 'stopped', detail: tunnel.outcome.detail };
  }

  return {
    kind: 'simulated',
    connect(workspaceId, replicas, config, gateway) {
      establish(workspaceId, replicas, config, gateway, false);
      return Promise.resolve();
    },
    restart(workspaceId, replicas, config, gateway) {
      establish(workspaceId, replicas, config, gateway, true);
      return Promise.resolve();
    },
    disconnect(workspaceId) {
      for (const tunnel of byWorkspace.get(workspaceId) ?? []) release(tunnel);
      byWorkspace.delete(workspaceId);
      return Promise.resolve();
    },
    tunnels(workspaceId): ReplicaTunnel[] {
      return (byWorkspace.get(workspaceId) ?? []).map((tunnel) => ({
        workspaceId,
        replica: tunnel.replica,
        vpnConfig: tunnel.config.name,
        tunnel: stateOf(tunnel),
      }));
    },
    probe(workspaceId, replica, target) {
      const tunnel = byWorkspace.get(workspaceId)?.[replica];
      return Promise.resolve(simulateProbe(target, tunnel, tunnel ? stateOf(tunnel) : undefined));
    },
    close() {
      byWorkspace.clear();
      leases.clear();
      return Promise.resolve();
    },
  };
}

/** IKE in the order a real negotiation fails: version, IKE proposal, authentication, ESP proposal. */
export function negotiate(config: VpnConfig, gateway: GatewaySpec | undefined): Negotiated {
  if (!gateway || gateway.reachable === false) {
    return {
      ok: false,
      reason: 'gateway-unreachable',
      detail: `no answer from ${config.peerIp} on UDP 500/4500`,
    };
  }
  if (config.ikeVersion !== gateway.ikeVersion) {
    return {
      ok: false,
      reason: 'ike-version-mismatch',
      detail: `config uses ${config.ikeVersion}, gateway ${gateway.name} speaks ${gateway.ikeVersion}`,
    };
  }
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (!gateway.ikeProposals.some((p) => same(p, config.ikeProposal))) {
    return {
      ok: false,
      reason: 'ike-proposal-mismatch',
      detail: `NO_PROPOSAL_CHOSEN: gateway ${gateway.name} refused IKE proposal ${config.ikeProposal}`,
    };
  }
  if (config.psk !== gateway.psk) {
    return {
      ok: false,
      reason: 'psk-mismatch',
      detail: `AUTHENTICATION_FAILED: pre-shared key does not match gateway ${gateway.name}`,
    };
  }
  if (!gateway.espProposals.some((p) => same(p, config.espProposal))) {
    return {
      ok: false,
      reason: 'esp-proposal-mismatch',
      detail: `NO_PROPOSAL_CHOSEN: gateway ${gateway.name} refused ESP proposal ${config.espProposal}`,
    };
  }
  return { ok: true, detail: 'established' };
}

/**
 * What a ping (`host`) or TCP connect (`host:port`) prints from inside a replica. Addresses in the
 * config's peer subnets go through the tunnel and answer only when it is up and the gateway
 * declares the host (and port); loopback answers; everything else is not routed anywhere.
 */
export function simulateProbe(
  target: string,
  tunnel: SimulatedTunnel | undefined,
  state: TunnelState | undefined,
): ProbeResult {
  const [host = '', portText] = target.split(':');
  const port = portText === undefined ? undefined : Number(portText);
  const address = parseIpv4(host);
  const fail = (why: 'unreachable' | 'timeout' | 'refused' | 'unknown-host') => ({
    ok: false,
    output: failureText(host, port, why),
  });
  if (host === 'localhost' || (address !== undefined && address >>> 24 === 127)) {
    return port === undefined || port === 3000
      ? { ok: true, output: successText(host, port) }
      : fail('refused');
  }
  if (address === undefined) return fail('unknown-host');
  const inPeerSubnet =
    tunnel?.config.peerSubnets.some((subnet) => {
      const cidr = parseCidr(subnet);
      return typeof cidr !== 'string' && cidrContains(cidr, address);
    }) ?? false;
  if (!tunnel || !inPeerSubnet) return fail('unreachable');
  if (state?.state !== 'up') return fail('timeout');
  const gatewaySubnets = (tunnel.gateway?.subnets ?? [])
    .map(parseCidr)
    .filter((c): c is Cidr => typeof c !== 'string');
  const hosts = tunnel.gateway?.hosts ?? [];
  const hostKnown =
    gatewaySubnets.some((c) => cidrContains(c, address)) && hosts.some((h) => h.split(':')[0] === host);
  if (!hostKnown) return fail('timeout');
  if (port !== undefined && !hosts.includes(`${host}:${port}`)) return fail('refused');
  return { ok: true, output: successText(host, port) };
}

function successText(host: string, port: number | undefined): string {
  if (port !== undefined) return `Connection to ${host} ${port} port [tcp/*] succeeded!\n`;
  return [
    `PING ${host} (${host}) 56(84) bytes of data.`,
    `64 bytes from ${host}: icmp_seq=1 ttl=63 time=1.84 ms`,
    `64 bytes from ${host}: icmp_seq=2 ttl=63 time=1.62 ms`,
    `64 bytes from ${host}: icmp_seq=3 ttl=63 time=1.71 ms`,
    '',
    `--- ${host} ping statistics ---`,
    '3 packets transmitted, 3 received, 0% packet loss, time 2003ms',
    'rtt min/avg/max/mdev = 1.620/1.723/1.840/0.090 ms',
    '',
  ].join('\n');
}

function failureText(
  host: string,
  port: number | undefined,
  why: 'unreachable' | 'timeout' | 'refused' | 'unknown-host',
): string {
  if (port !== undefined) {
    if (why === 'unknown-host')
      return `nc: getaddrinfo for host "${host}" port ${port}: Name or service not known\n`;
    const reason = {
      unreachable: 'Network is unreachable',
      timeout: 'Connection timed out',
      refused: 'Connection refused',
    }[why];
    return `nc: connect to ${host} port ${port} (tcp) failed: ${reason}\n`;
  }
  if (why === 'unknown-host') return `ping: ${host}: Name or service not known\n`;
  if (why === 'unreachable') return `ping: connect: Network is unreachable\n`;
  return [
    `PING ${host} (${host}) 56(84) bytes of data.`,
    '',
    `--- ${host} ping statistics ---`,
    '3 packets transmitted, 0 received, 100% packet loss, time 2036ms',
    '',
  ].join('\n');
}
