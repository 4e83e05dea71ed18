import { z } from 'zod';

import type { Platform } from './job-input.js';
import { parseDotenv, type EnvVar } from './dotenv.js';
import { reservedEnvNameProblem } from './reserved-env.js';
import { SecretSet } from './secrets.js';
import { isLoopbackHost, withoutCredentials } from './urls.js';
import { BOOLEAN_WORDS, CONTROL_CHARACTERS, isBlank, parseBoolean, quoteGiven } from './values.js';

/**
 * The job input's field parsers (zod transforms over `unknown`, since CI platforms hand over
 * strings or nothing): each returns the parsed value or adds one issue saying what was given
 * (secrets masked, control characters escaped) and what is valid. request/schema.ts puts them together.
 */

export type Credentials =
  { kind: 'token'; apiToken: string } | { kind: 'password'; email: string; password: string };

export interface VpnCheckTarget {
  host: string;
  port?: number | undefined;
  /** As the user wrote it: "10.250.0.5" or "10.250.0.7:5432". */
  label: string;
}

/** A validated health check target: the app endpoint asked from inside each replica (workflow/health-check.ts). */
export interface HealthCheckTarget {
  port: number;
  /** Starts with "/"; only URL-safe characters (it goes into a shell command). */
  path: string;
  /** As the user wrote it. */
  label: string;
}

/** The port Codesphere routes a workspace's dev domain to: the health check's default. */
export const DEFAULT_HEALTH_PORT = 3000;

export const DEFAULT_API_URL = 'https://codesphere.com';

type Ctx = z.core.$RefinementCtx;

/** Quotes a given value in a field's error message; each parse makes its own (`quoterHiding`). */
export type Show = (value: unknown) => string;

/**
 * The `Show` of one input's parse: a given value with `secrets` masked, then JSON-quoted, every
 * control or layout character escaped as `\uXXXX` (JSON leaves U+2028, U+0085 and bidi overrides
 * as they are), cut at 80 characters.
 */
export function quoterHiding(secrets: SecretSet): Show {
  // Secrets are masked before quoting: JSON escapes (\", \\, \n) would hide them from a reporter's mask.
  return (value) => quoteGiven(typeof value === 'string' ? secrets.redact(value) : value);
}

export function fail(ctx: Ctx, message: string, path: string[] = []): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path });
  return z.NEVER;
}

export function trimmed(value: unknown): string | undefined {
  if (isBlank(value)) return undefined;
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value.trim() : undefined;
}

export function booleanField(show: Show, defaultValue: boolean | undefined) {
  return z.unknown().transform((v, ctx) => {
    const parsed = parseBoolean(typeof v === 'string' || typeof v === 'boolean' ? v : undefined);
    if (parsed === null || (v !== undefined && typeof v !== 'string' && typeof v !== 'boolean'))
      return fail(ctx, `got ${show(v)}; expected ${BOOLEAN_WORDS}`);
    return parsed ?? defaultValue;
  });
}

export function integerField(show: Show, min: number, max: number, expected: string) {
  return z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max)
      return fail(ctx, `got ${show(v)}; expected ${expected}`);
    return n;
  });
}

/** The same set, non-global, for a position search. */
const CONTROL_CHARACTER = new RegExp(CONTROL_CHARACTERS.source, 'u');

/** `U+000A` for the first control character of a text, or undefined when it has none. */
function firstControlCharacter(text: string): string | undefined {
  const match = CONTROL_CHARACTER.exec(text);
  if (!match) return undefined;
  const code = match[0].codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${match.index + 1}`;
}

/**
 * A name users type and Codesphere compares (team, plan, VPN config, branch): trimmed, in Unicode
 * NFC (so a name typed decomposed matches the one stored precomposed), free of control characters.
 */
function printableName(show: Show, ctx: Ctx, text: string, expected: string): string {
  const control = firstControlCharacter(text);
  if (control !== undefined)
    return fail(
      ctx,
      `got ${show(text)}, which holds a control or invisible character (${control}); expected ${expected} in printable characters`,
    );
  return text.normalize('NFC');
}

export function nameOrId(show: Show, what: string, fallback?: string) {
  return z.unknown().transform((v, ctx) => {
    const text = trimmed(v) ?? fallback;
    if (text === undefined) return fail(ctx, `missing; expected the ${what}'s name or its numeric id`);
    return printableName(show, ctx, text, `the ${what}'s name or its numeric id`);
  });
}

export function optionalName(show: Show, expected: string) {
  return z.unknown().transform((v, ctx) => {
    if (isBlank(v)) return undefined;
    if (typeof v !== 'string') return fail(ctx, `got ${show(v)}; expected ${expected}`);
    return printableName(show, ctx, v.trim(), expected);
  });
}

export function requiredName(show: Show, expected: string) {
  return z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return fail(ctx, `missing; expected ${expected}`);
    return printableName(show, ctx, text, expected);
  });
}

/**
 * An API URL as quoted in an error: without user info, query or fragment, which may carry
 * credentials (`https://user:secret@host`, `?access_token=...`) and are refused anyway.
 */
function showUrl(show: Show, text: string): string {
  const stripped = text
    .replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)[^?#]*@/, '$1***@')
    .replace(/[?#][\s\S]*$/, (rest) => `${rest[0] ?? ''}***`);
  return show(stripped);
}

export const apiUrlField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v) ?? DEFAULT_API_URL;
    const expectedUrl = `expected an https URL such as ${DEFAULT_API_URL}`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return fail(ctx, `got ${typeof v === 'string' ? showUrl(show, text) : show(v)}; ${expectedUrl}`);
    }
    // Credentials first: every later message quotes the URL.
    if (url.username || url.password)
      return fail(ctx, 'must not contain credentials: use apiToken or email and password');
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return fail(ctx, `got ${showUrl(show, text)}; ${expectedUrl}`);
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
      return fail(
        ctx,
        `got ${showUrl(show, text)}; plain http is refused outside loopback (the API token would travel unencrypted): use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
      );
    if (url.search || url.hash)
      return fail(ctx, `got ${showUrl(show, text)}; expected a base URL without query or fragment`);
    const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
    return `${url.origin}${path}`;
  });

export const credentialsField = (show: Show) =>
  z
    .object({ apiToken: z.unknown(), email: z.unknown(), password: z.unknown() })
    .transform((v, ctx): Credentials => {
      const apiToken = trimmed(v.apiToken);
      const email = trimmed(v.email);
      // Passwords are taken verbatim: leading or trailing spaces may be part of them.
      const password = typeof v.password === 'string' && v.password !== '' ? v.password : undefined;
      if (apiToken) {
        if (/\s/.test(apiToken))
          return fail(ctx, 'contains whitespace; expected one API token', ['apiToken']);
        return { kind: 'token', apiToken };
      }
      if (email && password) {
        if (!/^[^\s@]+@[^\s@]+$/.test(email))
          return fail(ctx, `got ${show(email)}; expected an email address`, ['email']);
        return { kind: 'password', email, password };
      }
      if (email)
        return fail(ctx, 'missing; email is given, so the password of that Codesphere user is needed', [
          'password',
        ]);
      if (password)
        return fail(ctx, 'missing; password is given, so the email of that Codesphere user is needed', [
          'email',
        ]);
      return fail(
        ctx,
        'missing credentials; expected apiToken (a Codesphere API token), or email and password',
        ['apiToken'],
      );
    });

/**
 * Dotenv text in Docker Compose's `.env` syntax (shared/request/dotenv.ts). Problems name lines, never
 * their text: any line may hold a secret.
 */
export const envField = z.unknown().transform((v, ctx): EnvVar[] => {
  if (isBlank(v)) return [];
  if (typeof v !== 'string') return fail(ctx, 'expected dotenv text: NAME=value lines');
  const { vars, problems } = parseDotenv(v);
  if (problems.length > 0) return fail(ctx, problems.map((p) => p.message).join('; '));
  // The integration's own bookkeeping variables may not be declared (request/reserved-env.ts).
  const reserved = reservedEnvNameProblem(vars);
  if (reserved !== undefined) return fail(ctx, reserved);
  return vars;
});

/** A DNS name or IPv4 address: letters, digits and hyphens in dot-separated labels. */
export const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** The characters of an IPv6 address (written in brackets in a host:port). */
export const IPV6_PATTERN = /^[0-9A-Fa-f:.]+$/;

/** "10.250.0.5", "db.internal:5432", "[fd00::1]:443". Strict, because it ends up in a shell command. */
export const vpnCheckField = (show: Show) =>
  z.unknown().transform((v, ctx): VpnCheckTarget | undefined => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const expected =
      'a host ("10.250.0.5") or host:port ("10.250.0.7:5432") to probe from inside the workspace';
    let host: string;
    let portText: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (bracketed?.[1]) {
      host = bracketed[1];
      portText = bracketed[2];
      if (!IPV6_PATTERN.test(host)) return fail(ctx, `got ${show(text)}; expected ${expected}`);
    } else {
      const parts = text.split(':');
      if (parts.length > 2)
        return fail(ctx, `got ${show(text)}; expected ${expected} (write IPv6 as [addr]:port)`);
      host = parts[0] ?? '';
      portText = parts[1];
      if (!HOST_PATTERN.test(host)) return fail(ctx, `got ${show(text)}; expected ${expected}`);
    }
    if (portText === undefined) return { host, label: text };
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      return fail(ctx, `got ${show(text)}; the port must be 1-65535`);
    return { host, port, label: text };
  });

export const platformField = (show: Show) =>
  z.unknown().transform((v, ctx): Platform => {
    if (v === 'github' || v === 'gitlab' || v === 'bitbucket') return v;
    return fail(ctx, `got ${show(v)}; expected github, gitlab or bitbucket`);
  });

export const repositoryField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return fail(ctx, 'missing; expected the repository as "owner/name"');
    if (!/^[^\s/]+(\/[^\s/]+)+$/.test(text))
      return fail(ctx, `got ${show(text)}; expected "owner/name" (GitLab: "group/sub/project")`);
    return text;
  });

/** Clone URL. Credentials in it (CI tokens) are split off: masked and never sent. */
export const gitUrlField = (show: Show, required: boolean) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) {
      if (required)
        return fail(ctx, 'missing; expected the clone URL, such as https://github.com/owner/repo.git');
      return { url: '', secrets: [] as string[] };
    }
    if (/^[\w.-]+@[\w.-]+:[^\s]+$/.test(text)) return { url: text, secrets: [] as string[] }; // scp-like ssh
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return fail(ctx, 'is not a URL; expected a clone URL such as https://github.com/owner/repo.git');
    }
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(url.protocol))
      return fail(ctx, `got protocol ${show(url.protocol)}; expected an https (or ssh) clone URL`);
    const secrets = [url.password, decodeURIComponent(url.password)].filter((s) => s.length > 0);
    return { url: withoutCredentials(text), secrets };
  });

export const commitField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    if (!/^[0-9a-f]{7,64}$/i.test(text))
      return fail(ctx, `got ${show(text)}; expected a commit SHA (7-64 hex digits)`);
    return text.toLowerCase();
  });

export const positiveNumberField = (show: Show, expected: string) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) return fail(ctx, `got ${show(v)}; expected ${expected}`);
    return n;
  });

export const openNumbersField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && (n as number) > 0))
      return fail(ctx, `got ${show(v)}; expected a list of open change-request numbers`);
    return v as number[];
  });

export const vpnSwitchField = (show: Show) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v) ?? 'in-place';
    if (text === 'in-place' || text === 'zero-downtime') return text;
    return fail(ctx, `got ${show(v)}; expected in-place or zero-downtime`);
  });

const PATH_PATTERN = /^\/[A-Za-z0-9\-._~/%?=&+:@!,;]*$/;

/**
 * Parses "/healthz", "8080/healthz" or "8080" (path "/"). Throws a message naming what is valid.
 * Strict, because the path ends up inside a shell command.
 */
export const healthCheckField = (show: Show) =>
  z.unknown().transform((v, ctx): HealthCheckTarget | undefined => {
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
    if (text === '') return undefined;
    const expected =
      'a path ("/healthz") or port/path ("8080/healthz") of the app to ask from inside each replica';
    const match = /^(\d{1,5})?(\/.*)?$/.exec(text);
    const portText = match?.[1];
    const path = match?.[2] ?? '/';
    const port = portText === undefined ? DEFAULT_HEALTH_PORT : Number(portText);
    const shown = show(text);
    if (!match || (portText === undefined && match[2] === undefined)) {
      ctx.addIssue({ code: 'custom', message: `got ${shown}; expected ${expected}` });
      return z.NEVER;
    }
    if (port < 1 || port > 65_535 || !PATH_PATTERN.test(path) || path.includes("'")) {
      ctx.addIssue({
        code: 'custom',
        message: `got ${shown}; expected ${expected}, a port from 1 to 65535 and a path of URL characters`,
      });
      return z.NEVER;
    }
    return { port, path, label: text };
  });
