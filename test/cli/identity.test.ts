/**
 * cli/src/identity.ts: the preview's identity from each CI's real environment (env-ci plus the
 * CI's own variables where env-ci's answer does not fit a preview), and from the flags.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpsCloneUrl, platformOf, readIdentity } from '../../cli/src/identity.js';
import { CI_ENVIRONMENTS, SHA } from './ci-environments.js';

// Outside a git checkout, so env-ci's git fallback finds nothing of this repository.
const cwd = mkdtempSync(path.join(tmpdir(), 'cli-identity-'));

describe('readIdentity from the CI environment', () => {
  it.each(Object.entries(CI_ENVIRONMENTS))(
    '%s: pull request 42 of acme/shop, branch feat/login',
    (name, env) => {
      const identity = readIdentity({}, env, cwd);
      expect(identity).toMatchObject({
        platform: 'github',
        repository: 'acme/shop',
        gitUrl: 'https://github.com/acme/shop.git',
        branch: 'feat/login',
        commit: SHA,
        changeNumber: 42,
      });
      expect(identity.ci).toBeDefined();
      expect(name).toBeTruthy();
    },
  );

  it('Jenkins multibranch: a branch job (no CHANGE_ID) is a branch preview of BRANCH_NAME', () => {
    const {
      CHANGE_ID: _id,
      CHANGE_BRANCH: _branch,
      CHANGE_TARGET: _target,
      ...env
    } = CI_ENVIRONMENTS['Jenkins'] ?? {};
    const identity = readIdentity({}, { ...env, BRANCH_NAME: 'main' }, cwd);
    expect(identity.changeNumber).toBeUndefined();
    expect(identity.branch).toBe('main');
  });

  it('--branch alone makes a branch preview whatever the CI says; --pr overrides the number', () => {
    const env = CI_ENVIRONMENTS['CircleCI'] ?? {};
    expect(readIdentity({ branch: 'release' }, env, cwd)).toMatchObject({
      branch: 'release',
      changeNumber: undefined,
    });
    expect(readIdentity({ pr: '7' }, env, cwd)).toMatchObject({ branch: 'feat/login', changeNumber: 7 });
  });

  it('outside CI: --repo-url is required, and named when missing', () => {
    expect(() => readIdentity({ branch: 'main' }, {}, cwd)).toThrow(/--repo-url.*missing/);
    expect(
      readIdentity({ branch: 'main', repoUrl: 'https://gitlab.com/g/sub/app.git' }, {}, cwd),
    ).toMatchObject({
      platform: 'gitlab',
      repository: 'g/sub/app',
    });
  });

  it('--pr must be digits: the error names the flag', () => {
    expect(() => readIdentity({ pr: '4.2', repoUrl: 'https://github.com/a/b' }, {}, cwd)).toThrow(
      /--pr.*"4\.2"/,
    );
  });
});

describe('clone URLs', () => {
  it.each([
    ['git@github.com:acme/shop.git', 'https://github.com/acme/shop.git'],
    ['ssh://git@bitbucket.org/acme/shop.git', 'https://bitbucket.org/acme/shop.git'],
    ['https://x-token:s3cret@gitlab.com/acme/shop', 'https://gitlab.com/acme/shop.git'],
  ])('%s -> %s', (given, expected) => {
    expect(httpsCloneUrl(given)).toBe(expected);
  });

  it('names previews like the host platform', () => {
    expect(platformOf('https://bitbucket.org/a/b.git', undefined)).toBe('bitbucket');
    expect(platformOf('https://git.example.com/a/b.git', undefined)).toBe('github');
    expect(platformOf('https://git.example.com/a/b.git', 'gitlab')).toBe('gitlab');
  });
});
