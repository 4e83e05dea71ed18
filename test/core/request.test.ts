import { describe, expect, it } from 'vitest';

import type { JobInput } from '../../shared/request/job-input.js';
import { ConfigError } from '../../shared/errors.js';
import { parseRequest, secretsOf } from '../../shared/request/schema.js';

const valid: JobInput = {
  apiToken: 'tok-123456',
  team: 'My Team',
  platform: 'github',
  repository: 'acme/shop',
  gitUrl: 'https://github.com/acme/shop.git',
  branch: 'main',
  changeNumber: '42',
};

function issuesOf(input: Partial<JobInput>, kind: 'deploy' | 'teardown' | 'prune' = 'deploy') {
  try {
    parseRequest({ ...valid, ...input }, kind);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRequest', () => {
  it('applies defaults', () => {
    const r = parseRequest(valid, 'deploy');
    expect(r).toMatchObject({
      apiUrl: 'https://codesphere.com',
      team: { name: 'My Team' },
      plan: { title: 'Boost' },
      onDemand: false,
      vpnConfig: null,
      env: [],
      replicas: 1,
      isPrivateRepo: true,
      vpnSwitch: 'in-place',
      timeoutMs: 900_000,
      changeNumber: 42,
      credentials: { kind: 'token', apiToken: 'tok-123456' },
    });
  });

  it('coerces CI strings: ids, booleans, numbers, vpnCheck targets', () => {
    const r = parseRequest(
      {
        ...valid,
        team: '101',
        plan: '40',
        onDemand: 'TRUE',
        restricted: 'no',
        replicas: '2',
        cloneDepth: 1,
        vpnConfig: ' office ',
        vpnCheck: '10.250.0.7:5432',
        timeoutSeconds: '60',
      },
      'deploy',
    );
    expect(r).toMatchObject({
      team: { id: 101 },
      plan: { id: 40 },
      onDemand: true,
      restricted: false,
      replicas: 2,
      cloneDepth: 1,
      vpnConfig: 'office',
      vpnCheck: { host: '10.250.0.7', port: 5432, label: '10.250.0.7:5432' },
      timeoutMs: 60_000,
    });
  });

  it.each([
    ['https://codesphere.com/api', 'https://codesphere.com'],
    ['https://codesphere.com/api/', 'https://codesphere.com'],
    ['https://eu.example.com/cs/', 'https://eu.example.com/cs'],
    ['http://127.0.0.1:3170', 'http://127.0.0.1:3170'],
    ['http://localhost:8080/api', 'http://localhost:8080'],
  ])('normalises apiUrl %s -> %s', (apiUrl, expected) => {
    expect(parseRequest({ ...valid, apiUrl }, 'deploy').apiUrl).toBe(expected);
  });

  it('parses dotenv text: comments, export, quotes, inline comments, last one wins', () => {
    const env = [
      '# comment',
      '',
      'A=1',
      'export B = two words # note',
      'C="quoted # not a comment"',
      "D='x'",
      'A=3',
    ].join('\n');
    expect(parseRequest({ ...valid, env }, 'deploy').env).toEqual([
      { name: 'A', value: '3' },
      { name: 'B', value: 'two words' },
      { name: 'C', value: 'quoted # not a comment' },
      { name: 'D', value: 'x' },
    ]);
  });

  it('reports every invalid field at once, each with what was given and what is valid', () => {
    const issues = issuesOf({
      apiToken: '',
      apiUrl: 'ftp://example.com',
      team: '',
      onDemand: 'maybe',
      replicas: '0',
      vpnCheck: '10.0.0.1; rm -rf /',
      vpnSwitch: 'fast',
      repository: 'shop',
      gitUrl: '',
      branch: '',
      changeNumber: '-3',
      commit: 'xyz',
    });
    const byField = Object.fromEntries(issues.map((i) => [i.field, i.message]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        'apiToken',
        'apiUrl',
        'branch',
        'changeNumber',
        'commit',
        'gitUrl',
        'onDemand',
        'replicas',
        'repository',
        'team',
        'vpnCheck',
        'vpnSwitch',
      ].sort(),
    );
    expect(byField.apiUrl).toContain('"ftp://example.com"');
    expect(byField.apiUrl).toContain('https://codesphere.com');
    expect(byField.onDemand).toBe(
      'got "maybe"; expected true or false (also yes/no, on/off, 1/0, in any case)',
    );
    expect(byField.replicas).toContain('"0"');
    expect(byField.vpnCheck).toContain('host:port');
    expect(byField.vpnSwitch).toContain('in-place or zero-downtime');
    expect(byField.apiToken).toContain('email and password');
  });

  it('refuses plain http outside loopback and says why', () => {
    const [issue] = issuesOf({ apiUrl: 'http://codesphere.example.com' });
    expect(issue?.field).toBe('apiUrl');
    expect(issue?.message).toContain('plain http is refused outside loopback');
    expect(issue?.message).toContain('https://codesphere.example.com');
  });

  it.each(['not a url', 'https://user:pw@codesphere.com', 'https://codesphere.com?x=1'])(
    'refuses apiUrl %s',
    (apiUrl) => {
      expect(issuesOf({ apiUrl }).map((i) => i.field)).toEqual(['apiUrl']);
    },
  );

  it('names the malformed env line and never shows a value', () => {
    const issues = issuesOf({ env: 'GOOD=1\nthis-line-is-a-secret-value\n1BAD=hunter2\nQ="unterminated' });
    expect(issues).toHaveLength(1);
    const message = issues[0]?.message ?? '';
    expect(issues[0]?.field).toBe('env');
    expect(message).toContain('line 2');
    expect(message).toContain('line 3: the text before "=" is not a valid name');
    expect(message).not.toContain('1BAD'); // a name-looking part of a line may be key material
    expect(message).toContain('line 4 (Q)');
    expect(message).not.toContain('this-line-is-a-secret-value');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('unterminated');
  });

  it('asks for the missing half of email/password', () => {
    expect(issuesOf({ apiToken: undefined, email: 'a@b.example' })).toEqual([
      { field: 'password', message: expect.stringContaining('password of that Codesphere user') as string },
    ]);
    expect(issuesOf({ apiToken: undefined, password: 'pw' }).map((i) => i.field)).toEqual(['email']);
    const missing = issuesOf({ apiToken: undefined });
    expect(missing[0]?.message).toContain('missing credentials');
  });

  it('never echoes a password or token in issues', () => {
    const issues = issuesOf({ apiToken: 'has whitespace-secret', team: '' });
    expect(JSON.stringify(issues)).not.toContain('whitespace-secret');
  });

  it('strips credentials from the clone URL and treats them as secrets', () => {
    const r = parseRequest(
      { ...valid, gitUrl: 'https://x-access-token:ghs_abcdef123@github.com/acme/shop.git' },
      'deploy',
    );
    expect(r.gitUrl).toBe('https://github.com/acme/shop.git');
    expect(r.secrets).toContain('ghs_abcdef123');
  });

  it('collects secrets: credentials and secret-looking env values', () => {
    const r = parseRequest(
      {
        ...valid,
        apiToken: undefined,
        email: 'a@b.example',
        password: ' pw with spaces ',
        env: 'DB_PASSWORD=s3cret\nVPN_PSK=psk-value\nPORT=3000',
      },
      'deploy',
    );
    expect(r.credentials).toEqual({ kind: 'password', email: 'a@b.example', password: ' pw with spaces ' });
    expect(r.secrets).toEqual([' pw with spaces ', 's3cret', 'psk-value']);
    expect(secretsOf({ apiToken: 't0k', env: 'API_KEY="k1"\nNAME=x' })).toEqual(['t0k', 'k1']);
  });

  it('has per-kind requirements', () => {
    expect(issuesOf({ changeNumber: undefined, branch: undefined }, 'teardown').map((i) => i.field)).toEqual([
      'changeNumber',
    ]);
    // A branch preview's teardown: the workflow derives its name from the branch (naming.test.ts).
    expect(
      parseRequest({ ...valid, changeNumber: undefined, branch: 'feature/x' }, 'teardown'),
    ).toMatchObject({
      branch: 'feature/x',
      changeNumber: undefined,
    });
    expect(issuesOf({}, 'prune').map((i) => i.field)).toEqual(['openChangeNumbers']);
    const prune = parseRequest(
      { ...valid, openChangeNumbers: [1, 2], pruneTtlHours: '48', dryRun: 'true' },
      'prune',
    );
    expect(prune).toMatchObject({ openChangeNumbers: [1, 2], pruneTtlHours: 48, dryRun: true });
    expect(issuesOf({ openChangeNumbers: [0] as number[] }, 'prune').map((i) => i.field)).toEqual([
      'openChangeNumbers',
    ]);
  });

  it('accepts IPv6 and hostnames as vpnCheck targets', () => {
    expect(parseRequest({ ...valid, vpnCheck: '[fd00::1]:443' }, 'deploy').vpnCheck).toEqual({
      host: 'fd00::1',
      port: 443,
      label: '[fd00::1]:443',
    });
    expect(parseRequest({ ...valid, vpnCheck: 'db.internal' }, 'deploy').vpnCheck).toEqual({
      host: 'db.internal',
      label: 'db.internal',
    });
    expect(issuesOf({ vpnCheck: 'db:99999' })[0]?.message).toContain('1-65535');
  });
});
