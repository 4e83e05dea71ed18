/**
 * Bitbucket Pipelines' default variables, read once into what the pipe needs.
 * https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/
 *
 * A `pull-requests:` pipeline sets BITBUCKET_PR_ID and BITBUCKET_BRANCH (the PR's source branch);
 * a branch pipeline only the latter, which gives a branch preview. BITBUCKET_GIT_HTTP_ORIGIN is
 * `http://bitbucket.org/<workspace>/<repo>`: plain http, so the clone URL is rebuilt as https.
 */
import { parseBoolean } from '../../shared/index.js';
import {
  type CiContext,
  type CiJobContext,
  type CiVariables,
  cloneUrlOf,
  type Env,
  readCiContext,
  readId,
  readRequired,
  readVariable,
  runOrderOf,
  urlCredentials,
} from '../../shared/ci/index.js';

export const DEFAULT_BITBUCKET_API_URL = 'https://api.bitbucket.org/2.0';

/** A Bitbucket step, read once: the common job context plus what only Bitbucket has. */
export interface BitbucketJob extends CiJobContext {
  workspace: string;
  repoSlug: string;
  /** Bitbucket's REST API; BITBUCKET_API_URL overrides it (tests point it at a local double). */
  apiUrl: string;
  /** ACCESS_TOKEN_USERNAME: with it, ACCESS_TOKEN is sent as Basic auth instead of Bearer. */
  accessTokenUsername: string | undefined;
  /** BITBUCKET_PIPELINES_VARIABLES_PATH: set only for steps that declare `output-variables`. */
  variablesPath: string | undefined;
}

export type BitbucketContext = CiContext<BitbucketJob>;

/** Bitbucket variables whose values are credentials. */
export const BITBUCKET_SECRET_VARIABLES = ['BITBUCKET_STEP_OIDC_TOKEN'] as const;

const required = (env: Env, name: string): string =>
  readRequired(
    env,
    name,
    'missing; Bitbucket Pipelines sets it in every step, so run this pipe as a `pipe:` in bitbucket-pipelines.yml',
  );

function readBitbucketJob(env: Env, common: CiVariables): BitbucketJob {
  const workspace = required(env, 'BITBUCKET_WORKSPACE');
  const repoSlug = required(env, 'BITBUCKET_REPO_SLUG');
  const fullName = readVariable(env, 'BITBUCKET_REPO_FULL_NAME')?.trim() ?? `${workspace}/${repoSlug}`;
  const pullRequestId = readId(env, 'BITBUCKET_PR_ID', 'the pull request id');
  // BITBUCKET_BUILD_NUMBER "increments with each build" of the repository; rerunning failed steps keeps it.
  const buildNumber = readVariable(env, 'BITBUCKET_BUILD_NUMBER')?.trim();
  return {
    action: common.action,
    input: {
      ...common.input,
      platform: 'bitbucket',
      repository: fullName,
      gitUrl: cloneUrlOf(
        readVariable(env, 'BITBUCKET_GIT_HTTP_ORIGIN') ?? `https://bitbucket.org/${fullName}`,
        {
          https: true,
        },
      ),
      isPrivateRepo: parseBoolean(env['BITBUCKET_REPO_IS_PRIVATE']) ?? undefined,
      // Tag pipelines have no branch; the core says so if the job needs one.
      branch: readVariable(env, 'BITBUCKET_BRANCH')?.trim() ?? '',
      commit: readVariable(env, 'BITBUCKET_COMMIT')?.trim(),
      changeNumber: pullRequestId,
    },
    changeNumber: pullRequestId,
    accessToken: common.accessToken,
    timeoutMs: common.timeoutMs,
    // The pipeline's page, linked from the PR comment.
    jobUrl: buildNumber ? `https://bitbucket.org/${fullName}/pipelines/results/${buildNumber}` : undefined,
    runOrder: runOrderOf([buildNumber]),
    workspace,
    repoSlug,
    apiUrl: (readVariable(env, 'BITBUCKET_API_URL')?.trim() ?? DEFAULT_BITBUCKET_API_URL).replace(/\/+$/, ''),
    accessTokenUsername: readVariable(env, 'ACCESS_TOKEN_USERNAME')?.trim(),
    variablesPath: readVariable(env, 'BITBUCKET_PIPELINES_VARIABLES_PATH')?.trim(),
  };
}

/**
 * The Bitbucket step's context from a plain env object (`process.env` in the pipe, literals in
 * tests), read once; never throws: a variable set wrongly is the context's `error`, which names it.
 */
export function readBitbucketContext(env: Env): BitbucketContext {
  return readCiContext(env, {
    secretVariables: BITBUCKET_SECRET_VARIABLES,
    derivedSecrets: (plain) => urlCredentials(readVariable(plain, 'BITBUCKET_GIT_HTTP_ORIGIN')),
    readJob: readBitbucketJob,
  });
}
