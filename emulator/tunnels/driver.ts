/**
 * The tunnel driver: the one seam between the emulator's VPN model and how tunnels are made.
 * `simulated` (the default, everywhere) decides tunnel states from the VPN config and the
 * gateway's declared settings; `strongswan` (Linux + root + strongSwan) runs a real charon per
 * replica in its own network namespace. The emulator calls these methods and never cares which.
 */

/** A team's VPN config, as the dashboard stores it (Codesphere's VPN documentation). */
export interface VpnConfig {
  name: string;
  ikeVersion: 'ikev1' | 'ikev2';
  psk: string;
  /** strongSwan proposal strings, e.g. "aes256-sha256-modp2048". */
  ikeProposal: string;
  espProposal: string;
  /** Lifetimes in seconds. */
  ikeLifetime: number;
  espLifetime: number;
  /** The gateway's public address. */
  peerIp: string;
  /** Private networks behind the gateway, CIDR; never 0.0.0.0/0. */
  peerSubnets: string[];
}

/** What the company's gateway accepts (declared in the seed; real strongSwan in the real driver). */
export interface GatewaySpec {
  name: string;
  publicIp: string;
  ikeVersion: 'ikev1' | 'ikev2';
  psk: string;
  ikeProposals: string[];
  espProposals: string[];
  /** Pool handing out one virtual IP per tunnel, CIDR (rightsourceip). */
  pool: string;
  /** The private LAN(s) behind it (leftsubnet). */
  subnets: string[];
  /** Private hosts that answer pings / accept TCP inside those subnets ("10.250.0.5", "10.250.0.7:5432"). */
  hosts: string[];
  /** Simulated only: a gateway that is down never answers. */
  reachable?: boolean;
}

export type TunnelState =
  | { state: 'connecting' }
  | { state: 'restarting' }
  | { state: 'up'; virtualIp: string; since: string }
  | { state: 'down'; reason: TunnelDownReason; detail: string };

export type TunnelDownReason =
  | 'psk-mismatch'
  | 'ike-proposal-mismatch'
  | 'esp-proposal-mismatch'
  | 'ike-version-mismatch'
  | 'gateway-unreachable'
  | 'pool-exhausted'
  | 'stopped';

/** One replica's tunnel, as the emulator's inspection API shows it. */
export interface ReplicaTunnel {
  workspaceId: number;
  replica: number;
  vpnConfig: string;
  tunnel: TunnelState;
}

export interface ProbeResult {
  ok: boolean;
  /** What a shell would print (ping / nc style), returned through `execute`. */
  output: string;
}

export interface TunnelDriver {
  readonly kind: 'simulated' | 'strongswan';
  /** Brings up one tunnel per replica for a workspace attached to `config` toward `gateway` (undefined: no gateway at that peer IP). */
  connect(
    workspaceId: number,
    replicas: number,
    config: VpnConfig,
    gateway: GatewaySpec | undefined,
  ): Promise<void>;
  /** Tears down and re-establishes every tunnel of the workspace (config or workspace's vpnConfig changed). */
  restart(
    workspaceId: number,
    replicas: number,
    config: VpnConfig,
    gateway: GatewaySpec | undefined,
  ): Promise<void>;
  /** Removes all tunnels (and, for real drivers, namespaces and daemons) of a workspace. */
  disconnect(workspaceId: number): Promise<void>;
  /** Current state of each replica's tunnel. */
  tunnels(workspaceId: number): ReplicaTunnel[];
  /** Ping (`host`) or TCP connect (`host:port`) from inside one replica, through its tunnel if routed there. */
  probe(workspaceId: number, replica: number, target: string): Promise<ProbeResult>;
  /** Stops everything the driver started. */
  close(): Promise<void>;
}
