/**
 * Which preview a run is about: the repository, its clone URL, the branch, the commit and the
 * change request. From `--pr`/`--branch`, `--repo-url` and `--sha` when given, else from the CI's
 * environment through env-ci (https://github.com/semantic-release/env-ci), which knows GitHub
 * Actions, GitLab, Bitbucket, Jenkins, CircleCI, Azure Pipelines, Buildkite, Drone and more.
 *
 * Where env-ci's answer does not fit a preview, the CI's own documented variable wins:
 * - Jenkins multibranch pull requests: BRANCH_NAME is `PR-42`; the source branch is CHANGE_BRANCH.
 * - Azure Pipelines: SYSTEM_PULLREQUEST_PULLREQUESTID is Azure's internal id; a GitHub pull
 *   request's number is SYSTEM_PULLREQUEST_PULLREQUESTNUMBER.
 * env-ci does not report the clone URL; `REPO_URL_VARIABLES` lists where each CI puts it.
 */
import envCi from 'env-ci';
import { z } from 'zod';
import type { Platform } from '../../shared/index.js';
import { CiVariableError, cloneUrlOf, type Env, readId, readVariable } from '../../shared/ci/index.js';

/** What a run's flags say about its identity (each optional). */
export interface IdentityFlags {
  pr?: string | undefined;
  branch?: string | undefined;
  repoUrl?: string | undefined;
  sha?: string | undefined;
}

/** The preview's identity, in the core's terms. */
export interface Identity {
  /** How the preview is named: like the platform that hosts the repository (shared/workflow/naming.ts). */
  platform: Platform;
  /** `owner/name` (GitLab: `group/sub/project`). */
  repository: string;
  /** The https clone URL, credentials removed. */
  gitUrl: string;
  /** The branch to deploy; empty when none is known (teardown and prune need none). */
  branch: string;
  commit: string | undefined;
  changeNumber: number | undefined;
  /** The CI's name as env-ci reports it (`Jenkins`, `CircleCI`), or undefined outside CI. */
  ci: string | undefined;
  /** The build's page, when the CI says. */
  buildUrl: string | undefined;
}

/** env-ci's answer, read at the boundary (its types lag its releases). */
const ciEnvSchema = z.object({
  isCi: z.boolean(),
  name: z.string().optional(),
  service: z.string().optional(),
  commit: z.string().optional(),
  branch: z.string().optional(),
  prBranch: z.string().optional(),
  pr: z.union([z.string(), z.number()]).optional(),
  isPr: z.boolean().optional(),
  slug: z.string().optional(),
  buildUrl: z.string().optional(),
});

type CiEnv = z.infer<typeof ciEnvSchema>;

/** Each CI's clone (or project) URL variable, by env-ci's service name. */
export const REPO_URL_VARIABLES: Readonly<Record<string, (env: Env) => string | undefined>> = {
  github: (env) =>
    env['GITHUB_REPOSITORY']
      ? `${env['GITHUB_SERVER_URL'] ?? 'https://github.com'}/${env['GITHUB_REPOSITORY']}`
      : undefined,
  gitlab: (env) => readVariable(env, 'CI_PROJECT_URL'),
  bitbucket: (env) => readVariable(env, 'BITBUCKET_GIT_HTTP_ORIGIN'),
  jenkins: (env) => readVariable(env, 'GIT_URL'),
  circleci: (env) => readVariable(env, 'CIRCLE_REPOSITORY_URL'),
  azurePipelines: (env) => readVariable(env, 'BUILD_REPOSITORY_URI'),
  buildkite: (env) => readVariable(env, 'BUILDKITE_REPO'),
  drone: (env) => readVariable(env, 'DRONE_GIT_HTTP_URL') ?? readVariable(env, 'DRONE_REPO_LINK'),
  woodpecker: (env) => readVariable(env, 'CI_REPO_CLONE_URL'),
  travis: (env) => (env['TRAVIS_REPO_SLUG'] ? `https://github.com/${env['TRAVIS_REPO_SLUG']}` : undefined),
  codebuild: (env) => readVariable(env, 'CODEBUILD_SOURCE_REPO_URL'),
  semaphore: (env) => readVariable(env, 'SEMAPHORE_GIT_URL'),
};

/** env-ci on a plain env object; outside any CI it asks git in `cwd` for the branch and commit. */
export function detectCi(env: Env, cwd: string): CiEnv {
  const parsed = ciEnvSchema.safeParse(envCi({ env: { ...env }, cwd }));
  return parsed.success ? parsed.data : { isCi: false };
}

/** `git@github.com:acme/shop.git` -> `https://github.com/acme/shop.git`; others unchanged. */
export function httpsCloneUrl(url: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(?!\/)(.+)$/.exec(url.trim());
  const https = scp
    ? `https://${scp[1] ?? ''}/${scp[2] ?? ''}`
    : url.trim().replace(/^ssh:\/\/[^@/]+@/, 'https://');
  return cloneUrlOf(https);
}

/** `https://gitlab.com/group/sub/project.git` -> `group/sub/project`. */
export function repositoryOf(cloneUrl: string): string | undefined {
  try {
    const path = new URL(cloneUrl).pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
    return path.includes('/') ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The naming scheme follows the host, so the same pull request gets the same workspace from the
 * GitHub Action and from the CLI (and likewise for GitLab and Bitbucket); other hosts name a
 * change request `#n`, as GitHub does.
 */
export function platformOf(cloneUrl: string, service: string | undefined): Platform {
  if (service === 'gitlab' || service === 'bitbucket' || service === 'github') return service;
  let host = '';
  try {
    host = new URL(cloneUrl).hostname.toLowerCase();
  } catch {
    // an unparsable URL is reported by the core's gitUrl check
  }
  if (host.includes('gitlab')) return 'gitlab';
  if (host.includes('bitbucket')) return 'bitbucket';
  return 'github';
}

function changeNumberOf(ci: CiEnv, env: Env): string | undefined {
  if (ci.service === 'jenkins' && readVariable(env, 'CHANGE_ID')) return readVariable(env, 'CHANGE_ID');
  if (ci.service === 'azurePipelines')
    return (
      readVariable(env, 'SYSTEM_PULLREQUEST_PULLREQUESTNUMBER') ??
      (ci.pr === undefined ? undefined : String(ci.pr))
    );
  return ci.isPr && ci.pr !== undefined && String(ci.pr) !== '' ? String(ci.pr) : undefined;
}

function branchOf(ci: CiEnv, env: Env): string | undefined {
  if (ci.service === 'jenkins' && readVariable(env, 'CHANGE_ID')) return readVariable(env, 'CHANGE_BRANCH');
  return ci.isPr ? (ci.prBranch ?? ci.branch) : ci.branch;
}

/**
 * The identity from the flags, else from the CI's environment. `--pr` or `--branch` makes the
 * flags the identity (`--branch` alone is a branch preview, whatever the CI says); a field neither
 * gives is detected. Throws a CiVariableError naming the flag to set when the repository is unknown
 * or `--pr` is not a number.
 */
export function readIdentity(flags: IdentityFlags, env: Env, cwd: string): Identity {
  const ci = detectCi(env, cwd);
  const fromFlags = flags.pr !== undefined || flags.branch !== undefined;
  const prText = fromFlags ? flags.pr : changeNumberOf(ci, env);
  const changeNumber =
    prText === undefined ? undefined : readId({ '--pr': prText }, '--pr', 'the pull/merge request number');
  const branch = flags.branch ?? branchOf(ci, env);
  const where = ci.isCi ? `${ci.name ?? 'this CI'}'s environment` : 'the environment (no CI detected)';
  const detectedUrl = ci.service ? REPO_URL_VARIABLES[ci.service]?.(env) : undefined;
  const rawUrl = flags.repoUrl ?? detectedUrl;
  if (rawUrl === undefined)
    throw new CiVariableError(
      '--repo-url',
      `missing; the repository's clone URL is not in ${where}, so pass --repo-url https://host/owner/repo.git`,
    );
  const gitUrl = httpsCloneUrl(rawUrl);
  const repository = repositoryOf(gitUrl) ?? ci.slug;
  if (repository === undefined)
    throw new CiVariableError(
      '--repo-url',
      `got "${gitUrl}"; expected a clone URL with the repository's path, such as https://github.com/acme/shop.git`,
    );
  return {
    platform: platformOf(gitUrl, flags.repoUrl === undefined ? ci.service : undefined),
    repository,
    gitUrl,
    branch: branch?.trim() ?? '',
    commit: flags.sha ?? ci.commit,
    changeNumber,
    ci: ci.isCi ? ci.name : undefined,
    buildUrl: ci.buildUrl,
  };
}
