/**
 * Lost probes during a VPN switch, against real strongSwan tunnels: the default in-place
 * switch (PATCH vpnConfig: the same workspace's charons restart) vs `vpnSwitch: zero-downtime` (a
 * second workspace on the new config, checked, then the old one deleted and the name moved).
 * Prints, per mode: probes sent, lost, longest gap between answered probes, switch duration.
 * Prints figures, asserts nothing; skips with a message without root or strongSwan.
 * `test/ipsec/vpn-switch.test.ts` asserts on the same measurement.
 *
 *   npx tsx test/bench/vpn-switch.bench.ts
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleReporter } from '../../shared/ci/console-reporter.js';
import { deploy, type CoreDeps, type DeployResult, type JobInput } from '../../shared/index.js';
import { HANDOVER_DRAIN_MS } from '../../shared/workflow/apply/zero-downtime.js';
import { startEmulator, type RunningEmulator } from '../../emulator/index.js';
import { pingOnce } from '../../emulator/tunnels/strongswan/network.js';
import {
  strongswanUnavailable,
  type StrongswanTunnelDriver,
} from '../../emulator/tunnels/strongswan/index.js';

export type SwitchMode = 'in-place' | 'zero-downtime';

/** The default seed's names (emulator/seeds/default.yaml): office reaches hq's LAN, lab reaches lab's. */
const TEAM_ID = 101;
const FROM = 'office';
const TO = 'lab';
/** The private host each VPN config routes to: a probe always aims at the current config's host. */
const HOST_BEHIND: Record<string, string> = { office: '10.250.0.5', lab: '10.251.0.5' };
const REPLICAS = 2;
/** One probe every 20 ms (the ipsec bench's ping stream uses the same rate). */
const PROBE_PERIOD_MS = 20;
/** An echo not answered within this counts as lost (a healthy round trip here is well under 10 ms). */
const PROBE_TIMEOUT_S = 0.5;
/** Probing runs this long before the switch starts and after it is over (tunnels settled). */
const STEADY_MS = 300;
const MAX_IN_FLIGHT = 4;

/** Fast emulator stages: the switch duration is then tunnels + API work, not Codesphere's provisioning. */
export const SWITCH_TIMING = { provisioningMs: 50, stageQueueMs: 10, stageMs: 50, latencyMs: 0 };

export interface LostProbe {
  /** ms since probing started */
  atMs: number;
  /** Wall clock (Date.now) when the probe looked the name up, and when it gave up. */
  startedAt: number;
  endedAt: number;
  workspaceId: number | undefined;
  target: string | undefined;
  why: string;
}

export interface SwitchMeasurement {
  mode: SwitchMode;
  probes: number;
  lost: number;
  lostProbes: LostProbe[];
  /** Longest time between two answered probes (or from the last answer to the end), ms. */
  longestGapMs: number;
  /** The second deploy() call (the switch, vpnCheck included), ms. */
  switchMs: number;
  /**
   * Samples (every 5 ms, in process) of the workspace holding the name in which none of its
   * replicas had an up tunnel: the in-place restart shows here whatever the probes caught.
   */
  samplesWithoutUpTunnel: number;
  /** Samples in which no workspace held the name at all. */
  samplesWithoutWorkspace: number;
  fromWorkspaceId: number;
  toWorkspaceId: number;
  /**
   * Zero-downtime only: from the old workspace's DELETE to the end of the rename that gives the
   * new one the name (wall clock, from the emulator's request log). Nobody holds the name in
   * between, and the old workspace's tunnels are already being torn down.
   */
  handover?: { startedAt: number; endedAt: number } | undefined;
  /** Lost probes that overlapped the handover (all others were lost elsewhere). */
  lostAtHandover: number;
}

/**
 * The core's log of one deploy, kept in memory (redacted like a CI log): silent while it works,
 * quoted when the deploy fails so the failure says what the core saw.
 */
async function deployLogged(input: JobInput, deps: Partial<CoreDeps>): Promise<DeployResult> {
  const lines: string[] = [];
  const reporter = new ConsoleReporter({ stdout: { write: (text: string) => lines.push(text) } });
  try {
    return await deploy(input, reporter, deps);
  } catch (error) {
    const log = lines.join('').trimEnd().split('\n').slice(-15).join('\n');
    throw new Error(
      `deploy with vpnConfig ${input.vpnConfig ?? '(none)'} failed; the core's log ended:\n${log}`,
      {
        cause: error,
      },
    );
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ListedWorkspace {
  id: number;
  name: string;
  vpnConfig: string | null;
}

/**
 * One VPN switch office -> lab of a 2-replica preview, with a client probing it throughout.
 *
 * The prober, each round: looks the preview up by its name through the Public API (as the next
 * deploy and any name-following client do; lowest id wins, like the core), takes the host that
 * workspace's *current* VPN config routes to, and sends ONE echo from inside one of its replicas
 * (round-robin over the replicas, as a load balancer would spread requests). The echo is sent
 * from the replica's network namespace, which is exactly where `execute`'s ping runs, but not
 * through `execute`: the driver's probe behind `execute` sends 3 echoes 0.2 s apart and succeeds
 * if any is answered, so one execute call spans ~0.4 s and would hide an interruption shorter
 * than that (the in-place restart takes about 0.2 s). One echo per 20 ms resolves it.
 * While the name is between holders (a zero-downtime handover takes two renames, since names are
 * unique per team) the client keeps the workspace it resolved last, as a client caching a DNS
 * answer does. A round that has no workspace at all, or whose replica no longer exists, is lost:
 * the client would have had nothing to talk to.
 */
export async function measureSwitch(
  em: RunningEmulator,
  mode: SwitchMode,
  changeNumber: number,
): Promise<SwitchMeasurement> {
  const driver = em.driver as StrongswanTunnelDriver;
  const input = (vpnConfig: string): JobInput => ({
    apiUrl: em.url,
    apiToken: em.apiToken,
    team: 'My Team',
    plan: 'Boost',
    platform: 'github',
    repository: 'acme/shop',
    gitUrl: 'https://github.com/acme/shop.git',
    branch: 'feature/vpn',
    changeNumber: String(changeNumber),
    replicas: String(REPLICAS),
    vpnConfig,
    vpnCheck: HOST_BEHIND[vpnConfig],
    vpnSwitch: mode,
  });
  // Real time; the core's polling sleeps are capped so they do not dominate the switch duration.
  // The handover drain is not a poll but the switch's own mechanism (clients finish with the old
  // workspace before it is deleted), so it keeps its real length.
  const deps = {
    clock: {
      sleep: (ms: number) => sleep(ms === HANDOVER_DRAIN_MS ? ms : Math.min(ms, 50)),
      now: () => Date.now(),
    },
    userAgent: 'codesphere-deploy-bench',
  };

  const first = await deployLogged(input(FROM), deps);
  const name = first.name;

  const listNamed = async (): Promise<ListedWorkspace | undefined> => {
    const response = await fetch(`${em.url}/api/workspaces/team/${TEAM_ID}`, {
      headers: { authorization: `Bearer ${em.apiToken}` },
    });
    if (!response.ok) throw new Error(`listing workspaces: HTTP ${response.status}`);
    const list = (await response.json()) as ListedWorkspace[];
    return list.filter((w) => w.name === name).sort((a, b) => a.id - b.id)[0];
  };

  // In-process tunnel sampler: reads the emulator's state directly, no I/O, every 5 ms.
  let samplesWithoutUpTunnel = 0;
  let samplesWithoutWorkspace = 0;
  const sampler = setInterval(() => {
    const holder = [...em.world.workspaces.values()]
      .filter((w) => w.name === name)
      .sort((a, b) => a.id - b.id)[0];
    if (!holder) samplesWithoutWorkspace++;
    else if (!driver.tunnels(holder.id).some((t) => t.tunnel.state === 'up')) samplesWithoutUpTunnel++;
  }, 5);

  const started = performance.now();
  const since = () => performance.now() - started;
  const answered: number[] = [];
  const lostProbes: LostProbe[] = [];
  let probes = 0;

  /** One client request: resolve the name, then one echo to the current config's host. */
  let lastResolved: ListedWorkspace | undefined;
  const probe = async (round: number): Promise<void> => {
    const startedAt = Date.now();
    const holder = (await listNamed()) ?? lastResolved;
    lastResolved = holder;
    const target = holder?.vpnConfig ? HOST_BEHIND[holder.vpnConfig] : undefined;
    const netns = holder ? driver.replicaNamespace(holder.id, round % REPLICAS) : undefined;
    let why: string | undefined;
    if (!holder) why = `no workspace named ${name}`;
    else if (!target) why = `workspace on VPN config ${holder.vpnConfig ?? '(none)'}`;
    else if (!netns) why = `replica ${round % REPLICAS} has no namespace`;
    else if (!(await pingOnce(netns, target, PROBE_TIMEOUT_S))) why = 'echo not answered';
    if (why === undefined) answered.push(since());
    else
      lostProbes.push({
        atMs: since(),
        startedAt,
        endedAt: Date.now(),
        workspaceId: holder?.id,
        target,
        why,
      });
  };
  // A probe starts every PROBE_PERIOD_MS whether or not the previous one has answered (a client
  // does not wait for another user's request), with at most MAX_IN_FLIGHT outstanding.
  const inFlight = new Set<Promise<void>>();
  let round = 0;
  const ticker = setInterval(() => {
    if (inFlight.size >= MAX_IN_FLIGHT) return;
    probes++;
    const running = probe(round++).finally(() => inFlight.delete(running));
    inFlight.add(running);
  }, PROBE_PERIOD_MS);

  let switchMs: number;
  let second: DeployResult;
  try {
    await sleep(STEADY_MS);
    const switchStart = performance.now();
    second = await deployLogged(input(TO), deps);
    switchMs = performance.now() - switchStart;
    // vpnCheck passed on every replica already; a last look that every tunnel is up, then steady state.
    await driver.settled(second.workspaceId, 15_000);
    await sleep(STEADY_MS);
  } finally {
    clearInterval(ticker);
    await Promise.all(inFlight);
    clearInterval(sampler);
  }
  const end = since();
  const handover = mode === 'zero-downtime' ? handoverWindow(em, first.workspaceId) : undefined;
  const lostAtHandover = lostProbes.filter((p) => overlapsHandover(p, handover)).length;

  let longestGapMs = 0;
  let previous = 0;
  for (const at of [...answered, end]) {
    longestGapMs = Math.max(longestGapMs, at - previous);
    previous = at;
  }

  // Leave the emulator as found: delete the preview, wait for its tunnels to be gone.
  const response = await fetch(`${em.url}/api/workspaces/${second.workspaceId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${em.apiToken}` },
  });
  if (!response.ok) throw new Error(`deleting workspace ${second.workspaceId}: HTTP ${response.status}`);
  await em.world.settle();

  return {
    mode,
    probes,
    lost: lostProbes.length,
    lostProbes,
    longestGapMs,
    switchMs,
    samplesWithoutUpTunnel,
    samplesWithoutWorkspace,
    fromWorkspaceId: first.workspaceId,
    toWorkspaceId: second.workspaceId,
    handover,
    lostAtHandover,
  };
}

/** Whether a probe was under way (from its name lookup to its answer or timeout) during the handover. */
export function overlapsHandover(
  probe: Pick<LostProbe, 'startedAt' | 'endedAt'>,
  handover: SwitchMeasurement['handover'],
): boolean {
  return handover !== undefined && probe.startedAt <= handover.endedAt && probe.endedAt >= handover.startedAt;
}

/** From the old workspace giving up the name to its deletion (the new one is named in between). */
function handoverWindow(em: RunningEmulator, fromId: number): SwitchMeasurement['handover'] {
  const log = em.requestLog();
  const steppedAside = log.find((e) => e.method === 'PATCH' && e.path === `/api/workspaces/${fromId}`);
  const deleted = log.find((e) => e.method === 'DELETE' && e.path === `/api/workspaces/${fromId}`);
  if (!steppedAside || !deleted) return undefined;
  return { startedAt: Date.parse(steppedAside.at), endedAt: Date.parse(deleted.at) + deleted.durationMs };
}

export function describeMeasurement(m: SwitchMeasurement): string {
  const lost = m.lostProbes.map((p) => `${p.atMs.toFixed(0)} ms ${p.target ?? '-'}: ${p.why}`);
  return (
    `${m.mode.padEnd(13)} probes ${m.probes}, lost ${m.lost}` +
    (m.handover ? ` (${m.lostAtHandover} at the handover)` : '') +
    `, longest gap ${m.longestGapMs.toFixed(0)} ms, ` +
    `switch ${m.switchMs.toFixed(0)} ms (workspace ${m.fromWorkspaceId} -> ${m.toWorkspaceId})` +
    (lost.length > 0 ? `\n    lost: ${lost.slice(0, 6).join('; ')}${lost.length > 6 ? '; ...' : ''}` : '')
  );
}

const ROUNDS = 3;

async function main(): Promise<void> {
  const unavailable = strongswanUnavailable();
  if (unavailable) {
    console.log(`vpn-switch bench: skipped (${unavailable})`);
    return;
  }
  console.log(
    `vpn-switch bench: ${os.cpus().length} CPUs, load average ${os.loadavg()[0]?.toFixed(1) ?? '?'}; ` +
      `${FROM} -> ${TO}, ${REPLICAS} replicas, one echo every ${PROBE_PERIOD_MS} ms to the current config's host`,
  );
  const em = await startEmulator({ driver: 'strongswan', timing: SWITCH_TIMING, contract: 'off' });
  try {
    const results: SwitchMeasurement[] = [];
    let change = 1;
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['in-place', 'zero-downtime'] as const) {
        const m = await measureSwitch(em, mode, change++);
        results.push(m);
        console.log(`vpn-switch bench: ${describeMeasurement(m)}`);
      }
    }
    for (const mode of ['in-place', 'zero-downtime'] as const) {
      const of = results.filter((r) => r.mode === mode);
      const median = (pick: (r: SwitchMeasurement) => number) =>
        of.map(pick).sort((a, b) => a - b)[Math.floor(of.length / 2)] ?? NaN;
      console.log(
        `vpn-switch bench: ${mode.padEnd(13)} median of ${of.length}: probes ${median((r) => r.probes)}, ` +
          `lost ${median((r) => r.lost)} (max ${Math.max(...of.map((r) => r.lost))}), ` +
          `longest gap ${median((r) => r.longestGapMs).toFixed(0)} ms, switch ${median((r) => r.switchMs).toFixed(0)} ms`,
      );
    }
  } finally {
    await em.close();
  }
}

// Run as a script (run-all.ts, npx tsx); imported by the test, it only provides measureSwitch.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
