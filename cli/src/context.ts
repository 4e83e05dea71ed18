/**
 * The CLI's job context: flags and the environment in, read once, the shared `CiJobContext` out
 * (shared/ci/context.ts), so the one job runner (shared/ci/job.ts) runs it as it runs GitLab's
 * and Bitbucket's. Credentials come only from the environment (CODESPHERE_API_TOKEN, or
 * CODESPHERE_EMAIL + CODESPHERE_PASSWORD): a flag would show in `ps` and in shell history.
 *
 * The flags are translated into the core's input variables (flags.ts) and read by the same
 * `readCiContext` as the other adapters; the user's own environment is never read as variables,
 * so a stray `TEAM` or `PLAN` in a Jenkins agent's environment changes nothing.
 */
import {
  type CiContext,
  type CiJobContext,
  CiVariableError,
  type Env,
  platformSecrets,
  readCiContext,
  readVariable,
  runOrderOf,
  urlCredentials,
} from '../../shared/ci/index.js';
import { parseBoolean, type JobKind } from '../../shared/index.js';
import { inputFlags, type InputFlag } from './flags.js';
import { readIdentity, type Identity, type IdentityFlags } from './identity.js';

/** The commands that run a job; `status` is a read-only prune (a dry run that lists the previews). */
export type JobCommand = JobKind | 'status';

/** A CLI job: the common context plus what only the CLI has. */
export interface CliJob extends CiJobContext {
  command: JobCommand;
  identity: Identity;
  /** `--open`: the open change requests, for prune (the CLI has no platform API to ask). */
  open: number[] | undefined;
}

/** The flags of a job command as commander parsed them: flag name (`vpn-config`) -> value. */
export interface JobFlags extends IdentityFlags {
  inputs: ReadonlyMap<string, string | boolean>;
  envFile?: string | undefined;
  open?: string | undefined;
  debug?: boolean | undefined;
}

/** How the CLI reads what lies outside the flags. */
export interface ContextIo {
  cwd: string;
  readFile(path: string): string;
  /** Whether stderr is a terminal: colours and progress there, plain lines in a CI log. */
  stderrIsTty: boolean;
}

/** Platform variables whose values are credentials, masked whatever the CI (never sent anywhere). */
export const CI_SECRET_VARIABLES = [
  'GITHUB_TOKEN',
  'CI_JOB_TOKEN',
  'BITBUCKET_STEP_OIDC_TOKEN',
  'SYSTEM_ACCESSTOKEN',
  'BUILDKITE_AGENT_ACCESS_TOKEN',
  'CIRCLE_TOKEN',
  'DRONE_NETRC_PASSWORD',
] as const;

/** The environment variables the CLI reads itself (the CI's own variables go to env-ci). */
export const CLI_VARIABLES = [
  'CODESPHERE_API_TOKEN',
  'CODESPHERE_EMAIL',
  'CODESPHERE_PASSWORD',
  'CODESPHERE_API_URL',
  'NO_COLOR',
] as const;

/** `--open 3,7,12` or `--open none`. */
function parseOpen(text: string): number[] {
  if (text.trim().toLowerCase() === 'none') return [];
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.some((part) => !/^[1-9]\d*$/.test(part)) || numbers.some((n) => !Number.isSafeInteger(n)))
    throw new CiVariableError(
      '--open',
      `got "${text}"; expected the open pull/merge request numbers, comma-separated ("3,7,12"), or none`,
    );
  return numbers;
}

function credentials(env: Env): Record<string, string | undefined> {
  const apiToken = readVariable(env, 'CODESPHERE_API_TOKEN');
  const email = readVariable(env, 'CODESPHERE_EMAIL');
  const password = readVariable(env, 'CODESPHERE_PASSWORD');
  if (apiToken) return { API_TOKEN: apiToken };
  if (email && password) return { EMAIL: email, PASSWORD: password };
  const missing = email ? 'CODESPHERE_PASSWORD' : password ? 'CODESPHERE_EMAIL' : 'CODESPHERE_API_TOKEN';
  throw new CiVariableError(
    missing,
    'missing; set CODESPHERE_API_TOKEN (a Codesphere API token), or CODESPHERE_EMAIL and CODESPHERE_PASSWORD, ' +
      'in the environment (never as a flag: flags show in ps and in shell history)',
  );
}

/** The input variables the flags give, as the core's table names them (`VPN_CONFIG`), plus ENV from --env-file. */
function inputVariables(flags: JobFlags, io: ContextIo, table: readonly InputFlag[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const flag of table) {
    const value = flags.inputs.get(flag.name);
    if (value !== undefined) variables[flag.variable] = String(value);
  }
  if (flags.envFile !== undefined) {
    try {
      variables['ENV'] = io.readFile(flags.envFile);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
      throw new CiVariableError(
        '--env-file',
        `cannot read "${flags.envFile}" (${code}); expected a dotenv file`,
      );
    }
  }
  return variables;
}

/**
 * Reads a CLI job's context from its flags and a plain env object; never throws: a flag or variable
 * set wrongly is the context's `error`, which names it (the job runner reports it, masked).
 */
export function readCliContext(
  command: JobCommand,
  flags: JobFlags,
  env: Env,
  io: ContextIo,
): CiContext<CliJob> {
  const secrets = platformSecrets(env, [
    'CODESPHERE_API_TOKEN',
    'CODESPHERE_PASSWORD',
    ...CI_SECRET_VARIABLES,
  ]);
  const log = {
    secrets,
    debug: flags.debug === true || parseBoolean(env['CODESPHERE_DEBUG']) === true,
    color: readVariable(env, 'NO_COLOR') === undefined && io.stderrIsTty,
  };
  let variables: Record<string, string | undefined>;
  try {
    variables = {
      // The runner reads prune's open list from the CLI's platform; ACTION prune would ask for ACCESS_TOKEN.
      ACTION: command === 'deploy' ? 'deploy' : 'teardown',
      API_URL: readVariable(env, 'CODESPHERE_API_URL'),
      // No colours in a CI log that is not a terminal, nor when the user's NO_COLOR asks.
      NO_COLOR: log.color ? undefined : '1',
      ...credentials(env),
      ...inputVariables(flags, io, inputFlags()),
    };
  } catch (error) {
    return { ...log, ok: false, error };
  }
  const context = readCiContext<CliJob>(variables, {
    secretVariables: [],
    derivedSecrets: () => urlCredentials(flags.repoUrl),
    readJob: (_variables, common) => {
      const identity = readIdentity(flags, env, io.cwd);
      const open = flags.open === undefined ? undefined : parseOpen(flags.open);
      if (command === 'prune' && open === undefined)
        throw new CiVariableError(
          '--open',
          'missing; prune deletes the previews of closed pull/merge requests, so it needs the open ones ' +
            '("--open 3,7,12", or "--open none")',
        );
      const kind: JobKind = command === 'status' ? 'prune' : command;
      const input = {
        ...common.input,
        platform: identity.platform,
        repository: identity.repository,
        gitUrl: identity.gitUrl,
        branch: identity.branch,
        commit: identity.commit,
        changeNumber: identity.changeNumber,
      };
      return {
        action: kind,
        command,
        identity,
        open,
        input,
        // prune and status are about the whole repository, not this build's change request.
        changeNumber: kind === 'prune' ? undefined : identity.changeNumber,
        accessToken: undefined,
        timeoutMs: common.timeoutMs,
        jobUrl: identity.buildUrl,
        runOrder: runOrderOf([]),
      };
    },
  });
  // The runner reads only `variables`: the CI's own tokens, --debug and CODESPHERE_DEBUG are not
  // among them, so the log's settings are the ones read above, and every secret is masked.
  return { ...context, ...log, secrets: [...new Set([...secrets, ...context.secrets])] };
}
