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
  CiVariableError,
  type Env,
  readId,
  readVariable,
  type RunOrder,
  runOrderOf,
  withoutCredentials,
} from '../../shared/ci/index.js';

export const DEFAULT_BITBUCKET_API_URL = 'https://api.bitbucket.org/2.0';

export interface BitbucketContext {
  workspace: string;
  repoSlug: string;
  /** "workspace/repo". */
  fullName: string;
  gitUrl: string;
  isPrivateRepo: boolean | undefined;
  /** Absent only in tag pipelines (prune and teardown do not need it). */
  branch: string | undefined;
  commit: string | undefined;
  pullRequestId: number | undefined;
  /** Bitbucket's REST API; BITBUCKET_API_URL overrides it (tests point it at a local double). */
  apiUrl: string;
  /** The pipeline's page, linked from the PR comment. */
  pipelineUrl: string | undefined;
  /**
   * This pipeline's place among the repository's pipelines, for the PR comment:
   * BITBUCKET_BUILD_NUMBER, which "increments with each build" of the repository. Rerunning failed
   * steps keeps the build number.
   */
  runOrder: RunOrder;
}

/** Bitbucket variables whose values are credentials. */
export const BITBUCKET_SECRET_VARIABLES = ['BITBUCKET_STEP_OIDC_TOKEN'] as const;

function required(env: Env, name: string): string {
  const value = readVariable(env, name);
  if (value === undefined) {
    throw new CiVariableError(
      name,
      'missing; Bitbucket Pipelines sets it in every step, so run this pipe as a `pipe:` in bitbucket-pipelines.yml',
    );
  }
  return value.trim();
}

function cloneUrl(env: Env, fullName: string): string {
  const origin =
    readVariable(env, 'BITBUCKET_GIT_HTTP_ORIGIN')?.trim() ?? `https://bitbucket.org/${fullName}`;
  const https = withoutCredentials(origin)
    .replace(/^http:\/\//i, 'https://')
    .replace(/\/+$/, '');
  return https.endsWith('.git') ? https : `${https}.git`;
}

export function readBitbucketContext(env: Env): BitbucketContext {
  const workspace = required(env, 'BITBUCKET_WORKSPACE');
  const repoSlug = required(env, 'BITBUCKET_REPO_SLUG');
  const fullName = readVariable(env, 'BITBUCKET_REPO_FULL_NAME')?.trim() ?? `${workspace}/${repoSlug}`;

  const pullRequestId = readId(env, 'BITBUCKET_PR_ID', 'the pull request id');

  const isPrivate = parseBoolean(env.BITBUCKET_REPO_IS_PRIVATE);
  const buildNumber = readVariable(env, 'BITBUCKET_BUILD_NUMBER')?.trim();
  return {
    workspace,
    repoSlug,
    fullName,
    gitUrl: cloneUrl(env, fullName),
    isPrivateRepo: isPrivate ?? undefined,
    branch: readVariable(env, 'BITBUCKET_BRANCH')?.trim(),
    commit: readVariable(env, 'BITBUCKET_COMMIT')?.trim(),
    pullRequestId,
    apiUrl: (readVariable(env, 'BITBUCKET_API_URL')?.trim() ?? DEFAULT_BITBUCKET_API_URL).replace(/\/+$/, ''),
    pipelineUrl: buildNumber
      ? `https://bitbucket.org/${fullName}/pipelines/results/${buildNumber}`
      : undefined,
    runOrder: runOrderOf([buildNumber]),
  };
}
