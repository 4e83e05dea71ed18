/**
 * A gateway's lifecycle: its namespace and private LAN behind it, its daemon (starter reading
 * ipsec.conf, or charon loaded with swanctl), the log hints it gives about peers, the LAN hosts'
 * TCP listeners, and stopping it all.
 */
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { GatewaySpec } from '../driver.js';
import { gatewayHint, type GatewayHint } from './classify.js';
import { gatewayFiles, type GatewayConfigFormat } from './config.js';
import { run, waitFor } from './exec.js';
import { startInstance, type Instance } from './instance.js';
import type { Network } from './network.js';
import { stopProcess, type RunState } from './state-dir.js';
import { ViciClient } from './vici.js';

export interface Gateway {
  spec: GatewaySpec;
  netns: string;
  lanNetns: string;
  instance: Instance;
  /** Event connection (gateway log lines). */
  events: ViciClient;
  hints: Map<string, GatewayHint>;
  listenerPids: number[];
}

/** Rewrites a gateway's files before its daemon reads them (see StrongswanDriverOptions). */
export type EditGatewayFiles = (files: Record<string, string>, spec: GatewaySpec) => Record<string, string>;

export function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Waits until the gateway's daemon holds its connection: starter's stroke, or swanctl --load-all. */
async function loadGatewayConfig(spec: GatewaySpec, instance: Instance, format: GatewayConfigFormat) {
  if (format === 'ipsec.conf') {
    // starter hands the conn to charon over stroke a moment after charon is up
    const loaded = await waitFor(() => readOr(instance.logPath, '').includes('added configuration'), 10_000);
    if (!loaded)
      throw new Error(`gateway ${spec.name}: charon never loaded ipsec.conf (see ${instance.logPath})`);
    return;
  }
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

/** The LAN hosts' TCP listeners (`address:port` entries of spec.hosts); returns their PIDs. */
function startListeners(state: RunState, spec: GatewaySpec, lanNetns: string): number[] {
  const listenerPids: number[] = [];
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
  return listenerPids;
}

/** Starts gateway number `index`: namespaces, daemon, config, log hints, LAN listeners. */
export async function startGateway(
  state: RunState,
  network: Network,
  spec: GatewaySpec,
  index: number,
  format: GatewayConfigFormat,
  editFiles: EditGatewayFiles,
): Promise<Gateway> {
  const netns = `${state.prefix}gw${index}`;
  const lanNetns = `${state.prefix}lan${index}`;
  await network.addGateway(netns, lanNetns, spec.publicIp, spec.subnets, spec.hosts);
  const instance = await startInstance(state, {
    name: `gw-${spec.name.replace(/[^A-Za-z0-9_-]/g, '_')}`,
    netns,
    program: format === 'ipsec.conf' ? 'starter' : 'charon',
    etcFiles: editFiles(gatewayFiles(spec, format), spec),
  });
  try {
    await loadGatewayConfig(spec, instance, format);
    const events = await ViciClient.connect(instance.viciPath);
    const hints = new Map<string, GatewayHint>();
    events.onEvent((event, message) => {
      if (event !== 'log' || typeof message.msg !== 'string') return;
      const found = gatewayHint(message.msg, spec.name);
      if (found) hints.set(found.peer, found.hint);
    });
    await events.register('log');
    const listenerPids = startListeners(state, spec, lanNetns);
    return { spec, netns, lanNetns, instance, events, hints, listenerPids };
  } catch (error) {
    await instance.stop();
    throw error;
  }
}

/** Stops the gateway's daemon and its LAN listeners (the namespaces go with the run). */
export async function stopGateway(gateway: Gateway): Promise<void> {
  gateway.events.close();
  await gateway.instance.stop();
  await Promise.all(gateway.listenerPids.map((pid) => stopProcess(pid, gateway.lanNetns, 1000)));
}

/** The gateway's daemon PIDs: starter (or charon) as spawned, plus charon from its pid file. */
export function gatewayPids(gateway: Gateway): number[] {
  const charon = Number(readOr(`${gateway.instance.dir}/run/charon.pid`, '0'));
  return [gateway.instance.pid, ...(charon ? [charon] : [])];
}
