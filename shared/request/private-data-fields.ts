import { z } from 'zod';

import { fail, HOST_PATTERN, integerField, IPV6_PATTERN, trimmed, type Show } from './fields.js';
import { isSecretName } from './secrets.js';
import { CONTROL_CHARACTERS, isBlank } from './values.js';

/**
 * The private-data inputs (docs/private-data.md): `privateTargets` (what every replica must
 * reach), the `onCreate` / `onDelete` hooks and `onCreateService`, and `vpnPoolSize` (the
 * gateway's `rightsourceip` pool). Each parser returns the value or one issue naming what was
 * given and what is valid, like every field of request/fields.ts.
 */

/** How a private target is checked from inside each replica (workflow/private-targets.ts). */
export type PrivateTargetKind = 'ping' | 'tcp' | 'tls';

/** One validated entry of `privateTargets`. */
export interface PrivateTarget {
  /** `ping` for a bare host, `tcp` for host:port, `tls` for tls://host:port. */
  kind: PrivateTargetKind;
  /** A DNS name, an IPv4 address or an IPv6 address (without brackets). */
  host: string;
  /** 1..65535; absent exactly for `ping`. */
  port?: number | undefined;
  /** As the user wrote it (trimmed): what logs, errors and the grid show. */
  label: string;
}

/** At most this many targets: each is one execute call per replica of every service. */
export const MAX_PRIVATE_TARGETS = 20;

/** Longest hook command accepted (it travels in one execute request body). */
export const MAX_HOOK_LENGTH = 10_000;

const TARGET_EXPECTED =
  'a comma- or newline-separated list of hosts to ping ("10.250.0.5"), host:port for a TCP connect ' +
  '("10.250.0.7:5432") or tls://host:port for a TLS handshake ("tls://ldap.corp:636")';

/** Why one entry is not a target, or the parsed target. */
function parseTarget(entry: string): PrivateTarget | string {
  const control = new RegExp(CONTROL_CHARACTERS.source, 'u').exec(entry);
  if (control) return `holds a control or invisible character at position ${control.index + 1}`;
  const tls = /^tls:\/\//i.test(entry);
  const rest = tls ? entry.slice('tls://'.length) : entry;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) return 'has a scheme other than tls://';
  if (rest.includes('/'))
    return 'is a network range or a path, not one host (a target such as 0.0.0.0/0 would probe nothing real)';
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (!IPV6_PATTERN.test(host)) return 'is not a host, host:port or [IPv6]:port';
  } else {
    const parts = rest.split(':');
    if (parts.length > 2) return 'is not a host or host:port (write IPv6 as [addr]:port)';
    host = parts[0] ?? '';
    portText = parts[1];
    if (!HOST_PATTERN.test(host)) return 'is not a host, host:port or tls://host:port';
  }
  if (/^0+(\.0+){0,3}$/.test(host) || /^[0:]+$/.test(host))
    return 'is the unspecified address (0.0.0.0 or ::), which names no host';
  if (portText === undefined) {
    if (tls) return 'needs a port: tls://host:port';
    return { kind: 'ping', host, label: entry };
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return 'has a port outside 1-65535';
  return { kind: tls ? 'tls' : 'tcp', host, port, label: entry };
}

/**
 * `privateTargets`: entries separated by commas or line breaks (a comma at the end of a line is
 * one separator; surrounding blanks and a final line break are ignored). An empty entry, a
 * duplicate, more than MAX_PRIVATE_TARGETS, or any entry parseTarget refuses is an issue naming
 * the entry's position. Hosts end up in shell commands, hence the strict host pattern.
 */
export const privateTargetsField = (show: Show) =>
  z.unknown().transform((v, ctx): PrivateTarget[] => {
    if (isBlank(v)) return [];
    if (typeof v !== 'string') return fail(ctx, `got ${show(v)}; expected ${TARGET_EXPECTED}`);
    const entries = v.trim().split(/[ \t]*(?:,[ \t]*\r?\n?|\r?\n)[ \t]*/);
    if (entries.length > MAX_PRIVATE_TARGETS)
      return fail(ctx, `got ${entries.length} entries; expected at most ${MAX_PRIVATE_TARGETS}`);
    const targets: PrivateTarget[] = [];
    const problems: string[] = [];
    entries.forEach((entry, index) => {
      if (entry === '') {
        problems.push(`entry ${index + 1} is empty (two separators in a row)`);
        return;
      }
      const parsed = parseTarget(entry);
      if (typeof parsed === 'string') problems.push(`entry ${index + 1} ${show(entry)} ${parsed}`);
      else if (targets.some((t) => t.label.toLowerCase() === parsed.label.toLowerCase()))
        problems.push(`entry ${index + 1} ${show(entry)} is listed twice`);
      else targets.push(parsed);
    });
    if (problems.length > 0) return fail(ctx, `${problems.join('; ')}; expected ${TARGET_EXPECTED}`);
    return targets;
  });

/**
 * A hook command (`onCreate`, `onDelete`): any shell text, kept as written (run through
 * execute). Line breaks and tabs are fine; other control characters (NUL, escape sequences,
 * bidi overrides) are not, since the command is shown nowhere but would run as it reads.
 * The command itself is never quoted in an issue: it may hold a credential.
 */
export function hookField(name: string) {
  return z.unknown().transform((v, ctx): string | undefined => {
    if (isBlank(v)) return undefined;
    if (typeof v !== 'string') return fail(ctx, `expected a shell command as text (${name})`);
    const text = v.trim();
    const control = new RegExp(CONTROL_CHARACTERS.source, 'u').exec(text.replace(/[\t\r\n]/g, ' '));
    if (control)
      return fail(
        ctx,
        `holds a control or invisible character at position ${control.index + 1}; expected a shell command in printable characters (line breaks and tabs are fine)`,
      );
    if (text.length > MAX_HOOK_LENGTH)
      return fail(
        ctx,
        `is ${text.length} characters long; expected at most ${MAX_HOOK_LENGTH} (put a longer script in the repository and call it)`,
      );
    return text;
  });
}

/** `onCreateService`: the landscape service whose replica 0 runs `onCreate` (empty: the main one). */
export const onCreateServiceField = (show: Show) =>
  z.unknown().transform((v, ctx): string | undefined => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(text))
      return fail(
        ctx,
        `got ${show(text)}; expected a service name of the landscape (letters, digits, "_", "-")`,
      );
    return text;
  });

/** `vpnPoolSize`: addresses in the gateway's pool (a /24 `rightsourceip` holds 254). */
export const vpnPoolSizeField = (show: Show) =>
  integerField(
    show,
    1,
    16_777_216,
    "a positive whole number of addresses (the size of the gateway's rightsourceip pool, e.g. 254 for a /24)",
  );

/**
 * Credentials written inline in a hook command, to be masked like secret env values: the value of
 * every `NAME=value` assignment whose NAME is secret-named (`PGPASSWORD=...`, `API_TOKEN="..."`,
 * also `--password=...`), and the password of every URL with user info
 * (`postgres://app:s3cret@db:5432/app`). The rest of the command is not a secret: masking whole
 * lines would star out every log line that shares them (`set -e`, `psql`).
 */
export function hookSecrets(command: string | undefined): string[] {
  if (!command) return [];
  const out: string[] = [];
  const assignment = /(?:^|[\s;&|(])-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|[^\s;&|)]+)/g;
  for (const match of command.matchAll(assignment)) {
    const [, name = '', raw = ''] = match;
    const value = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
    if (isSecretName(name) && value !== '' && !value.startsWith('$')) out.push(value);
  }
  for (const match of command.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:([^\s@/'"]+)@/gi)) {
    const password = match[1];
    if (password && !password.startsWith('$')) out.push(password);
  }
  return out;
}
