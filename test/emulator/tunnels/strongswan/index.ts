/**
 * The `strongswan` tunnel driver: real IPsec between network namespaces (Linux, root, strongSwan).
 *
 * Each gateway of the seed is a namespace running starter + charon from an ipsec.conf rendered by
 * the gateway helper (shared/gateway: the same text users get from `npm run gateway -- print`),
 * with a private-LAN namespace behind it whose hosts answer ping and listen on their TCP ports.
 * Each replica of a connected workspace is a namespace with its own charon, configured over VICI
 * from the workspace's VPN config, asking the gateway's pool for a virtual IP. Tunnel state comes
 * from the daemons: pushed up/down events, `list-sas`, and the failure signatures in their logs.
 */
import fs from 'node:fs';
import type {
  GatewaySpec,
  ProbeResult,
  ReplicaTunnel,
  TunnelDriver,
  TunnelState,
  VpnConfig,
} from '../driver.js';
import { run, waitFor } from './exec.js';
import { startInstance, type Instance } from './instance.js';
import { Network, onInternet } from './network.js';
import { createRunState, removeRun, removeStaleRuns, stopProcess, type RunState } from './state-dir.js';
import { ViciClient, type ViciSection } from './vici.js';
import {
  combine,
  freshAttempt,
  gatewayHint,
  observeReplicaLog,
  type Attempt,
  type GatewayHint,
} from './classify.js';
import { renderIpsecConf, renderSwanctlConf, type GatewaySide } from '../../../../shared/gateway/render.js';
import { formatIpv4, parseIpv4 } from '../../../../shared/gateway/ipv4.js';
import { spawn } from 'node:child_process';

/** Seconds to the first IKE retransmit on replicas: "gateway unreachable" shows after this. */
const REPLICA_RETRANSMIT_TIMEOUT_S = 1;
/** The gateway's lifetimes (a GatewaySpec declares none): the seed example's values. */
const GATEWAY_IKE_LIFETIME_S = 8 * 3600;
const GATEWAY_ESP_LIFETIME_S = 3600;

interface Gateway {
  spec: GatewaySpec;
  netns: string;
  lanNetns: string;
  instance: Instance;
  /** Event connection (gateway log lines). */
  events: ViciClient;
  hints: Map<string, GatewayHint>;
  listenerPids: number[];
}

interface Replica {
  workspaceId: number;
  replica: number;
  netns: string;
  ip: string;
  config: VpnConfig;
  gateway: Gateway | undefined;
  phase: 'starting' | 'restarting' | 'running' | 'stopped';
  instance?: Instance | undefined;
  events?: ViciClient | undefined;
  attempt: Attempt;
  up?: { virtualIp: string; since: string } | undefined;
  refreshing?: Promise<void> | undefined;
  refreshAgain?: boolean;
  removed?: boolean;
  /** Why the replica could not be started, if it could not. */
  error?: string;
  /** performance.now() marks of the latest (re)start, for the benchmark's breakdown. */
  marks: ReplicaMarks;
}

interface ReplicaMarks {
  start: number;
  namespace?: number;
  daemon?: number;
  loaded?: number;
  up?: number;
}

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

export interface StrongswanDriverOptions {
  /**
   * How the gateways are configured: 'ipsec.conf' (default, starter, like the seed's example) or
   * 'swanctl.conf' (charon loaded with `swanctl --load-all`): both texts come from the gateway
   * helper, so either variant it prints is proven against real tunnels.
   */
  gatewayConfig?: 'ipsec.conf' | 'swanctl.conf';
  /**
   * Rewrites a gateway's files before its daemon reads them (file name -> text), e.g. to write the
   * PSK the way an administrator might (`0s...`, `0x..:..`, `'...'`) and let strongSwan itself say
   * whether it is the same key. Default: the helper's files unchanged.
   */
  editGatewayFiles?: (files: Record<string, string>, spec: GatewaySpec) => Record<string, string>;
}

export async function createStrongswanDriver(
  gatewaySpecs: GatewaySpec[],
  options: StrongswanDriverOptions = {},
): Promise<StrongswanTunnelDriver> {
  const unavailable = strongswanUnavailable();
  if (unavailable) throw new Error(unavailable);
  await removeStaleRuns();
  const state = createRunState();
  const network = new Network(state);
  const gateways = new Map<string, Gateway>();
  const workspaces = new Map<number, Replica[]>();
  const usedIps = new Set(gatewaySpecs.map((g) => g.publicIp));
  let closed = false;

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
    for (const gateway of started) gateways.set(gateway.spec.publicIp, gateway);
  } catch (error) {
    await removeRun(state.dir);
    throw error;
  }

  function allocateIp(): string {
    const base = parseIpv4('198.51.100.0') ?? 0;
    for (let host = 10; host < 254; host++) {
      const ip = formatIpv4(base + host);
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
    throw new Error('strongswan driver: no free replica address left in 198.51.100.0/24');
  }

  /** Whatever answers at the peer IP is the gateway (the emulator's own match is not needed). */
  function gatewayFor(config: VpnConfig): Gateway | undefined {
    return gateways.get(config.peerIp);
  }

  function stateOf(replica: Replica): TunnelState {
    if (replica.phase === 'stopped') {
      return {
        state: 'down',
        reason: 'stopped',
        detail: replica.error ? `could not start: ${replica.error}` : 'tunnel stopped',
      };
    }
    if (replica.phase === 'restarting') return { state: 'restarting' };
    if (replica.up) return { state: 'up', virtualIp: replica.up.virtualIp, since: replica.up.since };
    if (replica.phase === 'starting') return { state: 'connecting' };
    const failure = combine(replica.attempt.failure, replica.gateway?.hints.get(replica.ip));
    if (failure) return { state: 'down', reason: failure.reason, detail: failure.detail };
    if (replica.instance?.exited) return { state: 'down', reason: 'stopped', detail: 'charon exited' };
    return { state: 'connecting' };
  }

  async function refresh(replica: Replica): Promise<void> {
    const instance = replica.instance;
    if (!instance) return;
    let sas: ViciSection[];
    try {
      sas = await instance.vici.stream('list-sas', 'list-sa');
    } catch {
      return; // the daemon is going away; its next start refreshes again
    }
    if (replica.instance !== instance) return;
    let up: Replica['up'];
    for (const item of sas) {
      for (const ike of Object.values(item)) {
        if (typeof ike !== 'object' || Array.isArray(ike)) continue;
        const vips = ike['local-vips'];
        const children = ike['child-sas'];
        if (!Array.isArray(vips) || !vips[0] || typeof children !== 'object' || Array.isArray(children))
          continue;
        for (const child of Object.values(children)) {
          if (typeof child !== 'object' || Array.isArray(child) || child.state !== 'INSTALLED') continue;
          const age = Number(child['install-time'] ?? 0);
          up = {
            virtualIp: vips[0],
            since: replica.up?.since ?? new Date(Date.now() - age * 1000).toISOString(),
          };
        }
      }
    }
    replica.up = up;
    if (up) replica.marks.up ??= performance.now();
    if (up) replica.attempt = freshAttempt();
  }

  function scheduleRefresh(replica: Replica): void {
    // one list-sas in flight at a time; a burst of events during it costs one more, not one each
    if (replica.refreshing) {
      replica.refreshAgain = true;
      return;
    }
    replica.refreshing = (async () => {
      do {
        replica.refreshAgain = false;
        await refresh(replica);
      } while (replica.refreshAgain);
      replica.refreshing = undefined;
    })();
  }

  async function startReplicaDaemon(replica: Replica): Promise<void> {
    const name = `w${replica.workspaceId}r${replica.replica}`;
    const instance = await startInstance(state, {
      name,
      netns: replica.netns,
      program: 'charon',
      retransmitTimeout: REPLICA_RETRANSMIT_TIMEOUT_S,
    });
    const events = await ViciClient.connect(instance.viciPath);
    replica.marks.daemon = performance.now();
    replica.instance = instance;
    replica.events = events;
    replica.attempt = freshAttempt();
    replica.up = undefined;
    replica.gateway?.hints.delete(replica.ip);
    events.onEvent((event, message) => {
      if (replica.instance !== instance) return;
      if (event === 'log' && typeof message.msg === 'string') {
        observeReplicaLog(replica.attempt, message.msg, replica.config.peerIp);
      } else if (event === 'ike-updown' || event === 'child-updown') {
        scheduleRefresh(replica);
      }
    });
    await Promise.all([
      events.register('log'),
      events.register('ike-updown'),
      events.register('child-updown'),
    ]);
    const secret = await instance.vici.request('load-shared', {
      id: 'gateway-psk',
      type: 'IKE',
      data: replica.config.psk,
      owners: [replica.config.peerIp],
    });
    if (secret.success !== 'yes')
      throw new Error(`load-shared failed in ${replica.netns}: ${JSON.stringify(secret.errmsg)}`);
    // start_action=start: loading the connection initiates it, asynchronously
    replica.phase = 'running';
    const loaded = await instance.vici.request('load-conn', replicaConnection(replica.config, replica.ip));
    if (loaded.success !== 'yes')
      throw new Error(`load-conn failed in ${replica.netns}: ${JSON.stringify(loaded.errmsg)}`);
    replica.marks.loaded = performance.now();
  }

  async function stopReplicaDaemon(replica: Replica): Promise<void> {
    const { instance, events } = replica;
    replica.instance = undefined;
    replica.events = undefined;
    replica.up = undefined;
    events?.close();
    await instance?.stop();
  }

  /** A replica's record, visible as `connecting` at once; `bringUpAll` makes its namespace and daemon. */
  function newReplica(
    workspaceId: number,
    index: number,
    config: VpnConfig,
    gateway: Gateway | undefined,
  ): Replica {
    return {
      workspaceId,
      replica: index,
      netns: `${state.prefix}w${workspaceId}r${index}`,
      ip: allocateIp(),
      config,
      gateway,
      phase: 'starting',
      attempt: freshAttempt(),
      marks: { start: performance.now() },
    };
  }

  /** Namespaces for all of them at once (batched), then each one's charon. */
  async function bringUpAll(replicas: Replica[]): Promise<void> {
    try {
      await network.addReplicas(replicas.map((r) => ({ netns: r.netns, ip: r.ip, peerIp: r.config.peerIp })));
      const ready = performance.now();
      for (const replica of replicas) replica.marks.namespace = ready;
    } catch (error) {
      await Promise.all(replicas.map((replica) => failed(replica, error)));
      throw error;
    }
    const results = await Promise.allSettled(
      replicas.map((replica) =>
        startReplicaDaemon(replica).catch((error: unknown) => failed(replica, error, true)),
      ),
    );
    const rejected = results.find((result) => result.status === 'rejected');
    if (rejected)
      throw rejected.reason instanceof Error ? rejected.reason : new Error(String(rejected.reason));
  }

  /** A replica that could not start: remove what exists of it, keep it listed as down with the reason. */
  async function failed(replica: Replica, error: unknown, rethrow = false): Promise<void> {
    await removeReplica(replica);
    replica.error = error instanceof Error ? error.message : String(error);
    if (rethrow) throw error;
  }

  async function removeReplica(replica: Replica): Promise<void> {
    if (replica.removed) return; // a failed start already removed it; its address may be in use again
    replica.removed = true;
    replica.phase = 'stopped';
    await stopReplicaDaemon(replica);
    await network.remove(replica.netns);
    usedIps.delete(replica.ip);
  }

  async function disconnect(workspaceId: number): Promise<void> {
    const replicas = workspaces.get(workspaceId) ?? [];
    workspaces.delete(workspaceId);
    await Promise.all(replicas.map(removeReplica));
  }

  async function connect(workspaceId: number, replicas: number, config: VpnConfig): Promise<void> {
    if (workspaces.has(workspaceId)) await disconnect(workspaceId);
    const gateway = gatewayFor(config);
    const list = Array.from({ length: replicas }, (_, index) =>
      newReplica(workspaceId, index, config, gateway),
    );
    workspaces.set(workspaceId, list);
    await bringUpAll(list);
  }

  /** Restarts each replica's daemon with the new config; same namespace, address and identity. */
  async function restart(workspaceId: number, replicas: number, config: VpnConfig): Promise<void> {
    const current = workspaces.get(workspaceId);
    if (!current) return connect(workspaceId, replicas, config);
    const gateway = gatewayFor(config);
    const keep = current.slice(0, replicas);
    const extra = current.slice(replicas);
    await Promise.all(extra.map(removeReplica));
    current.length = keep.length;
    await Promise.all(
      keep.map(async (replica) => {
        replica.phase = 'restarting';
        replica.marks = { start: performance.now(), namespace: performance.now() };
        await stopReplicaDaemon(replica);
        replica.config = config;
        replica.gateway = gateway;
        try {
          if (!onInternet(config.peerIp)) {
            await run('ip', ['-n', replica.netns, 'route', 'replace', `${config.peerIp}/32`, 'dev', 'pub0']);
          }
          await startReplicaDaemon(replica);
        } catch (error) {
          replica.phase = 'stopped'; // shows as down instead of restarting forever
          throw error;
        }
      }),
    );
    const added = Array.from({ length: replicas - keep.length }, (_, i) =>
      newReplica(workspaceId, keep.length + i, config, gateway),
    );
    current.push(...added);
    await bringUpAll(added);
  }

  /** One operation per workspace at a time: a restart never races the connect it follows. */
  const queues = new Map<number, Promise<void>>();
  function serial(workspaceId: number, operation: () => Promise<void>): Promise<void> {
    if (closed) return Promise.reject(new Error('strongswan driver is closed'));
    const previous = queues.get(workspaceId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    queues.set(workspaceId, next);
    const forget = () => {
      if (queues.get(workspaceId) === next) queues.delete(workspaceId);
    };
    next.then(forget, forget);
    return next;
  }

  const driver: StrongswanTunnelDriver = {
    kind: 'strongswan',
    prefix: state.prefix,
    stateDir: state.dir,

    // the emulator's gateway match is not passed on: whatever answers at the peer IP is the gateway
    connect: (workspaceId, replicas, config) =>
      serial(workspaceId, () => connect(workspaceId, replicas, config)),

    restart: (workspaceId, replicas, config) =>
      serial(workspaceId, () => restart(workspaceId, replicas, config)),

    // after close() everything is gone already
    disconnect: (workspaceId) =>
      closed ? Promise.resolve() : serial(workspaceId, () => disconnect(workspaceId)),

    tunnels(workspaceId): ReplicaTunnel[] {
      return (workspaces.get(workspaceId) ?? []).map((replica) => ({
        workspaceId,
        replica: replica.replica,
        vpnConfig: replica.config.name,
        tunnel: stateOf(replica),
      }));
    },

    async probe(workspaceId, index, target): Promise<ProbeResult> {
      const replica = workspaces.get(workspaceId)?.[index];
      if (!replica) return { ok: false, output: `no replica ${index} in workspace ${workspaceId}\n` };
      return probeFrom(replica.netns, target);
    },

    replicaNamespace: (workspaceId, index) => workspaces.get(workspaceId)?.[index]?.netns,

    replicaTimings: (workspaceId) =>
      (workspaces.get(workspaceId) ?? []).map(({ replica, marks }) => {
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
      for (const gateway of gateways.values()) {
        const charon = Number(readOr(`${gateway.instance.dir}/run/charon.pid`, '0'));
        result.gateways[gateway.spec.name] = [gateway.instance.pid, ...(charon ? [charon] : [])];
      }
      for (const replicas of workspaces.values()) {
        for (const replica of replicas) {
          if (replica.instance)
            result.replicas[`w${replica.workspaceId}r${replica.replica}`] = replica.instance.pid;
        }
      }
      return result;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...queues.values()].map((queued) => queued.catch(() => undefined)));
      await Promise.all([...workspaces.keys()].map(disconnect));
      await Promise.all(
        [...gateways.values()].map(async (gateway) => {
          gateway.events.close();
          await gateway.instance.stop();
          await Promise.all(gateway.listenerPids.map((pid) => stopProcess(pid, gateway.lanNetns, 1000)));
        }),
      );
      await removeRun(state.dir);
    },
  };
  return driver;
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

async function startGateway(
  state: RunState,
  network: Network,
  spec: GatewaySpec,
  index: number,
  format: 'ipsec.conf' | 'swanctl.conf',
  editFiles: NonNullable<StrongswanDriverOptions['editGatewayFiles']>,
): Promise<Gateway> {
  const netns = `${state.prefix}gw${index}`;
  const lanNetns = `${state.prefix}lan${index}`;
  await network.addGateway(netns, lanNetns, spec.publicIp, spec.subnets, spec.hosts);
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
  const { ipsecConf, ipsecSecrets } = renderIpsecConf(side, { left: spec.publicIp });
  const instance = await startInstance(state, {
    name: `gw-${spec.name.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    netns,
    program: format === 'ipsec.conf' ? 'starter' : 'charon',
    etcFiles: editFiles(
      format === 'ipsec.conf'
        ? { 'ipsec.conf': ipsecConf, 'ipsec.secrets': ipsecSecrets }
        : { 'swanctl.conf': renderSwanctlConf(side) },
      spec,
    ),
  });
  const listenerPids: number[] = [];
  try {
    if (format === 'ipsec.conf') {
      // starter hands the conn to charon over stroke a moment after charon is up
      const loaded = await waitFor(
        () => readOr(instance.logPath, '').includes('added configuration'),
        10_000,
      );
      if (!loaded)
        throw new Error(`gateway ${spec.name}: charon never loaded ipsec.conf (see ${instance.logPath})`);
    } else {
      // exactly what an administrator runs: swanctl reading the printed file
      const loaded = await run('swanctl', [
        '--load-all',
        '--noprompt',
        '--file',
        `${instance.dir}/etc/swanctl.conf`,
        '--uri',
        `unix://${instance.viciPath}`,
      ]);
      if (loaded.code !== 0) {
        throw new Error(
          `gateway ${spec.name}: swanctl --load-all failed: ${(loaded.stdout + loaded.stderr).trim()}`,
        );
      }
    }
    const events = await ViciClient.connect(instance.viciPath);
    const hints = new Map<string, GatewayHint>();
    events.onEvent((event, message) => {
      if (event !== 'log' || typeof message.msg !== 'string') return;
      const found = gatewayHint(message.msg, spec.name);
      if (found) hints.set(found.peer, found.hint);
    });
    await events.register('log');
    for (const host of spec.hosts) {
      const [address, port] = host.split(':');
      if (!address || !port) continue;
      const child = spawn('ip', ['netns', 'exec', lanNetns, 'nc', '-dlk', address, port], {
        detached: true,
        stdio: 'ignore',
      });
      if (child.pid !== undefined) {
        state.recordPid(child.pid, lanNetns);
        listenerPids.push(child.pid);
      }
      child.unref();
    }
    return { spec, netns, lanNetns, instance, events, hints, listenerPids };
  } catch (error) {
    await instance.stop();
    throw error;
  }
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
