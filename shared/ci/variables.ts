/**
 * The variables GitLab CI and Bitbucket Pipelines users set, read the same way on both.
 *
 * Both platforms hand a job its configuration as environment variables with the same names
 * (`TEAM`, `PLAN`, `VPN_CONFIG`, ...). This module is a pure function from a plain `env` object
 * (danger-js style: the adapter passes `process.env`, tests pass literals) to the Codesphere part
 * of a `JobInput`, the job kind, and the list of secrets to mask. Value validation (is PLAN a
 * known plan, is CLONE_DEPTH a number) stays in the core's one request schema; here we only
 * decide which variable means what, and catch mix-ups the core cannot see, such as a platform
 * token put where a Codesphere credential belongs.
 */
import {
  BOOLEAN_WORDS,
  CiVariableError,
  ConfigError,
  DEFAULT_TIMEOUT_SECONDS,
  type JobInput,
  type JobKind,
  parseBoolean,
  parseId,
  quoteGiven,
  withoutCredentials,
} from '../index.js';

/** A process environment, or a literal in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The JobInput fields that come from the user's variables or action inputs (the rest is platform context). */
export type CommonJobInput = Omit<
  JobInput,
  | 'platform'
  | 'repository'
  | 'gitUrl'
  | 'isPrivateRepo'
  | 'branch'
  | 'commit'
  | 'changeNumber'
  | 'openChangeNumbers'
>;

export interface CiVariables {
  action: JobKind;
  debug: boolean;
  /** The CI platform's token (GitLab project/personal access token, Bitbucket access token): MR/PR notes and prune. */
  accessToken: string | undefined;
  /**
   * The job's time budget in milliseconds (TIMEOUT, default 900 s), for the adapter's own calls to
   * its platform's API. An invalid TIMEOUT gives the default here; the core reports it.
   */
  timeoutMs: number;
  input: CommonJobInput;
  /** Every secret among the variables read, for Reporter.mask before the first request. */
  secrets: string[];
}

/**
 * Variable name -> JobInput field, for the plain pass-through ones. The table is the
 * documentation's source too: the pipe's README lists the same names.
 */
export const PASS_THROUGH_VARIABLES = {
  API_URL: 'apiUrl',
  TEAM: 'team',
  PLAN: 'plan',
  ON_DEMAND: 'onDemand',
  VPN_CONFIG: 'vpnConfig',
  ENV: 'env',
  RESTRICTED: 'restricted',
  CLONE_DEPTH: 'cloneDepth',
  REPLICAS: 'replicas',
  PROFILE: 'profile',
  STAGES: 'stages',
  HEALTH_PATH: 'healthPath',
  BASE_IMAGE: 'baseImage',
  VPN_CHECK: 'vpnCheck',
  HEALTH_CHECK: 'healthCheck',
  VPN_SWITCH: 'vpnSwitch',
  PRIVATE_TARGETS: 'privateTargets',
  ON_CREATE: 'onCreate',
  ON_CREATE_SERVICE: 'onCreateService',
  ON_DELETE: 'onDelete',
  VPN_POOL_SIZE: 'vpnPoolSize',
  TIMEOUT: 'timeoutSeconds',
  PRUNE_TTL_HOURS: 'pruneTtlHours',
  DRY_RUN: 'dryRun',
} as const satisfies Record<string, keyof CommonJobInput>;

/** Our variables that hold secrets: masked straight from the environment, before anything is parsed. */
export const SECRET_VARIABLES = ['API_TOKEN', 'PASSWORD', 'ACCESS_TOKEN'] as const;

/** Every variable `readCiVariables` reads: the docs of both adapters list exactly these (plus their own). */
export const COMMON_VARIABLES = [
  ...SECRET_VARIABLES,
  'EMAIL',
  'ACTION',
  'DEBUG',
  ...Object.keys(PASS_THROUGH_VARIABLES),
] as const;

const ACTIONS: readonly JobKind[] = ['deploy', 'teardown', 'prune'];

/**
 * Names people plausibly type for our variables (the GitHub Action's input names, the official
 * integration's spellings). Set without the real one, they would be ignored silently; we say so.
 */
const MISSPELLINGS: Readonly<Record<string, string>> = {
  VPNCONFIG: 'VPN_CONFIG',
  VPN: 'VPN_CONFIG',
  ONDEMAND: 'ON_DEMAND',
  APITOKEN: 'API_TOKEN',
  API_KEY: 'API_TOKEN',
  CODESPHERE_API_TOKEN: 'API_TOKEN',
  CLONEDEPTH: 'CLONE_DEPTH',
  APIURL: 'API_URL',
  VPNCHECK: 'VPN_CHECK',
};

/** An unset or blank variable is "not given", the way both platforms expand an undefined `$VAR`. */
export function readVariable(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * A variable the platform sets in every job (CI_PROJECT_PATH, BITBUCKET_WORKSPACE), trimmed.
 * Unset or blank means the entry runs outside that platform: a CiVariableError naming the
 * variable with `missing`, the platform's words on how to run it.
 */
export function readRequired(env: Env, name: string, missing: string): string {
  const value = readVariable(env, name);
  if (value === undefined) throw new CiVariableError(name, missing);
  return value.trim();
}

/** A yes/no variable such as DEBUG, by the one boolean rule (values.ts); anything else is an error naming the variable. */
export function readFlag(env: Env, name: string, fallback: boolean): boolean {
  const parsed = parseBoolean(env[name]);
  if (parsed === null)
    throw new CiVariableError(name, `got ${quoteGiven(env[name] ?? '')}; expected ${BOOLEAN_WORDS}`);
  return parsed ?? fallback;
}

/**
 * A platform's id variable (CI_MERGE_REQUEST_IID, BITBUCKET_PR_ID): digits only, from 1, by the
 * one id rule (values.ts parseId). Unset or blank gives `undefined`; "9.0", "+9", "9e0" or "0x9"
 * are errors naming the variable, never a guessed number.
 */
export function readId(env: Env, name: string, what: string): number | undefined {
  const raw = readVariable(env, name);
  if (raw === undefined) return undefined;
  const id = parseId(raw);
  if (id === undefined)
    throw new CiVariableError(name, `got ${quoteGiven(raw)}; expected ${what} (digits only, from 1)`);
  return id;
}

/** TIMEOUT in milliseconds by the core's rule (whole seconds, 1-86400), the default when unset or invalid. */
export function timeoutMsOf(value: string | number | undefined): number {
  const id = value === undefined ? undefined : parseId(value);
  return (id !== undefined && id <= 86_400 ? id : DEFAULT_TIMEOUT_SECONDS) * 1000;
}

function readAction(env: Env): JobKind {
  const raw = readVariable(env, 'ACTION');
  if (raw === undefined) return 'deploy';
  const action = raw.trim().toLowerCase();
  const known = ACTIONS.find((candidate) => candidate === action);
  if (!known) {
    throw new CiVariableError('ACTION', `got ${quoteGiven(raw)}; expected one of ${ACTIONS.join(', ')}`);
  }
  return known;
}

/**
 * Codesphere credentials. API_TOKEN wins; EMAIL + PASSWORD are the official integration's way and
 * still work. ACCESS_TOKEN is never a Codesphere credential: in the seed's snippets and in our docs
 * it is the CI platform's token, so a job with only ACCESS_TOKEN gets an error that says so.
 */
function readCredentials(env: Env): Pick<CommonJobInput, 'apiToken' | 'email' | 'password'> {
  const apiToken = readVariable(env, 'API_TOKEN');
  if (apiToken) return { apiToken };
  const email = readVariable(env, 'EMAIL');
  const password = readVariable(env, 'PASSWORD');
  if (email && password) return { email, password };
  if (email || password) {
    const missing = email ? 'PASSWORD' : 'EMAIL';
    throw new CiVariableError(
      missing,
      `missing; ${missing === 'PASSWORD' ? 'EMAIL' : 'PASSWORD'} is set, and EMAIL and PASSWORD go together (or set API_TOKEN, a Codesphere API token, instead)`,
    );
  }
  const hint = readVariable(env, 'ACCESS_TOKEN')
    ? ". ACCESS_TOKEN is set, but it is the CI platform's token (for merge/pull request notes and prune), not a Codesphere credential"
    : '';
  throw new CiVariableError(
    'API_TOKEN',
    `missing Codesphere credentials; expected API_TOKEN (a Codesphere API token, preferred), or EMAIL and PASSWORD${hint}`,
  );
}

function checkMisspellings(env: Env): void {
  for (const [typo, correct] of Object.entries(MISSPELLINGS)) {
    if (readVariable(env, typo) !== undefined && readVariable(env, correct) === undefined) {
      throw new CiVariableError(typo, `is not a variable of this job; did you mean ${correct}?`);
    }
  }
}

/**
 * Reads the common variables. Prune needs no Codesphere-side input beyond credentials and team, but
 * it does need ACCESS_TOKEN: without the platform's list of open requests every preview would look
 * stale, so we refuse rather than guess.
 */
export function readCiVariables(env: Env): CiVariables {
  checkMisspellings(env);
  const action = readAction(env);
  const debug = readFlag(env, 'DEBUG', false);
  const accessToken = readVariable(env, 'ACCESS_TOKEN')?.trim();
  const credentials = readCredentials(env);

  const input: CommonJobInput = { ...credentials };
  for (const [variable, field] of Object.entries(PASS_THROUGH_VARIABLES)) {
    const value = readVariable(env, variable);
    if (value !== undefined) input[field] = value;
  }

  if (action === 'prune' && !accessToken) {
    throw new CiVariableError(
      'ACCESS_TOKEN',
      'missing; ACTION prune needs a token that can read the merge/pull requests, to know which are still open',
    );
  }

  const secrets = [
    credentials.apiToken,
    credentials.password,
    accessToken,
    readVariable(env, 'PASSWORD'),
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
  return { action, debug, accessToken, timeoutMs: timeoutMsOf(readVariable(env, 'TIMEOUT')), input, secrets };
}

/**
 * Platform-defined variables that hold secrets. Masked whether or not we use them: a core error
 * that echoes a URL or a header must not be the one place they show up.
 */
export function platformSecrets(env: Env, names: readonly string[]): string[] {
  return names.map((name) => readVariable(env, name)).filter((value): value is string => value !== undefined);
}

/**
 * The secret part of a URL with credentials: the password ("https://gitlab-ci-token:<token>@host"),
 * or a lone user name, which is how tokens ride in many clone URLs ("https://<token>@host").
 */
export function urlCredentials(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const parsed = new URL(url);
    const secret = parsed.password || parsed.username;
    return secret ? [decodeURIComponent(secret)] : [];
  } catch {
    return [];
  }
}

/** One stripper for the core and the adapters (shared/request/urls.ts). */
export { withoutCredentials } from '../index.js';

/**
 * The clone URL a workspace gets from a platform's project URL: credentials removed, trailing
 * slashes dropped, `.git` appended once. `https` upgrades a plain `http://` origin (Bitbucket's
 * BITBUCKET_GIT_HTTP_ORIGIN is http; bitbucket.org serves git over https only).
 */
export function cloneUrlOf(projectUrl: string, options: { https?: boolean } = {}): string {
  let bare = withoutCredentials(projectUrl.trim());
  if (options.https) bare = bare.replace(/^http:\/\//i, 'https://');
  bare = bare.replace(/\/+$/, '');
  return bare.endsWith('.git') ? bare : `${bare}.git`;
}

/** The core names JobInput fields; users of these platforms set variables. */
const FIELD_TO_VARIABLE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(PASS_THROUGH_VARIABLES).map(([variable, field]) => [field, variable])),
  apiToken: 'API_TOKEN',
  email: 'EMAIL',
  password: 'PASSWORD',
};

/**
 * The core's ConfigError with each field renamed to the variable the user set (`vpnConfig` ->
 * `VPN_CONFIG`), so the message points at the line to fix in .gitlab-ci.yml or
 * bitbucket-pipelines.yml. `platformFields` adds the adapter's own (`repository` -> `CI_PROJECT_PATH`).
 * Anything else is returned unchanged.
 */
export function inVariableTerms(
  error: unknown,
  platformFields: Readonly<Record<string, string>> = {},
): unknown {
  if (!(error instanceof ConfigError) || error instanceof CiVariableError) return error;
  const rename = (field: string): string => platformFields[field] ?? FIELD_TO_VARIABLE[field] ?? field;
  if (error.issues.every((issue) => rename(issue.field) === issue.field)) return error;
  return new ConfigError(
    error.issues.map((issue) => ({ field: rename(issue.field), message: issue.message })),
    { cause: error },
  );
}
