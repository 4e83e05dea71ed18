/** One loopback check and one clone-URL credential stripper (shared/request/urls.ts), used by every layer. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { isLoopbackHost, parseRequest, withoutCredentials } from '../../shared/index.js';
import { withoutCredentials as ciWithoutCredentials } from '../../shared/ci/index.js';
import type { JobInput } from '../../shared/request/job-input.js';
import { ConfigError } from '../../shared/errors.js';

const valid: JobInput = {
  apiToken: 'tok-123456',
  team: 'My Team',
  platform: 'github',
  repository: 'acme/shop',
  gitUrl: 'https://github.com/acme/shop.git',
  branch: 'main',
  changeNumber: '42',
};

const userInfo = fc.stringMatching(/^[A-Za-z0-9._~-]{1,20}$/);

describe('withoutCredentials', () => {
  it('is the one the CI helpers export, and the request strips clone URLs with it', () => {
    expect(ciWithoutCredentials).toBe(withoutCredentials);
    fc.assert(
      fc.property(userInfo, userInfo, (user, password) => {
        const given = `https://${user}:${password}@gitlab.example.com/acme/shop.git`;
        const stripped = withoutCredentials(given);
        expect(stripped).toBe('https://gitlab.example.com/acme/shop.git');
        const request = parseRequest({ ...valid, gitUrl: given }, 'deploy');
        expect(request.gitUrl).toBe(stripped);
        expect(request.secrets).toContain(password);
      }),
      { seed: 20261129, numRuns: 100 },
    );
  });

  it('drops user info from what is not a URL too', () => {
    expect(withoutCredentials('https://tok en@host/x')).toBe('https://host/x');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['[::1]', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
  ])('%s -> %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('is the rule the apiUrl field applies to plain http', () => {
    expect(parseRequest({ ...valid, apiUrl: 'http://127.0.0.2:8080' }, 'deploy').apiUrl).toBe(
      'http://127.0.0.2:8080',
    );
    expect(() => parseRequest({ ...valid, apiUrl: 'http://127.0.0.1.nip.io' }, 'deploy')).toThrow(
      ConfigError,
    );
  });
});

describe('healthCheck field', () => {
  it('quotes a bad value like every other field: invisible characters escaped, secrets masked', () => {
    let message = '';
    try {
      parseRequest({ ...valid, healthCheck: '/a\u202eb tok-123456' }, 'deploy');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('healthCheck');
    expect(message).toContain('\\u202E');
    expect(message).not.toContain('\u202e');
    expect(message).not.toContain('tok-123456');
  });
});
