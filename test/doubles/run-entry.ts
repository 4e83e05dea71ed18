/**
 * Runs a built adapter bundle as its CI runner does: a separate `node` process in the job's
 * working directory, with a clean environment holding only what the platform and the user's
 * YAML put there. Also the variables each platform sets, built the way its runner sets them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The node binary that runs the built bundles: this one, or ADAPTER_NODE (.ci/run sets it to the
 * registry's Node 24, the runtime GitHub's `node24` and the images use).
 */
export const adapterNode = process.env['ADAPTER_NODE'] || process.execPath;

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const gitlabEntry = path.join(repoRoot, 'gitlab-image/dist/index.js');
export const bitbucketEntry = path.join(repoRoot, 'bitbucket-pipe/dist/index.js');

// The default seed's credentials (emulator/seeds/default.yaml).
export const DEMO_TOKEN = 'csdemo-token-0123456789abcdef';
export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';

export interface EntryRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr, ANSI colour codes and GitLab section markers removed: what a reader sees. */
  text: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function plainText(raw: string): string {
  return raw
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.replace(/^section_(start|end):\d+:[^\r]*\r/, ''))
    .join('\n');
}

export function runEntry(entry: string, env: Record<string, string>, cwd: string): Promise<EntryRun> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first.`);
  return new Promise((resolve, reject) => {
    const child = spawn(adapterNode, [entry], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, text: plainText(`${stdout}\n${stderr}`) }));
  });
}

export function describeRun(run: EntryRun): string {
  return `exit ${String(run.code)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The last non-empty line a reader sees: the pipe-style `✔`/`✖` verdict. */
export function lastLine(run: EntryRun): string {
  const lines = plainText(run.stdout + run.stderr)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines[lines.length - 1] ?? '';
}

// ---------------------------------------------------------------------------------------------
// GitLab: https://docs.gitlab.com/ci/variables/predefined_variables/

export const GITLAB_JOB_TOKEN = 'glcbt-64_jobtoken0123456789abcdefXYZ';
export const GITLAB_ACCESS_TOKEN = 'glpat-accesstoken0123456789abcdef';
export const GITLAB_PROJECT = {
  id: 4711,
  path: 'acme/web/shop',
  url: 'https://gitlab.example.com/acme/web/shop',
};

export interface GitLabJob {
  /** MR pipeline for this iid; absent: a branch pipeline. */
  mergeRequestIid?: number;
  branch?: string;
  sha?: string;
  /** Merged-results pipeline: CI_COMMIT_SHA is the merge commit, the source SHA is separate. */
  mergedResults?: boolean;
  stop?: boolean;
  /** CI_PIPELINE_ID: the instance-wide pipeline id, increasing with every new pipeline. */
  pipelineId?: number;
  apiV4Url: string;
}

export function gitlabJobEnv(job: GitLabJob, cwd: string): Record<string, string> {
  const branch = job.branch ?? `feature-${job.mergeRequestIid ?? 'x'}`;
  const sha = job.sha ?? 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
  const host = new URL(GITLAB_PROJECT.url).host;
  const env: Record<string, string> = {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_SERVER_URL: `https://${host}`,
    CI_API_V4_URL: job.apiV4Url,
    CI_PROJECT_ID: String(GITLAB_PROJECT.id),
    CI_PROJECT_NAME: 'shop',
    CI_PROJECT_PATH: GITLAB_PROJECT.path,
    CI_PROJECT_URL: GITLAB_PROJECT.url,
    CI_PROJECT_VISIBILITY: 'private',
    CI_PROJECT_DIR: cwd,
    CI_PIPELINE_ID: String(job.pipelineId ?? 77001),
    CI_PIPELINE_IID: String((job.pipelineId ?? 77001) - 77000),
    CI_JOB_ID: '99001',
    CI_JOB_URL: `${GITLAB_PROJECT.url}/-/jobs/99001`,
    CI_JOB_TOKEN: GITLAB_JOB_TOKEN,
    CI_REPOSITORY_URL: `https://gitlab-ci-token:${GITLAB_JOB_TOKEN}@${host}/${GITLAB_PROJECT.path}.git`,
    CI_REGISTRY_PASSWORD: GITLAB_JOB_TOKEN,
    CI_COMMIT_SHA: sha,
    CI_COMMIT_SHORT_SHA: sha.slice(0, 8),
  };
  if (job.mergeRequestIid !== undefined) {
    // MR pipelines: no CI_COMMIT_BRANCH; the ref is the MR's ref.
    Object.assign(env, {
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_MERGE_REQUEST_IID: String(job.mergeRequestIid),
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: branch,
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main',
      CI_MERGE_REQUEST_PROJECT_URL: GITLAB_PROJECT.url,
      CI_MERGE_REQUEST_SOURCE_PROJECT_URL: GITLAB_PROJECT.url,
      CI_COMMIT_REF_NAME: branch,
      CI_COMMIT_REF_SLUG: branch.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    });
    if (job.mergedResults) {
      env.CI_MERGE_REQUEST_EVENT_TYPE = 'merged_result';
      env.CI_MERGE_REQUEST_SOURCE_BRANCH_SHA = sha;
      env.CI_COMMIT_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
      env.CI_COMMIT_REF_NAME = `refs/merge-requests/${job.mergeRequestIid}/merge`;
    }
  } else {
    Object.assign(env, {
      CI_PIPELINE_SOURCE: 'push',
      CI_COMMIT_BRANCH: branch,
      CI_COMMIT_REF_NAME: branch,
      CI_COMMIT_REF_SLUG: branch.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    });
  }
  if (job.stop) {
    env.CI_ENVIRONMENT_ACTION = 'stop';
    env.CI_ENVIRONMENT_NAME = `review/mr-${job.mergeRequestIid ?? branch}`;
    env.GIT_STRATEGY = 'none';
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// Bitbucket: https://support.atlassian.com/bitbucket-cloud/docs/variables-and-secrets/

export const BITBUCKET_ACCESS_TOKEN = 'ATCTT3xFfGN0bitbucketaccesstoken0123';
export const BITBUCKET_OIDC_TOKEN = 'eyJraWQiOiJvaWRjLXRva2VuIn0.payload.signature';
export const BITBUCKET_REPO = { workspace: 'acme', slug: 'shop' };

export interface BitbucketStep {
  pullRequestId?: number;
  branch?: string;
  commit?: string;
  /** BITBUCKET_BUILD_NUMBER: the repository's build counter, increasing with every pipeline. */
  buildNumber?: number;
  apiUrl: string;
}

export function bitbucketStepEnv(step: BitbucketStep, cwd: string): Record<string, string> {
  const { workspace, slug } = BITBUCKET_REPO;
  const env: Record<string, string> = {
    CI: 'true',
    BITBUCKET_BUILD_NUMBER: String(step.buildNumber ?? 314),
    BITBUCKET_CLONE_DIR: cwd,
    BITBUCKET_WORKSPACE: workspace,
    BITBUCKET_REPO_OWNER: workspace,
    BITBUCKET_REPO_SLUG: slug,
    BITBUCKET_REPO_FULL_NAME: `${workspace}/${slug}`,
    BITBUCKET_REPO_UUID: '{0d6a3c50-7b88-4c6b-9f1e-3f1f2b7d1a11}',
    BITBUCKET_GIT_HTTP_ORIGIN: `http://bitbucket.org/${workspace}/${slug}`,
    BITBUCKET_GIT_SSH_ORIGIN: `git@bitbucket.org:${workspace}/${slug}.git`,
    BITBUCKET_REPO_IS_PRIVATE: 'true',
    BITBUCKET_COMMIT: step.commit ?? '0123456789abcdef0123456789abcdef01234567',
    BITBUCKET_BRANCH: step.branch ?? `feature-${step.pullRequestId ?? 'x'}`,
    BITBUCKET_STEP_OIDC_TOKEN: BITBUCKET_OIDC_TOKEN,
    BITBUCKET_API_URL: `${step.apiUrl}/2.0`,
  };
  if (step.pullRequestId !== undefined) {
    env.BITBUCKET_PR_ID = String(step.pullRequestId);
    env.BITBUCKET_PR_DESTINATION_BRANCH = 'main';
  }
  return env;
}
