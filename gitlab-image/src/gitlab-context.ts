/**
 * GitLab's predefined variables, read once into what the job needs.
 * https://docs.gitlab.com/ci/variables/predefined_variables/
 *
 * Three pipeline shapes reach us:
 * - merge request pipelines: CI_MERGE_REQUEST_* are set and CI_COMMIT_BRANCH is absent, so the
 *   branch comes from CI_MERGE_REQUEST_SOURCE_BRANCH_NAME;
 * - merged-results pipelines: as above, but CI_COMMIT_SHA is the temporary merge commit, which the
 *   workspace could never check out; CI_MERGE_REQUEST_SOURCE_BRANCH_SHA is the branch head;
 * - branch pipelines (no MR): a branch preview named after the branch.
 * A stop job (`environment: action: stop`) gets CI_ENVIRONMENT_ACTION=stop and means teardown.
 */
import {
  type CiContext,
  type CiJobContext,
  type CiVariables,
  CiVariableError,
  cloneUrlOf,
  type Env,
  readCiContext,
  readId,
  readRequired,
  readVariable,
  runOrderOf,
  urlCredentials,
} from '../../shared/ci/index.js';

/** Where the dotenv report goes unless DOTENV_PATH says otherwise; the README's `artifacts:` names it. */
export const DEFAULT_DOTENV_PATH = 'deploy.env';

/** A GitLab job, read once: the common job context plus what only GitLab has. */
export interface GitLabJob extends CiJobContext {
  /** For API paths: the numeric id, or the URL-encoded path (GitLab accepts both). */
  projectRef: string;
  /** e.g. https://gitlab.com/api/v4; absent outside GitLab (prune then says to set it). */
  apiV4Url: string | undefined;
  /** The job is an environment's stop job (CI_ENVIRONMENT_ACTION=stop). */
  isStopJob: boolean;
  /** DOTENV_PATH as given (or deploy.env), relative to the job's folder. */
  dotenvPath: string;
}

export type GitLabContext = CiContext<GitLabJob>;

/** GitLab variables whose values are credentials; masked even though we never print them on purpose. */
export const GITLAB_SECRET_VARIABLES = [
  'CI_JOB_TOKEN',
  'CI_JOB_JWT',
  'CI_JOB_JWT_V1',
  'CI_JOB_JWT_V2',
  'CI_REGISTRY_PASSWORD',
  'CI_DEPENDENCY_PROXY_PASSWORD',
  'CI_DEPLOY_PASSWORD',
  'CI_REPOSITORY_URL',
] as const;

const required = (env: Env, name: string): string =>
  readRequired(
    env,
    name,
    `${name} is not set. GitLab sets it in every CI job; run /app/server as a job's script in GitLab CI (GitLab 13.0 or later).`,
  );

/**
 * ACTION says what to do; a stop job (`environment: action: stop`) means teardown without it. A stop
 * job with ACTION set to something else is a contradiction we refuse rather than guess.
 */
function jobKind(env: Env, common: CiVariables, isStopJob: boolean): CiVariables['action'] {
  if (!isStopJob) return common.action;
  if (readVariable(env, 'ACTION') !== undefined && common.action !== 'teardown') {
    throw new CiVariableError(
      'ACTION',
      `ACTION is "${common.action}" but this is an environment stop job (CI_ENVIRONMENT_ACTION=stop), which tears the preview down. Remove ACTION from the stop job or set it to teardown.`,
    );
  }
  return 'teardown';
}

function readGitLabJob(env: Env, common: CiVariables): GitLabJob {
  const projectPath = required(env, 'CI_PROJECT_PATH');
  const projectUrl = required(env, 'CI_PROJECT_URL');
  const mergeRequestIid = readId(env, 'CI_MERGE_REQUEST_IID', "the merge request's IID");

  const branch =
    readVariable(env, 'CI_MERGE_REQUEST_SOURCE_BRANCH_NAME') ??
    readVariable(env, 'CI_COMMIT_BRANCH') ??
    readVariable(env, 'CI_COMMIT_REF_NAME');
  if (branch === undefined) {
    throw new CiVariableError(
      'CI_COMMIT_REF_NAME',
      'No branch: none of CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, CI_COMMIT_BRANCH, CI_COMMIT_REF_NAME is set.',
    );
  }

  // A fork's MR builds the fork's branch, so the workspace must clone the fork.
  const sourceProjectUrl = readVariable(env, 'CI_MERGE_REQUEST_SOURCE_PROJECT_URL');
  const visibility = readVariable(env, 'CI_PROJECT_VISIBILITY')?.trim().toLowerCase();
  const isStopJob = readVariable(env, 'CI_ENVIRONMENT_ACTION')?.trim().toLowerCase() === 'stop';

  return {
    action: jobKind(env, common, isStopJob),
    input: {
      ...common.input,
      platform: 'gitlab',
      repository: projectPath,
      gitUrl: cloneUrlOf(mergeRequestIid !== undefined && sourceProjectUrl ? sourceProjectUrl : projectUrl),
      // "internal" projects need credentials to clone just like private ones.
      isPrivateRepo: visibility === undefined ? undefined : visibility !== 'public',
      branch: branch.trim(),
      // A merged-results pipeline's CI_COMMIT_SHA is a temporary merge commit; the branch head is the source SHA.
      commit: (
        readVariable(env, 'CI_MERGE_REQUEST_SOURCE_BRANCH_SHA') ?? readVariable(env, 'CI_COMMIT_SHA')
      )?.trim(),
      changeNumber: mergeRequestIid,
    },
    changeNumber: mergeRequestIid,
    accessToken: common.accessToken,
    timeoutMs: common.timeoutMs,
    jobUrl: readVariable(env, 'CI_JOB_URL')?.trim(),
    // CI_PIPELINE_ID, the instance-wide pipeline id: increasing with every new pipeline and
    // comparable between a fork's and its parent's pipelines, which CI_PIPELINE_IID (per project)
    // is not. A retried job keeps its pipeline's id; a stop job runs in the pipeline of the
    // deployment it stops.
    runOrder: runOrderOf([readVariable(env, 'CI_PIPELINE_ID')]),
    // Checked as an id: it goes into every API path, where a `/`, `..`, `?` or `#` would send the
    // token to another route.
    projectRef: String(
      readId(env, 'CI_PROJECT_ID', "the project's numeric id") ?? encodeURIComponent(projectPath),
    ),
    apiV4Url: readVariable(env, 'CI_API_V4_URL')?.trim().replace(/\/+$/, ''),
    isStopJob,
    dotenvPath: readVariable(env, 'DOTENV_PATH')?.trim() ?? DEFAULT_DOTENV_PATH,
  };
}

/**
 * The GitLab job's context from a plain env object (`process.env` in the image, literals in
 * tests), read once; never throws: a variable set wrongly is the context's `error`, which names it.
 * Secrets include the job token inside CI_REPOSITORY_URL, which GitLab itself does not mask in that form.
 */
export function readGitLabContext(env: Env): GitLabContext {
  return readCiContext(env, {
    secretVariables: GITLAB_SECRET_VARIABLES,
    derivedSecrets: (plain) => urlCredentials(readVariable(plain, 'CI_REPOSITORY_URL')),
    readJob: readGitLabJob,
  });
}
