/**
 * The pure pieces both adapters share: variable reading (shared/ci/variables.ts), the platform
 * contexts, the MR/PR note and the NAME=value output format. Plain objects in, values out.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readBitbucketContext } from '../../bitbucket-pipe/src/bitbucket-context.js';
import { readGitLabContext } from '../../gitlab-image/src/gitlab-context.js';
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
import type { CiContext, CiJobContext, Env } from '../../shared/ci/index.js';

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

/** The job of a context that must have been read; fails the test with the error otherwise. */
function jobOf<J>(read: { ok: true; job: J } | { ok: false; error: unknown }): J {
  if (!read.ok) throw new Error(`expected a job, got: ${String(read.error)}`);
  return read.job;
}

/** The error of a context that must have failed. */
function errorOf(read: { ok: true } | { ok: false; error: unknown }): unknown {
  if (read.ok) throw new Error('expected an error, got a job');
  return read.error;
}

describe('readGitLabContext', () => {
  const project = {
    ...base,
    CI_PROJECT_PATH: 'acme/web/shop',
    CI_PROJECT_URL: 'https://gitlab.example.com/acme/web/shop',
    CI_PROJECT_ID: '17',
    CI_API_V4_URL: 'https://gitlab.example.com/api/v4/',
  };

  it("takes a fork MR's source project as the clone URL, never CI_REPOSITORY_URL", () => {
    const read = readGitLabContext({
      ...project,
      CI_REPOSITORY_URL: 'https://gitlab-ci-token:tok-job-0001@gitlab.example.com/acme/web/shop.git',
      CI_MERGE_REQUEST_IID: '5',
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'fix',
      CI_MERGE_REQUEST_SOURCE_PROJECT_URL: 'https://gitlab.example.com/contributor/shop',
      CI_COMMIT_SHA: 'abc1234',
      CI_PROJECT_VISIBILITY: 'internal',
      CI_PIPELINE_ID: '4242',
      ACCESS_TOKEN: 'glpat-access-0001',
    });
    expect(jobOf(read)).toMatchObject({
      action: 'deploy',
      input: {
        platform: 'gitlab',
        repository: 'acme/web/shop',
        gitUrl: 'https://gitlab.example.com/contributor/shop.git',
        branch: 'fix',
        commit: 'abc1234',
        changeNumber: 5,
        isPrivateRepo: true,
        apiToken: 'tok-123456',
        team: 'My Team',
      },
      changeNumber: 5,
      accessToken: 'glpat-access-0001',
      runOrder: [4242],
      projectRef: '17',
      apiV4Url: 'https://gitlab.example.com/api/v4',
      isStopJob: false,
      dotenvPath: 'deploy.env',
    });
    // The job token inside CI_REPOSITORY_URL is masked, as are our own secrets.
    expect(read.secrets).toEqual(expect.arrayContaining(['tok-job-0001', 'tok-123456', 'glpat-access-0001']));
  });

  it('uses the URL-encoded path without CI_PROJECT_ID and the branch in branch pipelines; a stop job tears down', () => {
    const { CI_PROJECT_ID: _id, ...withoutId } = project;
    const job = jobOf(
      readGitLabContext({ ...withoutId, CI_COMMIT_BRANCH: 'main', CI_ENVIRONMENT_ACTION: 'stop' }),
    );
    expect(job.projectRef).toBe('acme%2Fweb%2Fshop');
    expect(job.input.branch).toBe('main');
    expect(job.changeNumber).toBeUndefined();
    expect(job.isStopJob).toBe(true);
    expect(job.action).toBe('teardown');
  });

  it('refuses a stop job whose ACTION says otherwise, naming ACTION', () => {
    const error = errorOf(
      readGitLabContext({
        ...project,
        CI_COMMIT_BRANCH: 'main',
        CI_ENVIRONMENT_ACTION: 'stop',
        ACTION: 'deploy',
      }),
    );
    expect(error).toBeInstanceOf(CiVariableError);
    expect((error as CiVariableError).variable).toBe('ACTION');
  });

  it('says to run inside GitLab CI when its variables are missing', () => {
    expect(String(errorOf(readGitLabContext(base)))).toMatch(
      /CI_PROJECT_PATH.*GitLab sets it in every CI job/,
    );
  });
});

describe('readBitbucketContext', () => {
  const repository = { ...base, BITBUCKET_WORKSPACE: 'acme', BITBUCKET_REPO_SLUG: 'shop' };

  it('turns BITBUCKET_GIT_HTTP_ORIGIN into an https clone URL and reads the PR', () => {
    const job = jobOf(
      readBitbucketContext({
        ...repository,
        BITBUCKET_GIT_HTTP_ORIGIN: 'http://bitbucket.org/acme/shop',
        BITBUCKET_REPO_IS_PRIVATE: 'false',
        BITBUCKET_PR_ID: '12',
        BITBUCKET_BRANCH: 'feature',
        BITBUCKET_BUILD_NUMBER: '3',
        BITBUCKET_PIPELINES_VARIABLES_PATH: '/tmp/vars',
        ACCESS_TOKEN: 'bb-access-0001',
        ACCESS_TOKEN_USERNAME: ' ci@example.com ',
      }),
    );
    expect(job).toMatchObject({
      input: {
        platform: 'bitbucket',
        repository: 'acme/shop',
        gitUrl: 'https://bitbucket.org/acme/shop.git',
        isPrivateRepo: false,
        branch: 'feature',
        changeNumber: 12,
      },
      changeNumber: 12,
      apiUrl: 'https://api.bitbucket.org/2.0',
      jobUrl: 'https://bitbucket.org/acme/shop/pipelines/results/3',
      runOrder: [3],
      accessToken: 'bb-access-0001',
      accessTokenUsername: 'ci@example.com',
      variablesPath: '/tmp/vars',
    });
  });

  it('refuses a malformed BITBUCKET_PR_ID', () => {
    expect(String(errorOf(readBitbucketContext({ ...repository, BITBUCKET_PR_ID: 'x' })))).toMatch(
      /BITBUCKET_PR_ID/,
    );
  });
});

describe.each<{
  platform: string;
  read: (env: Env) => CiContext<CiJobContext>;
  platformVariables: Record<string, string>;
}>([
  {
    platform: 'gitlab',
    read: readGitLabContext,
    platformVariables: { CI_PROJECT_PATH: 'a/b', CI_PROJECT_URL: 'https://gl/a/b', CI_COMMIT_BRANCH: 'main' },
  },
  {
    platform: 'bitbucket',
    read: readBitbucketContext,
    platformVariables: { BITBUCKET_WORKSPACE: 'a', BITBUCKET_REPO_SLUG: 'b', BITBUCKET_BRANCH: 'main' },
  },
])('the $platform context is built from a plain object, once', ({ read, platformVariables }) => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads only the object it is given, never process.env', () => {
    vi.stubEnv('API_TOKEN', 'from-process-env-0001');
    vi.stubEnv('TEAM', 'Process Team');
    const given = Object.freeze({
      ...platformVariables,
      API_TOKEN: 'from-the-object-0001',
      TEAM: 'Object Team',
    });
    const job = jobOf(read(given));
    expect(job.input).toMatchObject({ apiToken: 'from-the-object-0001', team: 'Object Team' });
    const missing = errorOf(read(Object.freeze({ ...platformVariables })));
    expect((missing as CiVariableError).variable).toBe('API_TOKEN');
  });

  it('is one typed context: job kind, input, tokens, budget, run order', () => {
    const job = jobOf(
      read({ ...platformVariables, ...base, ACTION: 'Teardown', TIMEOUT: '60', ACCESS_TOKEN: 'pt-0001' }),
    );
    expect(job).toMatchObject({
      action: 'teardown',
      accessToken: 'pt-0001',
      timeoutMs: 60_000,
      runOrder: [],
    });
  });

  it('still gives the secrets to mask and the log choices when a variable is wrong; the error names it', () => {
    const context = read({
      ...platformVariables,
      API_TOKEN: 'tok-still-masked-0001',
      ENV: 'DB_PASSWORD=pw-still-masked-0001',
      BITBUCKET_STEP_OIDC_TOKEN: 'oidc-still-masked-0001',
      CI_JOB_TOKEN: 'job-still-masked-0001',
      DEBUG: 'yes',
      NO_COLOR: '1',
      ACTION: 'deploi',
    });
    expect(context.ok).toBe(false);
    expect(context.secrets).toEqual(expect.arrayContaining(['tok-still-masked-0001']));
    expect(context.debug).toBe(true);
    expect(context.color).toBe(false);
    const error = errorOf(context);
    expect(error).toBeInstanceOf(CiVariableError);
    expect((error as CiVariableError).variable).toBe('ACTION');
    expect((error as Error).message).toMatch(/^Invalid input "ACTION": got "deploi"/);
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
