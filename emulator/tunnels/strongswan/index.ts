/**
 * The `strongswan` tunnel driver: real IPsec between network namespaces (Linux, root, strongSwan).
 * Each gateway of the seed is a namespace running charon from the ipsec.conf the gateway helper
 * renders (shared/gateway, what users get from `print`), with a private-LAN namespace behind it.
 * Each replica of a connected workspace is a namespace with its own charon, configured over VICI
 * from the workspace's VPN config. Tunnel state comes from the daemons: up/down events,
 * `list-sas` and failure signatures in their logs. Steps, one module each: config.ts, network.ts,
 * gateway.ts, replica.ts, workspaces.ts, state-dir.ts.
 */
import fs from 'node:fs';
import type { GatewaySpec, ProbeResult, ReplicaTunnel, TunnelDriver } from '../driver.js';
import type { GatewayConfigFormat } from './config.js';
import { run, waitFor } from './exec.js';
import { gatewayPids, startGateway, stopGateway, type EditGatewayFiles, type Gateway } from './gateway.js';
import { Network } from './network.js';
import { stateOf } from './replica.js';
import { createRunState, removeRun, removeStaleRuns, type RunState } from './state-dir.js';
import { WorkspaceTunnels } from './workspaces.js';

export { replicaConnection } from './config.js';

export interface ReplicaTimings {
  replica: number;
  /** Namespace, veth and addresses ready (0 on a restart: the namespace is kept). */
  namespaceMs?: number | undefined;
  /** charon started and its VICI socket answering. */
  daemonMs?: number | undefined;
  /** PSK and connection loaded (initiation starts here). */
  loadedMs?: number | undefined;
  /** CHILD_SA installed with a virtual IP, as seen through VICI. */
  upMs?: number | undefined;
}

export interface StrongswanTunnelDriver extends TunnelDriver {
  readonly kind: 'strongswan';
  /** The replica's network namespace (tests run their own continuous probes in it). */
  replicaNamespace(workspaceId: number, replica: number): string | undefined;
  /** Where a replica's last (re)start spent its time, in ms from the call (undefined: not reached). */
  replicaTimings(workspaceId: number): ReplicaTimings[];
  /** Resolves when no tunnel of the workspace is connecting or restarting any more (or on timeout). */
  settled(workspaceId: number, timeoutMs: number): Promise<ReplicaTunnel[]>;
  /** PIDs of the daemons (charon per replica, starter + charon per gateway), for resource figures. */
  daemonPids(): { gateways: Record<string, number[]>; replicas: Record<string, number> };
  /** The run's namespace-name prefix and state directory. */
  readonly prefix: string;
  readonly stateDir: string;
}

/** Why the real driver cannot run here, or undefined when it can. */
export function strongswanUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the strongswan driver needs Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'the strongswan driver needs root (network namespaces)';
  for (const file of [
    '/usr/lib/ipsec/charon',
    '/usr/lib/ipsec/starter',
    '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so',
    '/usr/bin/nc.openbsd',
    '/dev/net/tun',
  ]) {
    if (!fs.existsSync(file))
      return `strongSwan is not installed (missing ${file}); run .ci/install-strongswan as root`;
  }
  return undefined;
}

export interface StrongswanDriverOptions {
  /**
   * How the gateways are configured: 'ipsec.conf' (default, starter, like the seed's example) or
   * 'swanctl.conf' (charon loaded with `swanctl --load-all`): both texts come from the gateway
   * helper, so either variant it prints is proven against real tunnels.
   */
  gatewayConfig?: GatewayConfigFormat;
  /**
   * Rewrites a gateway's files before its daemon reads them (file name -> text), e.g. to write the
   * PSK the way an administrator might (`0s...`, `0x..:..`, `'...'`) and let strongSwan itself say
   * whether it is the same key. Default: the helper's files unchanged.
   */
  editGatewayFiles?: EditGatewayFiles;
}

/**
 * Sets up the run: clears namespaces and daemons left by dead runs, creates this run's state
 * directory and emulated internet, and starts every gateway. Removes what it made if a step fails.
 */
async function startRun(
  gatewaySpecs: GatewaySpec[],
  options: StrongswanDriverOptions,
): Promise<{ state: RunState; network: Network; gateways: Map<string, Gateway> }> {
  await removeStaleRuns();
  const state = createRunState();
  const network = new Network(state);
  try {
    await network.start();
    const started = await Promise.all(
      gatewaySpecs.map((spec, index) =>
        startGateway(
          state,
          network,
          spec,
          index,
          options.gatewayConfig ?? 'ipsec.conf',
          options.editGatewayFiles ?? ((files) => files),
        ),
      ),
    );
    return { state, network, gateways: new Map(started.map((gateway) => [gateway.spec.publicIp, gateway])) };
  } catch (error) {
    await removeRun(state.dir);
    throw error;
  }
}

/**
 * Starts the real driver: the gateways now, each workspace's replicas as it connects. Throws
 * the reason when strongSwan cannot run here (strongswanUnavailable) or a gateway fails to start.
 */
export async function createStrongswanDriver(
  gatewaySpecs: GatewaySpec[],
  options: StrongswanDriverOptions = {},
): Promise<StrongswanTunnelDriver> {
  const unavailable = strongswanUnavailable();
  if (unavailable) throw new Error(unavailable);
  const { state, gateways, network } = await startRun(gatewaySpecs, options);
  const workspaces = new WorkspaceTunnels(state, network, gateways);
  const replicasOf = (workspaceId: number) => workspaces.byWorkspace.get(workspaceId) ?? [];

  const driver: StrongswanTunnelDriver = {
    kind: 'strongswan',
    prefix: state.prefix,
    stateDir: state.dir,

    // the emulator's gateway match is not passed on: whatever answers at the peer IP is the gateway
    connect: (workspaceId, replicas, config) =>
      workspaces.serial(workspaceId, () => workspaces.connect(workspaceId, replicas, config)),

    restart: (workspaceId, replicas, config) =>
      workspaces.serial(workspaceId, () => workspaces.restart(workspaceId, replicas, config)),

    // after close() everything is gone already
    disconnect: (workspaceId) =>
      workspaces.closed
        ? Promise.resolve()
        : workspaces.serial(workspaceId, () => workspaces.disconnect(workspaceId)),

    tunnels(workspaceId): ReplicaTunnel[] {
      return replicasOf(workspaceId).map((replica) => ({
        workspaceId,
        replica: replica.replica,
        vpnConfig: replica.config.name,
        tunnel: stateOf(replica),
      }));
    },

    async probe(workspaceId, index, target): Promise<ProbeResult> {
      const replica = replicasOf(workspaceId)[index];
      if (!replica) return { ok: false, output: `no replica ${index} in workspace ${workspaceId}\n` };
      return probeFrom(replica.netns, target);
    },

    replicaNamespace: (workspaceId, index) => replicasOf(workspaceId)[index]?.netns,

    replicaTimings: (workspaceId) =>
      replicasOf(workspaceId).map(({ replica, marks }) => {
        const since = (mark: number | undefined) => (mark === undefined ? undefined : mark - marks.start);
        return {
          replica,
          namespaceMs: since(marks.namespace),
          daemonMs: since(marks.daemon),
          loadedMs: since(marks.loaded),
          upMs: since(marks.up),
        };
      }),

    async settled(workspaceId, timeoutMs) {
      const busy = () =>
        driver
          .tunnels(workspaceId)
          .some((t) => t.tunnel.state === 'connecting' || t.tunnel.state === 'restarting');
      await waitFor(() => !busy(), timeoutMs, 10);
      return driver.tunnels(workspaceId);
    },

    daemonPids() {
      const result = { gateways: {} as Record<string, number[]>, replicas: {} as Record<string, number> };
      for (const gateway of gateways.values()) result.gateways[gateway.spec.name] = gatewayPids(gateway);
      for (const replicas of workspaces.byWorkspace.values()) {
        for (const replica of replicas) {
          if (replica.instance)
            result.replicas[`w${replica.workspaceId}r${replica.replica}`] = replica.instance.pid;
        }
      }
      return result;
    },

    async close() {
      if (workspaces.closed) return;
      workspaces.closed = true;
      await workspaces.drain();
      await Promise.all([...workspaces.byWorkspace.keys()].map((id) => workspaces.disconnect(id)));
      await Promise.all([...gateways.values()].map(stopGateway));
      await removeRun(state.dir);
    },
  };
  return driver;
}

/** Ping (`host`) or TCP connect (`host:port`) from inside a namespace; output as the tools print it. */
export async function probeFrom(netns: string, target: string): Promise<ProbeResult> {
  const [host = '', port] = target.split(':');
  const args =
    port === undefined
      ? ['netns', 'exec', netns, 'ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', host]
      : ['netns', 'exec', netns, 'nc', '-vz', '-w', '2', host, port];
  const result = await run('ip', args, 10_000);
  return { ok: result.code === 0, output: result.stdout + result.stderr };
}
