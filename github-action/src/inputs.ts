/**
 * Every input of action.yml, read once from the runner's environment (a plain object, so tests
 * pass one): input `name` arrives as INPUT_<NAME> (spaces to `_`, upper-cased, dashes kept, the
 * rule of @actions/core's getInput), trimmed. Values the core understands are passed on as typed:
 * its request schema validates them with the same wording on every platform. Only the GitHub-only
 * inputs (`action`, `comment`, `github-token`) are checked here.
 */
import { BOOLEAN_WORDS, ConfigError, parseBoolean, quoteGiven } from '../../shared/index.js';
import type { CommonJobInput } from '../../shared/ci/index.js';

/** The inputs the core reads, named as action.yml names them (the core's field names). */
const CORE_INPUTS = [
  ...['email', 'password', 'team', 'plan', 'onDemand', 'restricted', 'cloneDepth', 'env', 'vpnConfig'],
  ...['apiUrl', 'apiToken', 'vpnCheck', 'healthCheck', 'vpnSwitch', 'replicas', 'baseImage'],
  ...['profile', 'stages', 'healthPath'],
  ...['privateTargets', 'onCreate', 'onCreateService', 'onDelete', 'vpnPoolSize'],
  ...['timeoutSeconds', 'pruneTtlHours', 'dryRun'],
] as const satisfies ReadonlyArray<keyof CommonJobInput>;

/** Every input of action.yml (a test checks the two agree). */
export const INPUTS: readonly string[] = [...CORE_INPUTS, 'action', 'comment', 'github-token'];

/** Inputs that hold credentials: masked before anything else happens. */
export const SECRET_INPUTS = ['apiToken', 'password', 'github-token'] as const;

export const ACTIONS = ['auto', 'deploy', 'teardown', 'prune'] as const;
export type ActionChoice = (typeof ACTIONS)[number];

export interface ActionInputs {
  /** The job settings the core validates (multi-line `env` trimmed at its ends only). */
  core: CommonJobInput;
  /** Which job to run; `auto` derives it from the event. */
  action: ActionChoice;
  /** Keep the pull request comment up to date. */
  comment: boolean;
  /** Token for the GitHub API (deployments, comment, open pull requests); empty turns those off. */
  githubToken: string;
}

/** The runner's environment as adapters read it: variable name to value. */
export type RunnerEnv = Readonly<Record<string, string | undefined>>;

/** The variable the runner sets for input `name` (github.com/actions/runner; @actions/core getInput). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * `env` with every input as the toolkit's getInput reads it (@github/local-action's stub applies
 * action.yml's defaults), at the variables the context reader looks in. Calls getInput once per input.
 */
export function withInputs(env: RunnerEnv, getInput: (name: string) => string): RunnerEnv {
  return { ...env, ...Object.fromEntries(INPUTS.map((name) => [inputVariable(name), getInput(name)])) };
}

/** Input `name` as given, trimmed at both ends ('' when absent), as getInput returns it. */
function inputOf(env: RunnerEnv, name: string): string {
  return (env[inputVariable(name)] ?? '').trim();
}

/** The credential inputs' values, to mask before anything else happens. Never throws. */
export function secretInputValues(env: RunnerEnv): string[] {
  return SECRET_INPUTS.map((name) => inputOf(env, name)).filter((value) => value !== '');
}

/** Reads every input; throws a ConfigError naming `action` or `comment` when they are invalid. */
export function readInputs(env: RunnerEnv): ActionInputs {
  const core: CommonJobInput = {};
  for (const name of CORE_INPUTS) core[name] = inputOf(env, name) || undefined;
  return {
    core,
    action: parseChoice('action', inputOf(env, 'action') || 'auto', ACTIONS),
    comment: readBoolean('comment', inputOf(env, 'comment'), true),
    githubToken: inputOf(env, 'github-token'),
  };
}

function parseChoice<T extends string>(name: string, given: string, valid: readonly T[]): T {
  const match = valid.find((choice) => choice === given.toLowerCase());
  if (match === undefined) {
    throw ConfigError.single(name, `${quoteGiven(given)} is not valid; valid values: ${valid.join(', ')}.`);
  }
  return match;
}

/**
 * A boolean input by the one rule every platform shares (shared/request/values.ts), not
 * getBooleanInput, which would refuse `Yes` here while the core accepts it for onDemand.
 */
function readBoolean(name: string, given: string, fallback: boolean): boolean {
  const parsed = parseBoolean(given);
  if (parsed === null) throw ConfigError.single(name, `got ${quoteGiven(given)}; expected ${BOOLEAN_WORDS}`);
  return parsed ?? fallback;
}
