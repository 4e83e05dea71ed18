/**
 * `npm run gateway -- print --config vpn.yaml [--format ipsec|swanctl|both] [--with-psk]`
 * `npm run gateway -- check --config vpn.yaml --gateway ipsec.conf [--secrets ipsec.secrets]`
 *
 * print: the strongSwan configuration the company gateway needs for a Codesphere VPN config; the PSK
 * is a placeholder unless --with-psk asks for it (then in a notation that holds any key, psk.ts).
 * check: compares an existing ipsec.conf or swanctl.conf with it; exit 1 when anything differs,
 * exit 2 for bad usage or unreadable input.
 */
import { describePools, readGatewayPools } from './pool.js';
import { checkGateway, parseVpnSettings, printGatewayConfig, SettingsError } from './index.js';

const USAGE = `usage:
  gateway print --config <vpn.yaml> [--format ipsec|swanctl|both] [--with-psk]
  gateway check --config <vpn.yaml> --gateway <ipsec.conf|swanctl.conf> [--secrets <ipsec.secrets>]

<vpn.yaml> (YAML or JSON): name, ikeVersion (ikev1|ikev2), psk (optional), ikeProposal, espProposal,
ikeLifetime, espLifetime (seconds or 8h/30m), peerIp, peerSubnets, replicas, pool (optional).
--with-psk writes the settings' psk into ipsec.secrets and swanctl.conf instead of a placeholder.`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readFile(path: string): string;
}

class UsageError extends Error {}

/** Options that take no value. */
const FLAGS = new Set(['with-psk']);

function options(args: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new UsageError(`unexpected argument '${arg}'`);
    if (FLAGS.has(match[1])) {
      if (match[2] !== undefined) throw new UsageError(`--${match[1]} takes no value`);
      found.set(match[1], 'yes');
      continue;
    }
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${match[1]} needs a value`);
    found.set(match[1], value);
  }
  return found;
}

function read(io: CliIo, path: string, what: string): string {
  try {
    return io.readFile(path);
  } catch (error) {
    throw new UsageError(
      `cannot read the ${what} '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

/** Runs the CLI; returns the exit code (0 ok, 1 mismatches, 2 usage or input errors). */
export function runGatewayCli(argv: string[], io: CliIo): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  try {
    if (command !== 'print' && command !== 'check')
      throw new UsageError(command ? `unknown command '${command}'` : 'no command given');
    const opts = options(rest);
    const known = command === 'print' ? ['config', 'format', 'with-psk'] : ['config', 'gateway', 'secrets'];
    for (const key of opts.keys())
      if (!known.includes(key)) throw new UsageError(`unknown option --${key} for ${command}`);
    const configPath = opts.get('config');
    if (!configPath) throw new UsageError('--config <vpn.yaml> is required');
    const settings = parseVpnSettings(read(io, configPath, 'VPN config settings'), configPath);
    if (command === 'print') {
      const format = opts.get('format') ?? 'both';
      if (format !== 'ipsec' && format !== 'swanctl' && format !== 'both') {
        throw new UsageError(`--format '${format}' is not one of ipsec, swanctl, both`);
      }
      const withPsk = opts.has('with-psk');
      if (withPsk && !settings.psk) throw new UsageError(`--with-psk: ${configPath} has no psk to print`);
      const printed = printGatewayConfig(settings, format, withPsk);
      io.out(printed);
      // The pool's size on stderr: stdout is the configuration, redirected into a file.
      io.err(describePools(readGatewayPools(printed)));
      return 0;
    }
    const gatewayPath = opts.get('gateway');
    if (!gatewayPath) throw new UsageError('--gateway <ipsec.conf|swanctl.conf> is required');
    const secretsPath = opts.get('secrets');
    const result = checkGateway(settings, {
      text: read(io, gatewayPath, 'gateway configuration'),
      secrets: secretsPath ? read(io, secretsPath, 'secrets file') : undefined,
    });
    const pools = describePools(readGatewayPools(read(io, gatewayPath, 'gateway configuration')));
    const where = `${gatewayPath} (${result.format}${result.connection ? `, connection '${result.connection}'` : ''})`;
    if (result.mismatches.length === 0) {
      io.out(`OK: ${where} matches VPN config '${settings.name}'\n${pools}`);
      return 0;
    }
    io.out(
      `${result.mismatches.length} mismatch${result.mismatches.length === 1 ? '' : 'es'} between ${where} and VPN config '${settings.name}':\n`,
    );
    for (const mismatch of result.mismatches) io.out(`  - [${mismatch.kind}] ${mismatch.message}\n`);
    io.out(pools);
    return 1;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`gateway: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof SettingsError) {
      io.err(`gateway: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
