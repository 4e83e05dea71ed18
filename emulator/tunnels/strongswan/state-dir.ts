/**
 * Everything the real driver creates is recorded under one state directory
 * (/tmp/codesphere-emulator-ipsec/<runId>/: run.json with owner and prefix, `namespaces`, `pids`,
 * and one directory per charon), so a later run removes what a crashed run left without guessing.
 * Processes are stopped by recorded PID only, after checking that the PID is still one of the
 * driver's programs in one of the run's namespaces (PIDs get reused). Namespace names all begin
 * with `csip<runId>-`, so nothing else on the machine is touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, sleep } from './exec.js';

export const STATE_ROOT = '/tmp/codesphere-emulator-ipsec';
export const NETNS_PREFIX = 'csip';
const RUN_ID = /^[0-9a-f]{6}$/;

/** Programs the driver starts; nothing else is ever signalled. */
const OUR_PROGRAMS = new Set([
  '/usr/lib/ipsec/charon',
  '/usr/lib/ipsec/starter',
  '/usr/bin/ping',
  '/usr/bin/nc.openbsd',
  '/bin/nc.openbsd',
]);

export interface RunState {
  runId: string;
  dir: string;
  /** Namespace name prefix, e.g. "csip3fa2c1-". */
  prefix: string;
  recordNamespace(name: string): void;
  recordPid(pid: number, netns: string): void;
}

export function createRunState(): RunState {
  const runId = randomBytes(3).toString('hex');
  const dir = path.join(STATE_ROOT, runId);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ ownerPid: process.pid, startedAt: new Date().toISOString() }),
  );
  return {
    runId,
    dir,
    prefix: `${NETNS_PREFIX}${runId}-`,
    recordNamespace: (name) => fs.appendFileSync(path.join(dir, 'namespaces'), `${name}\n`),
    recordPid: (pid, netns) => fs.appendFileSync(path.join(dir, 'pids'), `${pid} ${netns}\n`),
  };
}

function inode(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** True when `pid` runs one of our programs inside namespace `netns` (compared by inode, no spawn). */
export function isOurProcess(pid: number, netns: string): boolean {
  let exe: string;
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return false;
  }
  if (!OUR_PROGRAMS.has(exe)) return false;
  const want = inode(`/run/netns/${netns}`);
  return want !== undefined && want === inode(`/proc/${pid}/ns/net`);
}

/** SIGTERM (charon then sends IKE DELETEs and removes its TUN device), SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, netns: string, graceMs = 3000): Promise<void> {
  if (!alive(pid) || !isOurProcess(pid, netns)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      if (isOurProcess(pid, netns)) process.kill(pid, 'SIGKILL');
      await sleep(50);
      return;
    }
    await sleep(10);
  }
}

/** PIDs of our programs living in a namespace (found through /proc; used for helpers like ping). */
export function pidsInNamespace(netns: string): number[] {
  const want = inode(`/run/netns/${netns}`);
  if (want === undefined) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (inode(`/proc/${entry}/ns/net`) === want && isOurProcess(Number(entry), netns))
      pids.push(Number(entry));
  }
  return pids;
}

export async function deleteNamespace(name: string): Promise<void> {
  if (!name.startsWith(NETNS_PREFIX) || !fs.existsSync(`/run/netns/${name}`)) return;
  await Promise.all(pidsInNamespace(name).map((pid) => stopProcess(pid, name, 1000)));
  await run('ip', ['netns', 'del', name]);
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Removes one run's processes, namespaces and files. */
export async function removeRun(dir: string): Promise<void> {
  const pids = readLines(path.join(dir, 'pids')).map((line) => line.split(' '));
  await Promise.all(
    pids.map(([pid, netns]) => (pid && netns ? stopProcess(Number(pid), netns) : Promise.resolve())),
  );
  const namespaces = [...new Set(readLines(path.join(dir, 'namespaces')))];
  await Promise.all(namespaces.map(deleteNamespace));
  fs.rmSync(dir, { recursive: true, force: true });
}

function ownerAlive(dir: string): boolean {
  try {
    const { ownerPid } = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as {
      ownerPid: number;
    };
    if (ownerPid === process.pid) return true;
    return alive(ownerPid) && fs.readlinkSync(`/proc/${ownerPid}/exe`).includes('node');
  } catch {
    return false;
  }
}

/**
 * The cleanup pass at start: runs whose owning process is gone are removed, and so are namespaces
 * with our prefix that no live run claims (a crash between `ip netns add` and recording it).
 * Runs owned by another live process (a second emulator, a parallel test file) are left alone.
 */
export async function removeStaleRuns(): Promise<string[]> {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(STATE_ROOT);
  } catch {
    entries = [];
  }
  const live = new Set<string>();
  for (const entry of entries) {
    const dir = path.join(STATE_ROOT, entry);
    if (!RUN_ID.test(entry)) continue;
    if (ownerAlive(dir)) {
      live.add(entry);
      continue;
    }
    await removeRun(dir);
    removed.push(entry);
  }
  const orphans = (fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : []).filter(
    (name) =>
      name.startsWith(NETNS_PREFIX) && !live.has(name.slice(NETNS_PREFIX.length, NETNS_PREFIX.length + 6)),
  );
  await Promise.all(orphans.map(deleteNamespace));
  return [...removed, ...orphans];
}
