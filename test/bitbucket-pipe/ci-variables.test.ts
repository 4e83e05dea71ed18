/**
 * The pure pieces both adapters share: variable reading (shared/ci/variables.ts), the platform
 * contexts, the MR/PR note and the NAME=value output format. Plain objects in, values out.
 */
import { describe, expect, it } from 'vitest';
import { readBitbucketContext } from '../../bitbucket-pipe/src/bitbucket-context.js';
import { gitlabDerivedSecrets, readGitLabContext } from '../../gitlab-image/src/gitlab-context.js';
import { isPreviewNote, renderNote } from '../../shared/ci/note.js';
import { formatOutputLines } from '../../shared/ci/outputs.js';
import { CiVariableError } from '../../shared/errors.js';
import {
  inVariableTerms,
  readCiVariables,
  urlCredentials,
  withoutCredentials,
} from '../../shared/ci/variables.js';
import { ConfigError } from '../../shared/errors.js';

const base = { API_TOKEN: 'tok-123456', TEAM: 'My Team' };

describe('readCiVariables', () => {
  it('maps the variables to the core input, blank meaning "not given"', () => {
    const read = readCiVariables({
      ...base,
      PLAN: 'Pro',
      ON_DEMAND: 'true',
      VPN_CONFIG: 'office',
      ENV: 'A=1',
      CLONE_DEPTH: '5',
      REPLICAS: '2',
      TIMEOUT: '600',
      VPN_CHECK: '10.250.0.5',
      RESTRICTED: '',
    });
    expect(read.action).toBe('deploy');
    expect(read.debug).toBe(false);
    expect(read.input).toEqual({
      apiToken: 'tok-123456',
      team: 'My Team',
      plan: 'Pro',
      onDemand: 'true',
      vpnConfig: 'office',
      env: 'A=1',
      cloneDepth: '5',
      replicas: '2',
      timeoutSeconds: '600',
      vpnCheck: '10.250.0.5',
    });
    expect(read.secrets).toEqual(['tok-123456']);
  });

  it('prefers API_TOKEN over EMAIL + PASSWORD but still masks the password', () => {
    const read = readCiVariables({ ...base, EMAIL: 'a@b.c', PASSWORD: 'pw-secret' });
    expect(read.input.apiToken).toBe('tok-123456');
    expect(read.input.email).toBeUndefined();
    expect(read.secrets).toContain('pw-secret');
  });

  it('treats ACCESS_TOKEN as the platform token, never as a Codesphere credential', () => {
    const read = readCiVariables({ TEAM: 'T', EMAIL: 'a@b.c', PASSWORD: 'pw', ACCESS_TOKEN: 'glpat-x' });
    expect(read.input).toMatchObject({ email: 'a@b.c', password: 'pw' });
    expect(read.input.apiToken).toBeUndefined();
    expect(read.accessToken).toBe('glpat-x');
    expect(() => readCiVariables({ TEAM: 'T', ACCESS_TOKEN: 'glpat-x' })).toThrow(
      /missing Codesphere credentials.*ACCESS_TOKEN is set, but it is the CI platform's token/,
    );
  });

  it.each([
    [{ ...base, ACTION: 'delete' }, 'ACTION', /got "delete"; expected one of deploy, teardown, prune/],
    [{ ...base, DEBUG: 'verbose' }, 'DEBUG', /got "verbose"; expected true or false/],
    [{ TEAM: 'T', EMAIL: 'a@b.c' }, 'PASSWORD', /EMAIL is set, and EMAIL and PASSWORD go together/],
    [{ ...base, ACTION: 'prune' }, 'ACCESS_TOKEN', /prune needs a token/],
    [{ ...base, VPNCONFIG: 'office' }, 'VPNCONFIG', /did you mean VPN_CONFIG/],
  ])('refuses %o naming %s', (env, variable, message) => {
    let error: unknown;
    try {
      readCiVariables(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CiVariableError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as CiVariableError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^Invalid input "${variable}": `));
    expect((error as Error).message).toMatch(message);
  });

  it("renames the core's fields to variables in its ConfigError", () => {
    const core = new ConfigError([
      { field: 'vpnConfig', message: 'x' },
      { field: 'repository', message: 'y' },
      { field: 'other', message: 'z' },
    ]);
    const renamed = inVariableTerms(core, { repository: 'CI_PROJECT_PATH' }) as ConfigError;
    expect(renamed.issues.map((issue) => issue.field)).toEqual(['VPN_CONFIG', 'CI_PROJECT_PATH', 'other']);
    expect(renamed.cause).toBe(core);
    const plain = new Error('x');
    expect(inVariableTerms(plain)).toBe(plain);
  });
});

describe('URL credentials', () => {
  it('finds and strips the token of a clone URL', () => {
    expect(urlCredentials('https://gitlab-ci-token:glcbt-abc%2Fdef@gitlab.com/a/b.git')).toEqual([
      'glcbt-abc/def',
    ]);
    expect(urlCredentials('https://x-token@host/a.git')).toEqual(['x-token']);
    expect(urlCredentials('https://host/a.git')).toEqual([]);
    expect(withoutCredentials('https://u:p@host/a.git')).toBe('https://host/a.git');
  });
});

describe('readGitLabContext', () => {
  const project = {
    CI_PROJECT_PATH: 'acme/web/shop',
    CI_PROJECT_URL: 'https://gitlab.example.com/acme/web/shop',
    CI_PROJECT_ID: '17',
    CI_API_V4_URL: 'https://gitlab.example.com/api/v4/',
  };

  it("takes a fork MR's source project as the clone URL, never CI_REPOSITORY_URL", () => {
    const context = readGitLabContext({
      ...project,
      CI_REPOSITORY_URL: 'https://gitlab-ci-token:tok@gitlab.example.com/acme/web/shop.git',
      CI_MERGE_REQUEST_IID: '5',
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'fix',
      CI_MERGE_REQUEST_SOURCE_PROJECT_URL: 'https://gitlab.example.com/contributor/shop',
      CI_COMMIT_SHA: 'abc1234',
      CI_PROJECT_VISIBILITY: 'internal',
    });
    expect(context).toMatchObject({
      gitUrl: 'https://gitlab.example.com/contributor/shop.git',
      branch: 'fix',
      mergeRequestIid: 5,
      isPrivateRepo: true,
      projectRef: '17',
      apiV4Url: 'https://gitlab.example.com/api/v4',
      isStopJob: false,
    });
  });

  it('uses the URL-encoded path without CI_PROJECT_ID and the branch in branch pipelines', () => {
    const { CI_PROJECT_ID: _id, ...withoutId } = project;
    const context = readGitLabContext({
      ...withoutId,
      CI_COMMIT_BRANCH: 'main',
      CI_ENVIRONMENT_ACTION: 'stop',
    });
    expect(context.projectRef).toBe('acme%2Fweb%2Fshop');
    expect(context.branch).toBe('main');
    expect(context.mergeRequestIid).toBeUndefined();
    expect(context.isStopJob).toBe(true);
  });

  it('says to run inside GitLab CI when its variables are missing', () => {
    expect(() => readGitLabContext({})).toThrow(/CI_PROJECT_PATH.*GitLab sets it in every CI job/);
  });

  it('extracts the job token from CI_REPOSITORY_URL for masking', () => {
    expect(gitlabDerivedSecrets({ CI_REPOSITORY_URL: 'https://gitlab-ci-token:glcbt-xyz@h/p.git' })).toEqual([
      'glcbt-xyz',
    ]);
  });
});

describe('readBitbucketContext', () => {
  it('turns BITBUCKET_GIT_HTTP_ORIGIN into an https clone URL and reads the PR', () => {
    const context = readBitbucketContext({
      BITBUCKET_WORKSPACE: 'acme',
      BITBUCKET_REPO_SLUG: 'shop',
      BITBUCKET_GIT_HTTP_ORIGIN: 'http://bitbucket.org/acme/shop',
      BITBUCKET_REPO_IS_PRIVATE: 'false',
      BITBUCKET_PR_ID: '12',
      BITBUCKET_BRANCH: 'feature',
      BITBUCKET_BUILD_NUMBER: '3',
    });
    expect(context).toMatchObject({
      fullName: 'acme/shop',
      gitUrl: 'https://bitbucket.org/acme/shop.git',
      isPrivateRepo: false,
      pullRequestId: 12,
      branch: 'feature',
      apiUrl: 'https://api.bitbucket.org/2.0',
      pipelineUrl: 'https://bitbucket.org/acme/shop/pipelines/results/3',
    });
  });

  it('refuses a malformed BITBUCKET_PR_ID', () => {
    expect(() =>
      readBitbucketContext({ BITBUCKET_WORKSPACE: 'a', BITBUCKET_REPO_SLUG: 'b', BITBUCKET_PR_ID: 'x' }),
    ).toThrow(/BITBUCKET_PR_ID/);
  });
});

describe('notes and outputs', () => {
  const result = {
    workspaceId: 1,
    name: 'shop-!1',
    url: 'https://1-3000.example',
    vpnConfig: 'office',
    action: 'created' as const,
    changes: [],
    vpnCheck: { status: 'skipped' as const, reason: 'no vpnCheck target was given' },
    timings: {},
  };

  it('marks notes invisibly per platform and keeps table cells on one line', () => {
    const gitlab = renderNote({ kind: 'failed', message: 'a | b\nc' }, 'html-comment');
    expect(isPreviewNote(gitlab, 'html-comment')).toBe(true);
    expect(gitlab).toContain('| Error | a \\| b c |');
    const bitbucket = renderNote({ kind: 'deployed', result, commit: 'abcdef1234567890' }, 'link-reference');
    expect(bitbucket.startsWith('[//]: # (codesphere-deploy:preview)\n')).toBe(true);
    expect(bitbucket).toContain('| Commit | abcdef123456 |');
  });

  it('refuses output values that would inject a second variable', () => {
    expect(formatOutputLines({ A: 'x', B: 'y' })).toBe('A=x\nB=y\n');
    expect(() => formatOutputLines({ A: 'x\nEVIL=1' })).toThrow(/line break/);
    expect(() => formatOutputLines({ 'A-B': 'x' })).toThrow(/not a valid variable name/);
  });
});
