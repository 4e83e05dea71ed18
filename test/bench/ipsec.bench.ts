/**
 * Real IPsec figures (strongswan driver): time from connect() to every replica's tunnel up for
 * 1, 2 and 8 replicas, time to the first ping crossing a tunnel, the in-place restart interruption
 * (longest gap in a 20 ms ping stream), and charon memory per replica. Prints figures, asserts
 * nothing. Skips with a message without root or strongSwan.
 *
 *   npx tsx test/bench/ipsec.bench.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import {
  createStrongswanDriver,
  strongswanUnavailable,
  type ReplicaTimings,
  type StrongswanTunnelDriver,
} from '../../emulator/tunnels/strongswan/index.js';
import { pingOnce } from '../../emulator/tunnels/strongswan/network.js';
import { hq, office, pingDuring } from '../ipsec/real-tunnels.js';

const ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function rssKb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

const fmt = (values: number[], unit = 'ms', digits = 0) =>
  `median ${median(values).toFixed(digits)} ${unit} (min ${Math.min(...values).toFixed(digits)}, max ${Math.max(...values).toFixed(digits)}, n=${values.length})`;

async function timeToUp(
  driver: StrongswanTunnelDriver,
  workspaceId: number,
  replicas: number,
): Promise<number> {
  const started = performance.now();
  await driver.connect(workspaceId, replicas, office, hq);
  const tunnels = await driver.settled(workspaceId, 30_000);
  const elapsed = performance.now() - started;
  const notUp = tunnels.filter((t) => t.tunnel.state !== 'up');
  if (notUp.length > 0) throw new Error(`tunnels not up: ${JSON.stringify(notUp)}`);
  return elapsed;
}

/** Per phase, the slowest replica of each run (what "every tunnel up" waits for). */
const phases = { namespace: [] as number[], daemon: [] as number[], negotiation: [] as number[] };
function recordPhases(driver: StrongswanTunnelDriver, workspaceId: number): void {
  const timings = driver.replicaTimings(workspaceId);
  const worst = (pick: (t: ReplicaTimings) => number | undefined) =>
    Math.max(...timings.map((t) => pick(t) ?? NaN));
  phases.namespace.push(worst((t) => t.namespaceMs));
  phases.daemon.push(worst((t) => (t.daemonMs ?? NaN) - (t.namespaceMs ?? NaN)));
  phases.negotiation.push(worst((t) => (t.upMs ?? NaN) - (t.loadedMs ?? NaN)));
}

async function main(): Promise<void> {
  const unavailable = strongswanUnavailable();
  if (unavailable) {
    console.log(`ipsec bench: skipped (${unavailable})`);
    return;
  }
  const load = () => os.loadavg()[0]?.toFixed(1) ?? '?';
  console.log(
    `ipsec bench: ${os.cpus().length} CPUs, load average ${load()} (figures grow with machine load)`,
  );
  const startedDriver = performance.now();
  const driver = await createStrongswanDriver([hq]);
  console.log(
    `ipsec bench: strongSwan driver with gateway hq ready in ${(performance.now() - startedDriver).toFixed(0)} ms`,
  );
  let nextId = 1;
  try {
    for (const replicas of [1, 2, 8]) {
      const samples: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const id = nextId++;
        samples.push(await timeToUp(driver, id, replicas));
        recordPhases(driver, id);
        await driver.disconnect(id);
      }
      console.log(`ipsec bench: connect -> all ${replicas} tunnel(s) up: ${fmt(samples)}`);
      console.log(
        `ipsec bench:   of which namespace ${median(phases.namespace).toFixed(0)} ms, charon start to VICI ready ${median(phases.daemon).toFixed(0)} ms, IKE + ESP + virtual IP ${median(phases.negotiation).toFixed(0)} ms (medians, slowest replica)`,
      );
      for (const list of Object.values(phases)) list.length = 0;
    }

    const firstPing: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const id = nextId++;
      const started = performance.now();
      await driver.connect(id, 1, office, hq);
      const netns = driver.replicaNamespace(id, 0) ?? '';
      for (;;) {
        // one echo at a time: without a tunnel there is no route and ping fails at once
        if (await pingOnce(netns, '10.250.0.5', 1)) break;
        if (performance.now() - started > 30_000) throw new Error('no ping within 30 s');
      }
      firstPing.push(performance.now() - started);
      await driver.disconnect(id);
    }
    console.log(`ipsec bench: connect -> first ping through the tunnel: ${fmt(firstPing)}`);

    const id = nextId++;
    await timeToUp(driver, id, 2);
    const gaps: number[] = [];
    const restarts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const netns = driver.replicaNamespace(id, 0) ?? '';
      const changed = { ...office, espLifetime: 3600 - 60 * (round + 1) };
      const report = await pingDuring(netns, '10.250.0.5', 3, async () => {
        const started = performance.now();
        await driver.restart(id, 2, changed, hq);
        await driver.settled(id, 30_000);
        restarts.push(performance.now() - started);
      });
      gaps.push(report.longestGapS * 1000);
    }
    console.log(
      `ipsec bench: in-place restart (VPN config change), restart() -> tunnels up: ${fmt(restarts)}`,
    );
    console.log(`ipsec bench: in-place restart, longest gap in a 20 ms ping stream: ${fmt(gaps)}`);

    const pids = driver.daemonPids();
    const replicaRss = Object.values(pids.replicas).map(rssKb);
    const gatewayRss = (pids.gateways.hq ?? []).map(rssKb);
    console.log(
      `ipsec bench: charon RSS per replica: ${fmt(
        replicaRss.map((kb) => kb / 1024),
        'MB',
        1,
      )}`,
    );
    console.log(
      `ipsec bench: gateway hq RSS: starter ${((gatewayRss[0] ?? NaN) / 1024).toFixed(1)} MB, charon ${((gatewayRss[1] ?? NaN) / 1024).toFixed(1)} MB`,
    );
  } finally {
    const started = performance.now();
    await driver.close();
    console.log(
      `ipsec bench: close() (every daemon and namespace removed) in ${(performance.now() - started).toFixed(0)} ms; load average now ${load()}`,
    );
  }
}

await main();
