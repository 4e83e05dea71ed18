/**
 * The workspaces' replicas: connect (a namespace per replica, batched, then each one's charon),
 * restart with a new config (same namespace, address and identity), disconnect, and the address
 * plan (replicas take free addresses of the emulated internet, 198.51.100.0/24). Operations on
 * one workspace run one at a time (`serial`), so a restart never races the connect it follows.
 */
import type { VpnConfig } from '../driver.js';
import { freshAttempt } from './classify.js';
import { run } from './exec.js';
import type { Gateway } from './gateway.js';
import { onInternet, type Network } from './network.js';
import { startReplicaDaemon, stopReplicaDaemon, type Replica } from './replica.js';
import type { RunState } from './state-dir.js';
import { formatIpv4, parseIpv4 } from '../../../shared/gateway/ipv4.js';

export class WorkspaceTunnels {
  readonly byWorkspace = new Map<number, Replica[]>();
  private readonly usedIps: Set<string>;
  private readonly queues = new Map<number, Promise<void>>();
  closed = false;

  constructor(
    private readonly state: RunState,
    private readonly network: Network,
    /** By public IP: whatever answers at the peer IP is the gateway. */
    private readonly gateways: Map<string, Gateway>,
  ) {
    this.usedIps = new Set(gateways.keys());
  }

  /** One operation per workspace at a time; refused once the driver is closed. */
  serial(workspaceId: number, operation: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new Error('strongswan driver is closed'));
    const previous = this.queues.get(workspaceId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    this.queues.set(workspaceId, next);
    const forget = () => {
      if (this.queues.get(workspaceId) === next) this.queues.delete(workspaceId);
    };
    next.then(forget, forget);
    return next;
  }

  /** Waits for every queued operation (close uses it), ignoring their failures. */
  async drain(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queued) => queued.catch(() => undefined)));
  }

  async connect(workspaceId: number, replicas: number, config: VpnConfig): Promise<void> {
    if (this.byWorkspace.has(workspaceId)) await this.disconnect(workspaceId);
    const gateway = this.gateways.get(config.peerIp);
    const list = Array.from({ length: replicas }, (_, index) =>
      this.newReplica(workspaceId, index, config, gateway),
    );
    this.byWorkspace.set(workspaceId, list);
    await this.bringUpAll(list);
  }

  /** Restarts each replica's daemon with the new config; same namespace, address and identity. */
  async restart(workspaceId: number, replicas: number, config: VpnConfig): Promise<void> {
    const current = this.byWorkspace.get(workspaceId);
    if (!current) return this.connect(workspaceId, replicas, config);
    const gateway = this.gateways.get(config.peerIp);
    const keep = current.slice(0, replicas);
    const extra = current.slice(replicas);
    await Promise.all(extra.map((replica) => this.removeReplica(replica)));
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
          await startReplicaDaemon(this.state, replica);
        } catch (error) {
          replica.phase = 'stopped'; // shows as down instead of restarting forever
          throw error;
        }
      }),
    );
    const added = Array.from({ length: replicas - keep.length }, (_, i) =>
      this.newReplica(workspaceId, keep.length + i, config, gateway),
    );
    current.push(...added);
    await this.bringUpAll(added);
  }

  async disconnect(workspaceId: number): Promise<void> {
    const replicas = this.byWorkspace.get(workspaceId) ?? [];
    this.byWorkspace.delete(workspaceId);
    await Promise.all(replicas.map((replica) => this.removeReplica(replica)));
  }

  private allocateIp(): string {
    const base = parseIpv4('198.51.100.0') ?? 0;
    for (let host = 10; host < 254; host++) {
      const ip = formatIpv4(base + host);
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
    throw new Error('strongswan driver: no free replica address left in 198.51.100.0/24');
  }

  /** A replica's record, visible as `connecting` at once; `bringUpAll` makes its namespace and daemon. */
  private newReplica(
    workspaceId: number,
    index: number,
    config: VpnConfig,
    gateway: Gateway | undefined,
  ): Replica {
    return {
      workspaceId,
      replica: index,
      netns: `${this.state.prefix}w${workspaceId}r${index}`,
      ip: this.allocateIp(),
      config,
      gateway,
      phase: 'starting',
      attempt: freshAttempt(),
      marks: { start: performance.now() },
    };
  }

  /** Namespaces for all of them at once (batched), then each one's charon. */
  private async bringUpAll(replicas: Replica[]): Promise<void> {
    try {
      await this.network.addReplicas(
        replicas.map((r) => ({ netns: r.netns, ip: r.ip, peerIp: r.config.peerIp })),
      );
      const ready = performance.now();
      for (const replica of replicas) replica.marks.namespace = ready;
    } catch (error) {
      await Promise.all(replicas.map((replica) => this.failed(replica, error)));
      throw error;
    }
    const results = await Promise.allSettled(
      replicas.map((replica) =>
        startReplicaDaemon(this.state, replica).catch((error: unknown) => this.failed(replica, error, true)),
      ),
    );
    const rejected = results.find((result) => result.status === 'rejected');
    if (rejected)
      throw rejected.reason instanceof Error ? rejected.reason : new Error(String(rejected.reason));
  }

  /** A replica that could not start: remove what exists of it, keep it listed as down with the reason. */
  private async failed(replica: Replica, error: unknown, rethrow = false): Promise<void> {
    await this.removeReplica(replica);
    replica.error = error instanceof Error ? error.message : String(error);
    if (rethrow) throw error;
  }

  private async removeReplica(replica: Replica): Promise<void> {
    if (replica.removed) return; // a failed start already removed it; its address may be in use again
    replica.removed = true;
    replica.phase = 'stopped';
    await stopReplicaDaemon(replica);
    await this.network.remove(replica.netns);
    this.usedIps.delete(replica.ip);
  }
}
