/**
 * Every input of action.yml, read once into one typed object from the runner's environment (a
 * plain object, so tests pass one): the runner hands input `name` to the step as the variable
 * INPUT_<NAME> (spaces to `_`, upper-cased, dashes kept), the rule @actions/core's getInput reads
 * by; its value trimmed, except where noted.
 *
 * Values the core understands are passed on as the strings the user typed: the core's request
 * schema validates, coerces and reports them all at once, with the same wording on every
 * platform. Only the inputs that exist for GitHub alone (`action`, `comment`, `github-token`)
 * are checked here.
 */
import { BOOLEAN_WORDS, ConfigError, parseBoolean, quoteGiven } from '../../shared/index.js';
import type { CommonJobInput } from '../../shared/ci/index.js';

/** Input names as action.yml spells them (the runner exposes them as INPUT_<NAME UPPERCASED>). */
export const INPUT = {
  email: 'email',
  password: 'password',
  team: 'team',
  plan: 'plan',
  onDemand: 'onDemand',
  restricted: 'restricted',
  cloneDepth: 'cloneDepth',
  env: 'env',
  vpnConfig: 'vpnConfig',
  apiUrl: 'apiUrl',
  apiToken: 'apiToken',
  vpnCheck: 'vpnCheck',
  healthCheck: 'healthCheck',
  vpnSwitch: 'vpnSwitch',
  privateTargets: 'privateTargets',
  onCreate: 'onCreate',
  onCreateService: 'onCreateService',
  onDelete: 'onDelete',
  vpnPoolSize: 'vpnPoolSize',
  replicas: 'replicas',
  baseImage: 'baseImage',
  timeoutSeconds: 'timeoutSeconds',
  action: 'action',
  pruneTtlHours: 'pruneTtlHours',
  dryRun: 'dryRun',
  comment: 'comment',
  githubToken: 'github-token',
} as const;

/** Inputs that hold credentials: masked before anything else happens. */
export const SECRET_INPUTS = [INPUT.apiToken, INPUT.password, INPUT.githubToken] as const;

export const ACTIONS = ['auto', 'deploy', 'teardown', 'prune'] as const;
export type ActionChoice = (typeof ACTIONS)[number];

/** The job settings the core validates, minus what comes from the GitHub context: the part the inputs fill. */
export type CoreSettings = CommonJobInput;

export interface ActionInputs {
  core: CoreSettings;
  /** Which job to run; `auto` derives it from the event. */
  action: ActionChoice;
  /** Keep the pull request comment up to date. */
  comment: boolean;
  /** Token for the GitHub API (deployments, comment, open pull requests); empty disables those features. */
  githubToken: string;
}

/** The runner's environment as adapters read it: variable name to value. */
export type RunnerEnv = Readonly<Record<string, string | undefined>>;

/** The variable the runner sets for input `name` (github.com/actions/runner; @actions/core getInput). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Input `name` as given, trimmed at both ends ('' when absent), as getInput returns it. */
function inputOf(env: RunnerEnv, name: string): string {
  return (env[inputVariable(name)] ?? '').trim();
}

/**
 * The credential inputs' values, to register with the log masking before anything else happens
 * (reading every other input may fail, and its error is printed). Never throws.
 */
export function secretInputValues(env: RunnerEnv): string[] {
  return SECRET_INPUTS.map((name) => inputOf(env, name)).filter((value) => value !== '');
}

/** Reads every input; throws a ConfigError naming `action` or `comment` when they are invalid. */
export function readInputs(env: RunnerEnv): ActionInputs {
  const text = (name: string): string | undefined => inputOf(env, name) || undefined;
  const settings: CoreSettings = {
    apiToken: text(INPUT.apiToken),
    email: text(INPUT.email),
    password: text(INPUT.password),
    apiUrl: text(INPUT.apiUrl),
    team: text(INPUT.team),
    plan: text(INPUT.plan),
    onDemand: text(INPUT.onDemand),
    vpnConfig: text(INPUT.vpnConfig),
    // Multi-line dotenv text: trimmed at its ends only, the core parses the lines.
    env: inputOf(env, INPUT.env) || undefined,
    restricted: text(INPUT.restricted),
    cloneDepth: text(INPUT.cloneDepth),
    replicas: text(INPUT.replicas),
    baseImage: text(INPUT.baseImage),
    vpnCheck: text(INPUT.vpnCheck),
    healthCheck: text(INPUT.healthCheck),
    vpnSwitch: text(INPUT.vpnSwitch),
    // Multi-line lists and shell commands: trimmed at their ends only.
    privateTargets: inputOf(env, INPUT.privateTargets) || undefined,
    onCreate: inputOf(env, INPUT.onCreate) || undefined,
    onCreateService: text(INPUT.onCreateService),
    onDelete: inputOf(env, INPUT.onDelete) || undefined,
    vpnPoolSize: text(INPUT.vpnPoolSize),
    timeoutSeconds: text(INPUT.timeoutSeconds),
    pruneTtlHours: text(INPUT.pruneTtlHours),
    dryRun: text(INPUT.dryRun),
  };
  return {
    core: settings,
    action: parseChoice(INPUT.action, inputOf(env, INPUT.action) || 'auto', ACTIONS),
    comment: readBoolean(INPUT.comment, inputOf(env, INPUT.comment), true),
    githubToken: inputOf(env, INPUT.githubToken),
  };
}

function parseChoice<T extends string>(name: string, given: string, valid: readonly T[]): T {
  const value = given.toLowerCase();
  const match = valid.find((choice) => choice === value);
  if (match === undefined) {
    throw ConfigError.single(name, `${quoteGiven(given)} is not valid; valid values: ${valid.join(', ')}.`);
  }
  return match;
}

/**
 * A boolean input by the one rule every platform shares (shared/request/values.ts), not @actions/core's
 * getBooleanInput, which knows only YAML 1.2's core booleans and would refuse `Yes` here while
 * the core accepts it for onDemand.
 */
function readBoolean(name: string, given: string, fallback: boolean): boolean {
  const parsed = parseBoolean(given);
  if (parsed === null) throw ConfigError.single(name, `got ${quoteGiven(given)}; expected ${BOOLEAN_WORDS}`);
  return parsed ?? fallback;
}
