/**
 * `POST /workspaces/{id}/execute` without a real shell: enough of one to answer what a deploy
 * pipeline asks from inside a workspace. Network probes (`ping`, `nc -z`, bash's `/dev/tcp`) go
 * through the tunnel driver for the selected replica, so their outcome is the VPN model's.
 *
 * Result convention (documented in README.md): `output` carries what the command printed (stdout
 * and stderr, as a terminal shows them); `error` is empty when the command exited 0 and otherwise
 * names the exit status, e.g. "command exited with status 1".
 */
import { curl } from './app.js';
import { repositoryOf } from './landscape.js';
import { faultFor, TLS_VERIFY_ERRORS, type ProbeFaultKind } from './probe-faults.js';
import type { Workspace, World } from './state.js';

export interface CommandResult {
  output: string;
  error: string;
}

interface Outcome {
  output: string;
  status: number;
  /** The probe would hang until killed: a `timeout N` wrapper turns this into status 124. */
  timedOut?: boolean;
}

/** Splits a shell command line into words, honouring single and double quotes. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started || current) words.push(current);
      current = '';
      started = false;
    } else {
      current += char;
    }
  }
  if (started || current) words.push(current);
  return words;
}

/** Splits on top-level `&&` and `;` (outside quotes): each part runs in order, `&&` stops at failure. */
function splitSequence(line: string): Array<{ command: string; onlyIfOk: boolean }> {
  const parts: Array<{ command: string; onlyIfOk: boolean }> = [];
  let quote: string | undefined;
  let start = 0;
  let onlyIfOk = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === ';' || (char === '&' && line[i + 1] === '&')) {
      parts.push({ command: line.slice(start, i).trim(), onlyIfOk });
      onlyIfOk = char === '&';
      if (char === '&') i++;
      start = i + 1;
    }
  }
  parts.push({ command: line.slice(start).trim(), onlyIfOk });
  return parts.filter((p) => p.command !== '');
}

export async function runCommand(
  world: World,
  workspace: Workspace,
  replica: number,
  command: string,
  env: Record<string, string>,
): Promise<CommandResult> {
  let output = '';
  let status = 0;
  for (const part of splitSequence(command)) {
    if (part.onlyIfOk && status !== 0) break;
    const outcome = await runSimple(world, workspace, replica, shellWords(part.command), env);
    output += outcome.output;
    status = outcome.status;
  }
  return { output, error: status === 0 ? '' : `command exited with status ${status}` };
}

async function runSimple(
  world: World,
  workspace: Workspace,
  replica: number,
  given: string[],
  env: Record<string, string>,
): Promise<Outcome> {
  // Redirections (`</dev/null`, `2>&1`) change nothing here: output is stdout and stderr already.
  const words = given.filter((word) => !/^\d*(?:[<>]{1,2}&?\d*|[<>]{1,2}\/dev\/null)$/.test(word));
  // `timeout N cmd`: a probe that would hang ends with status 124 and no output, as timeout(1) does.
  if (words[0] === 'timeout' && words.length > 2) {
    const inner = await runSimple(world, workspace, replica, words.slice(2), env);
    return inner.timedOut ? { output: '', status: 124 } : inner;
  }
  if ((words[0] === 'sh' || words[0] === 'bash') && words[1] === '-c' && words[2] !== undefined) {
    const inner = words[2];
    const devTcp = /^\s*(?:exec\s+\d*)?(?:echo|:|true)?\s*[<>]+\s*\/dev\/tcp\/([^/\s]+)\/(\d+)\s*$/.exec(
      inner,
    );
    if (devTcp) {
      const [, host = '', port = ''] = devTcp;
      const fault = faultOf(world, workspace, env, host, Number(port));
      if (fault) return faultOutcome(fault, words[0], host, Number(port));
      const probe = await world.driver.probe(workspace.id, replica, `${host}:${port}`);
      if (probe.ok) return { output: '', status: 0 };
      if (/Name or service not known/.test(probe.output))
        return faultOutcome('dns', words[0], host, Number(port));
      const reason = /failed: (.*)$/m.exec(probe.output)?.[1] ?? 'Connection timed out';
      if (reason === 'Connection timed out') return { output: '', status: 1, timedOut: true };
      return {
        output: `${words[0]}: connect: ${reason}\n${words[0]}: line 1: /dev/tcp/${host}/${port}: ${reason}\n`,
        status: 1,
      };
    }
    const result = await runCommand(world, workspace, replica, inner, env);
    return { output: result.output, status: result.error ? Number(/\d+$/.exec(result.error)?.[0] ?? 1) : 0 };
  }
  const [program = '', ...args] = words;
  const vars = { ...Object.fromEntries(workspace.env), ...env };
  switch (program) {
    case 'ping': {
      const host = pingTarget(args);
      const fault = host === undefined ? undefined : faultOf(world, workspace, env, host, undefined);
      if (fault && host !== undefined) return faultOutcome(fault, 'ping', host, undefined);
      return probe(world, workspace, replica, host);
    }
    case 'nc':
    case 'ncat':
    case 'netcat': {
      const target = ncTarget(args);
      const [host = '', port] = target?.split(':') ?? [];
      const fault = target ? faultOf(world, workspace, env, host, Number(port)) : undefined;
      if (fault) return faultOutcome(fault, 'nc', host, Number(port));
      return probe(world, workspace, replica, target);
    }
    case 'openssl':
      return opensslClient(world, workspace, replica, args, env);
    case 'exit': {
      const code = Number(args[0] ?? 0);
      return { output: '', status: Number.isInteger(code) ? code & 255 : 2 };
    }
    case 'echo':
      return {
        output: `${args
          .filter((a, i) => !(i === 0 && a === '-n'))
          .map((a) => expand(a, vars))
          .join(' ')}${args[0] === '-n' ? '' : '\n'}`,
        status: 0,
      };
    case 'true':
    case ':':
      return { output: '', status: 0 };
    case 'false':
      return { output: '', status: 1 };
    case 'pwd':
      return { output: '/home/user/app\n', status: 0 };
    case 'whoami':
      return { output: 'user\n', status: 0 };
    case 'hostname':
      return { output: `ws-${workspace.id}-${replica}\n`, status: 0 };
    case 'env':
      return {
        output: Object.entries(vars)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
        status: 0,
      };
    case 'printenv': {
      if (args.length === 0) return runSimple(world, workspace, replica, ['env'], env);
      const values = args.map((name) => vars[name]);
      return {
        output: values
          .filter((v): v is string => v !== undefined)
          .map((v) => `${v}\n`)
          .join(''),
        status: values.every((v) => v !== undefined) ? 0 : 1,
      };
    }
    case 'git':
      return git(workspace, args);
    case 'cat': {
      // The repository's CI files (a landscape's ci.yml and ci.<profile>.yml), nothing else.
      const files = repositoryOf(world, workspace)?.files ?? {};
      const name = args[0] ?? '';
      const text = Object.hasOwn(files, name) ? files[name] : undefined;
      return text === undefined
        ? { output: `cat: ${name}: No such file or directory\n`, status: 1 }
        : { output: text, status: 0 };
    }
    case 'curl':
      return curl(world, workspace, args);
    default:
      return { output: `bash: line 1: ${program}: command not found\n`, status: 127 };
  }
}

function expand(word: string, vars: Record<string, string>): string {
  return word.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => vars[name] ?? '');
}

/** `ping [-c N] [-W T] [-w T] [-q] host`: the host is the first argument that is not an option or its value. */
function pingTarget(args: string[]): string | undefined {
  const withValue = new Set(['-c', '-W', '-w', '-i', '-s', '-t', '-I']);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (withValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** `nc -z [-v] [-w T] host port` (flags may be combined, e.g. -zv, -vzw 3). */
function ncTarget(args: string[]): string | undefined {
  const positional: string[] = [];
  let zeroIo = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg.startsWith('-')) {
      if (arg.includes('z')) zeroIo = true;
      if (/[wqi]$/.test(arg)) i++;
    } else {
      positional.push(arg);
    }
  }
  const [host, port] = positional;
  return zeroIo && host && port && /^\d+$/.test(port) ? `${host}:${port}` : undefined;
}

async function probe(
  world: World,
  workspace: Workspace,
  replica: number,
  target: string | undefined,
): Promise<Outcome> {
  if (!target) return { output: 'usage: ping [-c count] host | nc -z [-w timeout] host port\n', status: 2 };
  const result = await world.driver.probe(workspace.id, replica, target);
  return { output: result.output, status: result.ok ? 0 : 1 };
}

function git(workspace: Workspace, args: string[]): Outcome {
  if (!workspace.git)
    return { output: 'fatal: not a git repository (or any of the parent directories): .git\n', status: 128 };
  const joined = args.join(' ');
  if (joined === 'rev-parse HEAD') return { output: `${workspace.git.commit}\n`, status: 0 };
  if (joined === 'rev-parse --abbrev-ref HEAD' || joined === 'branch --show-current') {
    return { output: `${workspace.git.branch}\n`, status: 0 };
  }
  if (joined === 'status' || joined === 'status --short')
    return {
      output: `On branch ${workspace.git.branch}\nnothing to commit, working tree clean\n`,
      status: 0,
    };
  return { output: `git: '${args[0] ?? ''}' is not supported by the emulator\n`, status: 1 };
}

/** The knob (probe-faults.ts) for this target as seen from the calling replica, if one is set. */
function faultOf(
  world: World,
  workspace: Workspace,
  env: Record<string, string>,
  host: string,
  port: number | undefined,
): ProbeFaultKind | undefined {
  if (world.probeFaults.length === 0) return undefined;
  const where = {
    workspace: workspace.name,
    server: env.CODESPHERE_SERVER,
    replica: Number(env.CODESPHERE_REPLICA ?? 0),
  };
  return faultFor(world.probeFaults, where, host, port);
}

/** What a real probe prints for a fault: ping, nc, bash's /dev/tcp or openssl s_client. */
function faultOutcome(
  fault: ProbeFaultKind,
  program: string,
  host: string,
  port: number | undefined,
): Outcome {
  const tcp = (reason: string): Outcome =>
    program === 'nc'
      ? { output: `nc: connect to ${host} port ${port ?? ''} (tcp) failed: ${reason}\n`, status: 1 }
      : program === 'openssl'
        ? { output: `connect:errno=${reason === 'Connection refused' ? 111 : 113}\n${reason}\n`, status: 1 }
        : {
            output: `${program}: connect: ${reason}\n${program}: line 1: /dev/tcp/${host}/${port ?? ''}: ${reason}\n`,
            status: 1,
          };
  switch (fault) {
    case 'refused':
      // ICMP still answers: a refused port does not stop a ping.
      return port === undefined
        ? { output: `PING ${host}: 1 packets transmitted, 1 received\n`, status: 0 }
        : tcp('Connection refused');
    case 'timeout':
      return port === undefined
        ? {
            output: `PING ${host} (${host}) 56(84) bytes of data.\n\n--- ${host} ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss\n`,
            status: 1,
            timedOut: true,
          }
        : { output: '', status: 1, timedOut: true };
    case 'dns':
      return program === 'openssl'
        ? {
            output: `BIO_lookup_ex: system lib\n${host}: Name or service not known\nconnect:errno=0\n`,
            status: 1,
          }
        : { output: `${program}: ${host}: Name or service not known\n`, status: program === 'ping' ? 2 : 1 };
    case 'no-route':
      return port === undefined
        ? { output: `From 10.200.0.1 icmp_seq=1 Destination Host Unreachable\n`, status: 1 }
        : tcp('No route to host');
    default:
      // Certificate faults only change a TLS handshake; a plain connect or ping succeeds.
      if (program !== 'openssl') return { output: '', status: 0 };
      return {
        output: `CONNECTED(00000003)\ndepth=0 CN = ${host}\n${TLS_VERIFY_ERRORS[fault]}\n`,
        status: 1,
      };
  }
}

/**
 * `openssl s_client -connect host:port [-servername h] [-verify_hostname h] [-verify_return_error]
 * [-brief]`: the TCP connect goes through the replica's tunnel like nc; a connected handshake is
 * verified against the preview's trust store, which the emulator models with the tls-* knobs.
 */
async function opensslClient(
  world: World,
  workspace: Workspace,
  replica: number,
  args: string[],
  env: Record<string, string>,
): Promise<Outcome> {
  if (args[0] !== 's_client')
    return { output: `openssl: ${args[0] ?? ''} is not supported by the emulator\n`, status: 1 };
  const connect = args[args.indexOf('-connect') + 1];
  const match = args.includes('-connect') && connect ? /^(.+):(\d+)$/.exec(connect) : null;
  if (!match) return { output: 's_client: -connect host:port is required\n', status: 1 };
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(match[2]);
  const fault = faultOf(world, workspace, env, host, port);
  if (fault) {
    const outcome = faultOutcome(fault, 'openssl', host, port);
    if (outcome.status !== 0 || fault.startsWith('tls-')) return outcome;
  }
  const probed = await world.driver.probe(workspace.id, replica, `${host}:${port}`);
  if (!probed.ok) {
    const reason = /failed: (.*)$/m.exec(probed.output)?.[1];
    if (/Name or service not known/.test(probed.output)) return faultOutcome('dns', 'openssl', host, port);
    if (reason === 'Connection timed out') return { output: '', status: 1, timedOut: true };
    return faultOutcome(reason === 'Connection refused' ? 'refused' : 'no-route', 'openssl', host, port);
  }
  return {
    output: `CONNECTION ESTABLISHED\nProtocol version: TLSv1.3\nCiphersuite: TLS_AES_256_GCM_SHA384\nPeer certificate: CN = ${host}\nVerification: OK\n`,
    status: 0,
  };
}
