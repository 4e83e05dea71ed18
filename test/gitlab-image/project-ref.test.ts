// CI_PROJECT_ID goes into every GitLab API path with the token: a value that is not an id is a
// setup error naming the variable, never a path of its own.
import { describe, expect, it } from 'vitest';
import { readGitLabContext } from '../../gitlab-image/src/gitlab-context.js';
import { CiVariableError } from '../../shared/errors.js';

const project = {
  CI_PROJECT_PATH: 'acme/shop',
  CI_PROJECT_URL: 'https://gitlab.example.com/acme/shop',
  CI_COMMIT_BRANCH: 'main',
  CI_API_V4_URL: 'https://gitlab.example.com/api/v4',
  API_TOKEN: 'tok-123456',
  TEAM: 'My Team',
  VPN_CONFIG: 'office',
};

describe('CI_PROJECT_ID', () => {
  it.each(['17/../../users', '17?x=1', '17#', 'acme%2Fshop', 'abc'])(
    'refuses %j, naming CI_PROJECT_ID',
    (id) => {
      const read = readGitLabContext({ ...project, CI_PROJECT_ID: id });
      expect(read.ok).toBe(false);
      const error = read.ok ? undefined : read.error;
      expect(error).toBeInstanceOf(CiVariableError);
      expect((error as Error).message).toContain('CI_PROJECT_ID');
    },
  );

  it('takes a numeric id, trimmed', () => {
    const read = readGitLabContext({ ...project, CI_PROJECT_ID: ' 17 ' });
    expect(read.ok && read.job.projectRef).toBe('17');
  });
});
