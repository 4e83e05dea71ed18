/**
 * One workspace replica: its record, its charon's lifecycle (start over VICI with the workspace's
 * VPN config, stop), SA polling (`list-sas` on every up/down event, one in flight at a time) and
 * the tunnel state it shows.
 */
import type { TunnelState, VpnConfig } from '../driver.js';
import { combine, freshAttempt, observeReplicaLog, type Attempt } from './classify.js';
import { replicaConnection } from './config.js';
import type { Gateway } from './gateway.js';
import { startInstance, type Instance } from './instance.js';
import type { RunState } from './state-dir.js';
import { ViciClient, type ViciSection } from './vici.js';

/** Seconds to the first IKE retransmit on replicas: "gateway unreachable" shows after this. */
const REPLICA_RETRANSMIT_TIMEOUT_S = 1;

export interface ReplicaMarks {
  start: number;
  namespace?: number;
  daemon?: number;
  loaded?: number;
  up?: number;
}

export interface Replica {
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

/** The tunnel state a replica shows: its phase, an installed SA, or the failure its logs reveal. */
export function stateOf(replica: Replica): TunnelState {
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

/**
 * The installed CHILD_SA with a virtual IP in a `list-sas` answer, or undefined. `since` keeps
 * the previous value while the tunnel stays up, else is its install time (`install-time` seconds ago).
 */
export function installedSa(
  sas: ViciSection[],
  previousSince: string | undefined,
): { virtualIp: string; since: string } | undefined {
  let up: { virtualIp: string; since: string } | undefined;
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
        up = { virtualIp: vips[0], since: previousSince ?? new Date(Date.now() - age * 1000).toISOString() };
      }
    }
  }
  return up;
}

/** Asks the replica's charon for its SAs and records whether the tunnel is up. */
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
  const up = installedSa(sas, replica.up?.since);
  replica.up = up;
  if (up) replica.marks.up ??= performance.now();
  if (up) replica.attempt = freshAttempt();
}

/** One list-sas in flight at a time; a burst of events during it costs one more, not one each. */
export function scheduleRefresh(replica: Replica): void {
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

/**
 * Starts the replica's charon in its namespace, follows its log and up/down events, and loads
 * the PSK and the connection (which initiates it). Throws when a VICI load is refused.
 */
export async function startReplicaDaemon(state: RunState, replica: Replica): Promise<void> {
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
  await Promise.all([events.register('log'), events.register('ike-updown'), events.register('child-updown')]);
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

/** Stops the replica's charon (its namespace stays). */
export async function stopReplicaDaemon(replica: Replica): Promise<void> {
  const { instance, events } = replica;
  replica.instance = undefined;
  replica.events = undefined;
  replica.up = undefined;
  events?.close();
  await instance?.stop();
}
