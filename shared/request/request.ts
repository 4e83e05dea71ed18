import { z } from 'zod';

import type { JobInput, JobKind, Platform } from './job-input.js';
import { parseDotenv, type EnvVar } from './dotenv.js';
import { ConfigError, type FieldIssue } from '../errors.js';
import { reservedEnvNameProblem } from '../workflow/managed-env.js';
import { healthCheckField, type HealthCheckTarget } from '../workflow/health-check.js';
import { workspaceName } from '../workflow/naming.js';
import { isSecretName, SecretSet } from './secrets.js';
import { BOOLEAN_WORDS, CONTROL_CHARACTERS, isBlank, parseBoolean, parseId, quoteGiven } from './values.js';

/**
 * The one input surface of the core: `parseRequest` turns an adapter's raw `JobInput` (strings
 * as CI platforms hand them over) into a validated `DeployRequest`, or throws one `ConfigError`
 * that lists every bad field at once, each with what was given and what is valid. Secret
 * fields (token, password, env values) are never echoed.
 */

export type Credentials =
  { kind: 'token'; apiToken: string } | { kind: 'password'; email: string; password: string };

export type TeamRef = { id: number } | { name: string };
export type PlanRef = { id: number } | { title: string };

export type { EnvVar };
export { ENV_NAME_PATTERN } from './dotenv.js';

export interface VpnCheckTarget {
  host: string;
  port?: number | undefined;
  /** As the user wrote it: "10.250.0.5" or "10.250.0.7:5432". */
  label: string;
}

export interface DeployRequest {
  kind: JobKind;
  credentials: Credentials;
  /** Normalised: no trailing slash, no `/api` (the client appends it). */
  apiUrl: string;
  team: TeamRef;
  plan: PlanRef;
  onDemand: boolean;
  /** `null`: no VPN (an existing workspace is detached). */
  vpnConfig: string | null;
  env: EnvVar[];
  /** Sent on create; on update only when given. */
  restricted: boolean | undefined;
  cloneDepth: number | undefined;
  replicas: number;
  baseImage: string | undefined;
  vpnCheck: VpnCheckTarget | undefined;
  /** App endpoint asked from inside each replica before "ready" (health-check.ts). */
  healthCheck: HealthCheckTarget | undefined;
  vpnSwitch: 'in-place' | 'zero-downtime';
  timeoutMs: number;
  platform: Platform;
  repository: string;
  gitUrl: string;
  isPrivateRepo: boolean;
  branch: string | undefined;
  commit: string | undefined;
  changeNumber: number | undefined;
  /** The deterministic workspace name (shared/workflow/naming.ts); empty for prune, which matches a pattern. */
  workspaceName: string;
  openChangeNumbers: number[] | undefined;
  pruneTtlHours: number | undefined;
  dryRun: boolean;
  /** Every secret value in the input; the core masks them all before its first request. */
  secrets: string[];
}

export const DEFAULT_API_URL = 'https://codesphere.com';
export const DEFAULT_PLAN = 'Boost';
export const DEFAULT_TIMEOUT_SECONDS = 900;

// ---------------------------------------------------------------------------------------------
// Field parsers. Each returns the parsed value or adds one issue naming what was given.

type Ctx = z.core.$RefinementCtx;

/** The secrets of the input being parsed (parseRequest is synchronous, so one at a time). */
let parsingSecrets: SecretSet | undefined;

/**
 * A given value as quoted in an error: JSON-quoted, every control or layout character escaped as
 * `\uXXXX` (JSON leaves U+2028, U+0085 and bidi overrides as they are), cut at 80 characters.
 */
function show(value: unknown): string {
  // Secrets are masked before quoting: JSON escapes (\", \\, \n) would hide them from a reporter's mask.
  return quoteGiven(typeof value === 'string' && parsingSecrets ? parsingSecrets.redact(value) : value);
}

function fail(ctx: Ctx, message: string, path: string[] = []): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path });
  return z.NEVER;
}

function trimmed(value: unknown): string | undefined {
  if (isBlank(value)) return undefined;
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value.trim() : undefined;
}

function booleanField(defaultValue: boolean | undefined) {
  return z.unknown().transform((v, ctx) => {
    const parsed = parseBoolean(typeof v === 'string' || typeof v === 'boolean' ? v : undefined);
    if (parsed === null || (v !== undefined && typeof v !== 'string' && typeof v !== 'boolean'))
      return fail(ctx, `got ${show(v)}; expected ${BOOLEAN_WORDS}`);
    return parsed ?? defaultValue;
  });
}

function integerField(min: number, max: number, expected: string) {
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
function printableName(ctx: Ctx, text: string, expected: string): string {
  const control = firstControlCharacter(text);
  if (control !== undefined)
    return fail(
      ctx,
      `got ${show(text)}, which holds a control or invisible character (${control}); expected ${expected} in printable characters`,
    );
  return text.normalize('NFC');
}

function nameOrId(what: string, fallback?: string) {
  return z.unknown().transform((v, ctx) => {
    const text = trimmed(v) ?? fallback;
    if (text === undefined) return fail(ctx, `missing; expected the ${what}'s name or its numeric id`);
    return printableName(ctx, text, `the ${what}'s name or its numeric id`);
  });
}

function optionalName(expected: string) {
  return z.unknown().transform((v, ctx) => {
    if (isBlank(v)) return undefined;
    if (typeof v !== 'string') return fail(ctx, `got ${show(v)}; expected ${expected}`);
    return printableName(ctx, v.trim(), expected);
  });
}

function requiredName(expected: string) {
  return z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return fail(ctx, `missing; expected ${expected}`);
    return printableName(ctx, text, expected);
  });
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * An API URL as quoted in an error: without user info, query or fragment, which may carry
 * credentials (`https://user:secret@host`, `?access_token=...`) and are refused anyway.
 */
function showUrl(text: string): string {
  const stripped = text
    .replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)[^?#]*@/, '$1***@')
    .replace(/[?#][\s\S]*$/, (rest) => `${rest[0] ?? ''}***`);
  return show(stripped);
}

const apiUrlField = z.unknown().transform((v, ctx) => {
  const text = trimmed(v) ?? DEFAULT_API_URL;
  const expectedUrl = `expected an https URL such as ${DEFAULT_API_URL}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(ctx, `got ${typeof v === 'string' ? showUrl(text) : show(v)}; ${expectedUrl}`);
  }
  // Credentials first: every later message quotes the URL.
  if (url.username || url.password)
    return fail(ctx, 'must not contain credentials: use apiToken or email and password');
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return fail(ctx, `got ${showUrl(text)}; ${expectedUrl}`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname))
    return fail(
      ctx,
      `got ${showUrl(text)}; plain http is refused outside loopback (the API token would travel unencrypted): use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    );
  if (url.search || url.hash)
    return fail(ctx, `got ${showUrl(text)}; expected a base URL without query or fragment`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return `${url.origin}${path}`;
});

const credentialsField = z
  .object({ apiToken: z.unknown(), email: z.unknown(), password: z.unknown() })
  .transform((v, ctx): Credentials => {
    const apiToken = trimmed(v.apiToken);
    const email = trimmed(v.email);
    // Passwords are taken verbatim: leading or trailing spaces may be part of them.
    const password = typeof v.password === 'string' && v.password !== '' ? v.password : undefined;
    if (apiToken) {
      if (/\s/.test(apiToken)) return fail(ctx, 'contains whitespace; expected one API token', ['apiToken']);
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
const envField = z.unknown().transform((v, ctx): EnvVar[] => {
  if (isBlank(v)) return [];
  if (typeof v !== 'string') return fail(ctx, 'expected dotenv text: NAME=value lines');
  const { vars, problems } = parseDotenv(v);
  if (problems.length > 0) return fail(ctx, problems.map((p) => p.message).join('; '));
  return vars;
});

const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6_PATTERN = /^[0-9A-Fa-f:.]+$/;

/** "10.250.0.5", "db.internal:5432", "[fd00::1]:443". Strict, because it ends up in a shell command. */
const vpnCheckField = z.unknown().transform((v, ctx): VpnCheckTarget | undefined => {
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

const platformField = z.unknown().transform((v, ctx): Platform => {
  if (v === 'github' || v === 'gitlab' || v === 'bitbucket') return v;
  return fail(ctx, `got ${show(v)}; expected github, gitlab or bitbucket`);
});

const repositoryField = z.unknown().transform((v, ctx) => {
  const text = trimmed(v);
  if (text === undefined) return fail(ctx, 'missing; expected the repository as "owner/name"');
  if (!/^[^\s/]+(\/[^\s/]+)+$/.test(text))
    return fail(ctx, `got ${show(text)}; expected "owner/name" (GitLab: "group/sub/project")`);
  return text;
});

/** Clone URL. Credentials in it (CI tokens) are split off: masked and never sent. */
const gitUrlField = (required: boolean) =>
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
    url.username = '';
    url.password = '';
    return { url: url.toString(), secrets };
  });

const commitField = z.unknown().transform((v, ctx) => {
  const text = trimmed(v);
  if (text === undefined) return undefined;
  if (!/^[0-9a-f]{7,64}$/i.test(text))
    return fail(ctx, `got ${show(text)}; expected a commit SHA (7-64 hex digits)`);
  return text.toLowerCase();
});

const positiveNumberField = (expected: string) =>
  z.unknown().transform((v, ctx) => {
    const text = trimmed(v);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) return fail(ctx, `got ${show(v)}; expected ${expected}`);
    return n;
  });

const openNumbersField = z.unknown().transform((v, ctx) => {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && (n as number) > 0))
    return fail(ctx, `got ${show(v)}; expected a list of open change-request numbers`);
  return v as number[];
});

const vpnSwitchField = z.unknown().transform((v, ctx) => {
  const text = trimmed(v) ?? 'in-place';
  if (text === 'in-place' || text === 'zero-downtime') return text;
  return fail(ctx, `got ${show(v)}; expected in-place or zero-downtime`);
});

// ---------------------------------------------------------------------------------------------
// The schema: JobInput, regrouped so cross-field rules are field rules, -> DeployRequest.

const INPUT_FIELDS = [
  'apiUrl',
  'team',
  'plan',
  'onDemand',
  'vpnConfig',
  'env',
  'restricted',
  'cloneDepth',
  'replicas',
  'baseImage',
  'vpnCheck',
  'healthCheck',
  'vpnSwitch',
  'timeoutSeconds',
  'platform',
  'repository',
  'gitUrl',
  'isPrivateRepo',
  'branch',
  'commit',
  'changeNumber',
  'openChangeNumbers',
  'pruneTtlHours',
  'dryRun',
] as const satisfies ReadonlyArray<keyof JobInput>;

function requestSchema(kind: JobKind) {
  const changeNumber = integerField(1, Number.MAX_SAFE_INTEGER, 'a positive whole number (the PR/MR number)');
  return z.preprocess(
    (raw) => {
      const input = (raw ?? {}) as Partial<JobInput>;
      // Every key present (even as undefined): zod 4 reports absent keys before field defaults run.
      const fields = Object.fromEntries(INPUT_FIELDS.map((key) => [key, input[key]]));
      return {
        ...fields,
        credentials: { apiToken: input.apiToken, email: input.email, password: input.password },
      };
    },
    z
      .object({
        credentials: credentialsField,
        apiUrl: apiUrlField,
        team: nameOrId('team'),
        plan: nameOrId('plan', DEFAULT_PLAN),
        onDemand: booleanField(false),
        vpnConfig: optionalName('the name of a VPN config of the team'),
        // The integration's own bookkeeping variables may not be declared (shared/workflow/managed-env.ts).
        env: envField.superRefine((vars, ctx) => {
          const problem = reservedEnvNameProblem(vars);
          if (problem !== undefined) fail(ctx, problem);
        }),
        restricted: booleanField(undefined),
        cloneDepth: integerField(1, 1_000_000, 'a positive whole number of commits'),
        replicas: integerField(1, 100, 'a whole number of replicas from 1'),
        baseImage: optionalName('a base image name'),
        vpnCheck: vpnCheckField,
        healthCheck: healthCheckField,
        vpnSwitch: vpnSwitchField,
        timeoutSeconds: integerField(1, 86_400, 'a whole number of seconds from 1 to 86400'),
        platform: platformField,
        repository: repositoryField,
        gitUrl: gitUrlField(kind === 'deploy'),
        isPrivateRepo: booleanField(true),
        branch:
          kind === 'deploy'
            ? requiredName('the branch to deploy')
            : optionalName('the branch of the preview'),
        commit: commitField,
        changeNumber,
        openChangeNumbers: openNumbersField,
        pruneTtlHours: positiveNumberField('a positive number of hours'),
        dryRun: booleanField(false),
      })
      .transform((f): DeployRequest => {
        const envSecrets = f.env.filter((e) => isSecretName(e.name)).map((e) => e.value);
        const credentialSecrets =
          f.credentials.kind === 'token' ? [f.credentials.apiToken] : [f.credentials.password];
        return {
          kind,
          credentials: f.credentials,
          apiUrl: f.apiUrl,
          // An id by the one id rule (digits, safe integer, from 1); other digits are a name, never
          // an id rounded from them (99999999999999999999 would look for team 1e20).
          team: parseId(f.team) !== undefined ? { id: Number(f.team) } : { name: f.team },
          plan: parseId(f.plan) !== undefined ? { id: Number(f.plan) } : { title: f.plan },
          onDemand: f.onDemand ?? false,
          vpnConfig: f.vpnConfig ?? null,
          env: f.env,
          restricted: f.restricted,
          cloneDepth: f.cloneDepth,
          replicas: f.replicas ?? 1,
          baseImage: f.baseImage,
          vpnCheck: f.vpnCheck,
          healthCheck: f.healthCheck,
          vpnSwitch: f.vpnSwitch,
          timeoutMs: (f.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
          platform: f.platform,
          repository: f.repository,
          gitUrl: f.gitUrl.url,
          isPrivateRepo: f.isPrivateRepo ?? true,
          branch: f.branch,
          commit: f.commit,
          changeNumber: f.changeNumber,
          workspaceName:
            kind === 'prune' || (f.changeNumber === undefined && f.branch === undefined)
              ? ''
              : workspaceName({
                  platform: f.platform,
                  repository: f.repository,
                  changeNumber: f.changeNumber,
                  branch: f.branch,
                }),
          openChangeNumbers: f.openChangeNumbers,
          pruneTtlHours: f.pruneTtlHours,
          dryRun: f.dryRun ?? false,
          secrets: [...credentialSecrets, ...envSecrets, ...f.gitUrl.secrets].filter((s) => s.length > 0),
        };
      }),
  );
}

const schemas = {
  deploy: requestSchema('deploy'),
  teardown: requestSchema('teardown'),
  prune: requestSchema('prune'),
} as const;

/** Validates a job's input; throws a ConfigError listing every bad field. */
export function parseRequest(input: JobInput, kind: JobKind): DeployRequest {
  parsingSecrets = new SecretSet();
  for (const secret of secretsOf(input)) parsingSecrets.add(secret);
  let result;
  try {
    result = schemas[kind].safeParse(input);
  } finally {
    parsingSecrets = undefined;
  }
  const issues = [...(result.success ? [] : toFieldIssues(result.error)), ...crossFieldIssues(input, kind)];
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  return result.data;
}

/** Rules across fields, checked on the raw input so they are reported together with field issues. */
function crossFieldIssues(input: JobInput, kind: JobKind): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (kind === 'teardown' && isBlank(input.changeNumber) && isBlank(input.branch))
    issues.push({
      field: 'changeNumber',
      message: 'missing; teardown needs the change number (or, for a branch preview, the branch)',
    });
  if (kind === 'prune' && input.openChangeNumbers === undefined && isBlank(input.pruneTtlHours))
    issues.push({
      field: 'openChangeNumbers',
      message: 'missing; prune needs the open change numbers, a TTL in hours (pruneTtlHours), or both',
    });
  return issues;
}

function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const field =
      issue.path
        .filter((p) => p !== 'credentials')
        .map(String)
        .join('.') || 'input';
    issues.push({ field, message: issue.message });
  }
  return issues;
}

/**
 * Values an adapter should mask even before calling the core (the core masks them too): the
 * credentials, the values of secret-named env variables (shared/request/secrets.ts), and every env line
 * that cannot be read as NAME=value (it may continue a secret pasted without quotes), without
 * validating anything.
 */
export function secretsOf(input: Partial<JobInput>): string[] {
  const out = [input.apiToken, input.password].filter(
    (s): s is string => typeof s === 'string' && s.trim() !== '',
  );
  if (typeof input.env === 'string') {
    const { vars, unreadable } = parseDotenv(input.env);
    for (const { name, value } of vars) if (isSecretName(name) && value !== '') out.push(value);
    out.push(...unreadable.filter((line) => line.trim() !== ''));
  }
  return out;
}
