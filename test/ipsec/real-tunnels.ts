/**
 * Shared by the real-driver tests and the benchmark: the seed's gateways and VPN configs, whether
 * the real driver can run here, and a continuous ping that reports the longest gap between replies.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { GatewaySpec, VpnConfig } from '../../emulator/tunnels/driver.js';
import { strongswanUnavailable } from '../../emulator/tunnels/strongswan/index.js';

/** The default seed's gateways (emulator/seeds/default.yaml). */
export const hq: GatewaySpec = {
  name: 'hq',
  publicIp: '198.51.100.1',
  ikeVersion: 'ikev1',
  psk: 'office-psk-7f3a9c2e',
  ikeProposals: ['aes256-sha256-modp2048'],
  espProposals: ['aes256-sha256-modp2048'],
  pool: '10.200.0.0/24',
  subnets: ['10.250.0.0/24'],
  hosts: ['10.250.0.5', '10.250.0.7:5432'],
};
export const lab: GatewaySpec = {
  name: 'lab',
  publicIp: '198.51.100.2',
  ikeVersion: 'ikev2',
  psk: 'lab-psk-41d08b6e',
  ikeProposals: ['aes256-sha256-modp2048'],
  espProposals: ['aes256-sha256-modp2048'],
  pool: '10.201.0.0/24',
  subnets: ['10.251.0.0/24'],
  hosts: ['10.251.0.5'],
};

/** The default seed's VPN configs of "My Team". */
export const office: VpnConfig = {
  name: 'office',
  ikeVersion: 'ikev1',
  psk: 'office-psk-7f3a9c2e',
  ikeProposal: 'aes256-sha256-modp2048',
  espProposal: 'aes256-sha256-modp2048',
  ikeLifetime: 28800,
  espLifetime: 3600,
  peerIp: '198.51.100.1',
  peerSubnets: ['10.250.0.0/24'],
};
export const labConfig: VpnConfig = {
  ...office,
  name: 'lab',
  ikeVersion: 'ikev2',
  psk: 'lab-psk-41d08b6e',
  peerIp: '198.51.100.2',
  peerSubnets: ['10.251.0.0/24'],
};
export const officeWrongPsk: VpnConfig = { ...office, name: 'office-wrong-psk', psk: 'not-the-office-psk' };
export const officeBadProposal: VpnConfig = {
  ...office,
  name: 'office-bad-proposal',
  espProposal: 'aes128-sha1-modp1024',
};

/**
 * undefined when the real driver can run; otherwise why not. In CI (CI=true) as root the tests
 * must not skip: the caller turns a reason into a failure there.
 */
export function realDriverSkipReason(): string | undefined {
  return strongswanUnavailable();
}

export const mustRunReal = process.env.CI === 'true' && process.getuid?.() === 0;

export interface GapReport {
  replies: number;
  sent: number;
  /** Longest time between two consecutive echo replies, in seconds. */
  longestGapS: number;
}

/**
 * A ping every `intervalS` from inside `netns` for `durationS` seconds while `during` runs;
 * `ping -D` timestamps each reply, so the gap is measured by the kernel clock, not by us.
 */
export async function pingDuring(
  netns: string,
  target: string,
  durationS: number,
  during: () => Promise<void>,
  intervalS = 0.02,
): Promise<GapReport> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'ping',
      '-n',
      '-D',
      '-i',
      String(intervalS),
      '-W',
      '1',
      '-w',
      String(durationS),
      target,
    ],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await during();
  await exited;
  const times = [...output.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]));
  let longestGapS = 0;
  for (let i = 1; i < times.length; i++)
    longestGapS = Math.max(longestGapS, (times[i] ?? 0) - (times[i - 1] ?? 0));
  const sent = Number(/(\d+) packets transmitted/.exec(output)?.[1] ?? 0);
  return { replies: times.length, sent, longestGapS };
}

/** Namespaces and state directories of a driver run that still exist (should be none after close). */
export function leftovers(prefix: string, stateDir: string): string[] {
  const namespaces = fs.existsSync('/run/netns')
    ? fs.readdirSync('/run/netns').filter((n) => n.startsWith(prefix))
    : [];
  return [...namespaces, ...(fs.existsSync(stateDir) ? [stateDir] : [])];
}

export function processAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
