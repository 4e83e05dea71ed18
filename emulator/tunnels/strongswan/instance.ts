/**
 * One strongSwan daemon inside one network namespace.
 *
 * charon's pid file path is compiled in (/run/charon.pid), so two charons in two namespaces
 * would refuse to start side by side. Each instance therefore runs in its own mount namespace
 * (`unshare -m`) with its own directory bind-mounted over /run (a directory, not a file: a bound
 * file pins the inode and later edits are silently ignored). The ipsec-lab measured this set-up.
 * ESP runs in userspace (kernel-libipsec over a TUN device) because many CI kernels lack ESP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { RunState } from './state-dir.js';
import { stopProcess } from './state-dir.js';
import { waitFor } from './exec.js';
import { ViciClient } from './vici.js';

export interface InstanceOptions {
  /** Folder name under the run directory. */
  name: string;
  netns: string;
  /** `starter` reads ipsec.conf (the user's gateway); `charon` is configured over VICI (replicas). */
  program: 'charon' | 'starter';
  /** Seconds before the first IKE retransmit (strongSwan default 4). */
  retransmitTimeout?: number;
  /** Extra files written into the instance's etc/ folder (ipsec.conf, ipsec.secrets). */
  etcFiles?: Record<string, string>;
}

export interface Instance {
  name: string;
  dir: string;
  netns: string;
  /** PID of the process we spawned (charon itself, or starter). */
  pid: number;
  viciPath: string;
  logPath: string;
  readonly exited: boolean;
  /** The daemon's VICI control connection (commands). */
  vici: ViciClient;
  stop(): Promise<void>;
}

function strongswanConf(dir: string, retransmitTimeout: number | undefined): string {
  return `# strongswan.conf of one emulator instance (handed to charon/starter via STRONGSWAN_CONF)
charon {
    load_modular = yes
    ${retransmitTimeout === undefined ? '' : `retransmit_timeout = ${retransmitTimeout}`}
    plugins {
        include /etc/strongswan.d/charon/*.conf
        stroke {
            secrets_file = ${dir}/etc/ipsec.secrets
        }
        # userspace ESP through a TUN device: the kernel may have no ESP (CONFIG_INET_ESP)
        kernel-libipsec { load = yes }
        # /etc/resolv.conf is the host's: never let charon rewrite it
        resolve { load = no }
        # Debian's defaults that make no sense inside a namespace
        forecast { load = no }
        farp { load = no }
        dhcp { load = no }
        ha { load = no }
        tpm { load = no }
        pkcs11 { load = no }
        ldap { load = no }
        led { load = no }
        eap-radius { load = no }
        tnc-tnccs { load = no }
        connmark { load = no }
        bypass-lan { load = no }
    }
    filelog {
        emulator {
            path = ${dir}/charon.log
            time_format = %F %T
            time_add_ms = yes
            ike_name = yes
            append = yes
            flush_line = yes
            default = 1
        }
    }
}
starter {
    config_file = ${dir}/etc/ipsec.conf
    load_warning = no
}
include /etc/strongswan.d/*.conf
`;
}

async function connectVici(viciPath: string, timeoutMs: number): Promise<ViciClient> {
  let client: ViciClient | undefined;
  const ok = await waitFor(async () => {
    if (!fs.existsSync(viciPath)) return false;
    try {
      client = await ViciClient.connect(viciPath);
      return true;
    } catch {
      return false;
    }
  }, timeoutMs);
  if (!ok || !client)
    throw new Error(`charon did not open its control socket ${viciPath} within ${timeoutMs} ms`);
  return client;
}

export async function startInstance(state: RunState, options: InstanceOptions): Promise<Instance> {
  const dir = path.join(state.dir, options.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
  const files = { 'ipsec.conf': 'config setup\n', 'ipsec.secrets': '', ...options.etcFiles };
  for (const [file, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, 'etc', file), content, { mode: 0o600 });
  }
  fs.writeFileSync(path.join(dir, 'etc', 'strongswan.conf'), strongswanConf(dir, options.retransmitTimeout));

  const program =
    options.program === 'starter' ? ['/usr/lib/ipsec/starter', '--nofork'] : ['/usr/lib/ipsec/charon'];
  const out = fs.openSync(path.join(dir, 'daemon.out'), 'a');
  // ip netns exec -> unshare -> sh -> env -> daemon are all exec()s, so the PID we get is the daemon's.
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      options.netns,
      'unshare',
      '-m',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      'mount --bind "$0/run" /run && exec env STRONGSWAN_CONF="$0/etc/strongswan.conf" "$@"',
      dir,
      ...program,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.program} in ${options.netns}`);
  state.recordPid(pid, options.netns);
  child.unref();

  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const charonPidOfStarter = () => {
    try {
      return Number(fs.readFileSync(path.join(dir, 'run', 'charon.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const stopDaemons = async () => {
    // starter stops its charon itself; a charon we started directly is the recorded PID.
    const charonPid = options.program === 'starter' ? charonPidOfStarter() : undefined;
    await stopProcess(pid, options.netns);
    if (charonPid) await stopProcess(charonPid, options.netns);
  };

  const viciPath = path.join(dir, 'run', 'charon.vici');
  let vici: ViciClient;
  try {
    vici = await connectVici(viciPath, 10_000);
  } catch (error) {
    await stopDaemons();
    const output = fs.readFileSync(path.join(dir, 'daemon.out'), 'utf8').slice(-500);
    throw new Error(
      `${options.program} in ${options.netns}: ${(error as Error).message}. Output: ${output}`,
      { cause: error },
    );
  }
  const charonPid = options.program === 'starter' ? charonPidOfStarter() : undefined;
  if (charonPid) state.recordPid(charonPid, options.netns);
  return {
    name: options.name,
    dir,
    netns: options.netns,
    pid,
    viciPath,
    logPath: path.join(dir, 'charon.log'),
    get exited() {
      return exited;
    },
    vici,
    async stop() {
      vici.close();
      await stopDaemons();
    },
  };
}
