/**
 * One job's context, read once from its CI platform (danger-js builds its CI providers the same
 * way: a plain `env` object in, one typed object out). Each adapter has one builder
 * (`readGitLabContext`, `readBitbucketContext`) that calls `readCiContext` below exactly once;
 * from then on nothing reads the environment: the job runner (job.ts) receives only the context.
 *
 * The builder never throws. What the log needs to be safe and readable (the secrets to mask, the
 * DEBUG and NO_COLOR choices) is read first, whatever else is wrong; a variable set wrongly is
 * kept as the context's `error`, which the job runner reports after masking, like any failure.
 */
import type { RunOrder } from './note.js';
import {
  platformSecrets,
  readCiVariables,
  readVariable,
  SECRET_VARIABLES,
  type CiVariables,
  type Env,
} from './variables.js';
import { parseBoolean, secretsOf, type JobInput, type JobKind } from '../index.js';

/** What the job runner needs of every platform's job; each adapter's context extends it. */
export interface CiJobContext {
  action: JobKind;
  /** The complete core input: the common variables plus the platform's repository, branch, commit, change number. */
  input: JobInput;
  /** The change request's number (MR IID, PR id), as in `input.changeNumber`; absent for a branch preview. */
  changeNumber: number | undefined;
  /** The CI platform's token (ACCESS_TOKEN): notes, the change request's state, prune's open list. */
  accessToken: string | undefined;
  /** The job's time budget in milliseconds (TIMEOUT, default 900 s), for the platform API calls too. */
  timeoutMs: number;
  /** The job's or pipeline's page, linked from the note. */
  jobUrl: string | undefined;
  /** This run's place among the repository's runs (note.ts `RunOrder`): a newer run's note is never overwritten. */
  runOrder: RunOrder;
  /** Set when the job has nothing to do: the notice the runner prints before it ends successfully. */
  skip?: string | undefined;
  /** False when the user turned the change request's note off (GitHub's `comment` input); default on. */
  writesNote?: boolean | undefined;
}

/** How the log looks and what it hides: read before anything else, so even a setup error prints masked. */
export interface CiLogContext {
  /** Every secret the job was given or derived (ours and the platform's), masked before anything prints. */
  secrets: string[];
  /** DEBUG by the one boolean rule, read leniently: a malformed value is off here and is the job's `error`. */
  debug: boolean;
  /** NO_COLOR is not set. */
  color: boolean;
}

/** A platform's context: the log part, and the job or the error (naming the variable) that keeps it from starting. */
export type CiContext<J extends CiJobContext> = CiLogContext &
  ({ ok: true; job: J } | { ok: false; error: unknown });

/** What an adapter's builder passes to `readCiContext`: its own variables, read from the same env object. */
export interface PlatformReading<J extends CiJobContext> {
  /** The platform's variables whose values are credentials (CI_JOB_TOKEN, BITBUCKET_STEP_OIDC_TOKEN, ...). */
  secretVariables: readonly string[];
  /** Secrets derived from the env (the token inside a clone URL): masked like the others. */
  derivedSecrets(env: Env): string[];
  /**
   * The platform's part of the job, given the common variables already read; throws a
   * CiVariableError naming the variable when one is set wrongly.
   */
  readJob(env: Env, common: CiVariables): J;
}

/**
 * Reads a job's context from a plain env object, once: secrets and log choices first, then the
 * common variables (variables.ts), then the platform's own. Never throws (see the module's doc).
 */
export function readCiContext<J extends CiJobContext>(env: Env, platform: PlatformReading<J>): CiContext<J> {
  const secrets = [...platformSecrets(env, [...SECRET_VARIABLES, ...platform.secretVariables])];
  const log = {
    secrets,
    debug: parseBoolean(env['DEBUG']) === true,
    color: readVariable(env, 'NO_COLOR') === undefined,
  };
  try {
    secrets.push(...platform.derivedSecrets(env));
    const common = readCiVariables(env);
    secrets.push(...common.secrets, ...secretsOf(common.input));
    return { ...log, ok: true, job: platform.readJob(env, common) };
  } catch (error) {
    return { ...log, ok: false, error };
  }
}
