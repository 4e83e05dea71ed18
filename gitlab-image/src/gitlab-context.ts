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
  CiVariableError,
  type Env,
  readId,
  readVariable,
  type RunOrder,
  runOrderOf,
  urlCredentials,
  withoutCredentials,
} from '../../shared/ci/index.js';

export interface GitLabContext {
  /** "group/subgroup/project". */
  projectPath: string;
  /** For API paths: the numeric id, or the URL-encoded path (GitLab accepts both). */
  projectRef: string;
  /** e.g. https://gitlab.com/api/v4 */
  apiV4Url: string | undefined;
  /** Credential-free clone URL of the project the branch lives in (the fork, for fork MRs). */
  gitUrl: string;
  isPrivateRepo: boolean | undefined;
  branch: string;
  commit: string | undefined;
  mergeRequestIid: number | undefined;
  /** The job is an environment's stop job. */
  isStopJob: boolean;
  jobUrl: string | undefined;
  /**
   * This pipeline's place among the project's pipelines, for the MR note: CI_PIPELINE_ID, the
   * instance-wide pipeline id (increasing with every new pipeline, and comparable between a fork's
   * and its parent's pipelines, which CI_PIPELINE_IID, per project, is not). A retried job keeps
   * its pipeline's id; a stop job runs in the pipeline of the deployment it stops.
   */
  runOrder: RunOrder;
}

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

/** The token inside CI_REPOSITORY_URL ("https://gitlab-ci-token:<job token>@gitlab.com/group/project.git"). */
export function gitlabDerivedSecrets(env: Env): string[] {
  return urlCredentials(readVariable(env, 'CI_REPOSITORY_URL'));
}

function required(env: Env, name: string): string {
  const value = readVariable(env, name);
  if (value === undefined) {
    throw new CiVariableError(
      name,
      `${name} is not set. GitLab sets it in every CI job; run /app/server as a job's script in GitLab CI (GitLab 13.0 or later).`,
    );
  }
  return value.trim();
}

/** "https://gitlab.example.com/group/project" -> "https://gitlab.example.com/group/project.git", never with credentials. */
function cloneUrl(projectUrl: string): string {
  const bare = withoutCredentials(projectUrl).replace(/\/+$/, '');
  return bare.endsWith('.git') ? bare : `${bare}.git`;
}

export function readGitLabContext(env: Env): GitLabContext {
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

  return {
    projectPath,
    projectRef: readVariable(env, 'CI_PROJECT_ID')?.trim() ?? encodeURIComponent(projectPath),
    apiV4Url: readVariable(env, 'CI_API_V4_URL')?.trim().replace(/\/+$/, ''),
    gitUrl: cloneUrl(mergeRequestIid !== undefined && sourceProjectUrl ? sourceProjectUrl : projectUrl),
    // "internal" projects need credentials to clone just like private ones.
    isPrivateRepo: visibility === undefined ? undefined : visibility !== 'public',
    branch: branch.trim(),
    commit: (
      readVariable(env, 'CI_MERGE_REQUEST_SOURCE_BRANCH_SHA') ?? readVariable(env, 'CI_COMMIT_SHA')
    )?.trim(),
    mergeRequestIid,
    isStopJob: readVariable(env, 'CI_ENVIRONMENT_ACTION')?.trim().toLowerCase() === 'stop',
    jobUrl: readVariable(env, 'CI_JOB_URL')?.trim(),
    runOrder: runOrderOf([readVariable(env, 'CI_PIPELINE_ID')]),
  };
}
