/**
 * Which env names are secret (whole name segments), how registered secrets are found in text
 * (line by line; short ones as whole words; very short ones not at all), and that every reporter
 * masks the same way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { inertLogText } from '../../github-action/src/reporter.js';
import { ConsoleReporter } from '../../shared/ci/console-reporter.js';
import { redact } from '../../shared/request/secrets.js';
import { isSecretName, nameSegments, SecretSet } from '../../shared/request/secrets.js';

describe('secret names match whole segments', () => {
  it.each([
    'DB_PASSWORD',
    'API_KEY',
    'GITLAB_TOKEN',
    'VPN_PSK',
    'apiKey',
    'dbPassword',
    'APIKey',
    'gitlab.token',
    'client-secret',
    'DBPASSWORD',
    'GHTOKEN',
    'CLIENTSECRET',
    'AWS_SECRET_ACCESS_KEY',
    'SMTP_PASS',
    'SENTRY_DSN',
  ])('%s is secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each([
    'PASSENGER_PORT',
    'KEYBOARD_LAYOUT',
    'AUTHOR',
    'TOKENIZER_MODEL',
    'MONKEY_COUNT',
    'BYPASS_CACHE',
    'PORT',
    'NODE_ENV',
    'passengerCount',
    'COMPASS_URL',
  ])('%s is not secret', (name) => {
    expect(isSecretName(name)).toBe(false);
  });

  it('splits camelCase, acronyms, dots and dashes', () => {
    expect(nameSegments('dbPassword.v2-URL')).toEqual(['DB', 'PASSWORD', 'V2', 'URL']);
    expect(nameSegments('APIKeyID')).toEqual(['API', 'KEY', 'ID']);
  });
});

describe('masking rule', () => {
  it('masks each line of a multi-line secret, trimmed', () => {
    const pem =
      '-----BEGIN PRIVATE KEY-----\n  MIIEvQIBADANBgkqhkiG9w0B  \nZk9xQ+r/7TqLwPmS3cV8==\n-----END PRIVATE KEY-----';
    const text = `log: MIIEvQIBADANBgkqhkiG9w0B then Zk9xQ+r/7TqLwPmS3cV8== end`;
    expect(redact(text, [pem])).toBe('log: *** then *** end');
  });

  it('does not mask secrets under 4 characters; masks 4-7 characters only as whole words', () => {
    const set = new SecretSet();
    set.add('1');
    set.add('3000');
    expect(set.redact('workspace 30001 on port 3000, replica 1')).toBe(
      'workspace 30001 on port ***, replica 1',
    );
    expect(set.foundIn('https://30001-3000x.example.com')).toBe(false);
    expect(set.foundIn('port=3000')).toBe(true);
  });

  it('masks the head of a secret cut by a truncation', () => {
    const set = new SecretSet();
    set.add('csdemo-token-0123456789abcdef');
    expect(set.redact('got "My Team csdemo-token-01..."')).toBe('got "My Team ***..."');
    expect(set.redact('body: {"t":"csdemo-to…')).toBe('body: {"t":"***…');
    expect(set.redact('csdemo is a word...')).toBe('csdemo is a word...');
  });

  it('masks 8+ characters anywhere, and the URL-encoded form', () => {
    const set = new SecretSet();
    set.add('p@ss word!');
    expect(set.redact('https://u:p%40ss%20word!@host/x and xp@ss word!x')).toBe(
      'https://u:***@host/x and x***x',
    );
  });

  it('property: no registered secret of 8+ characters survives redaction, whatever surrounds it', () => {
    fc.assert(
      fc.property(
        fc
          .string({ unit: 'grapheme', minLength: 8, maxLength: 40 })
          .filter((s) => s.trim().length >= 8 && !/[\r\n]/.test(s)),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        (secret, before, after) => {
          const set = new SecretSet();
          set.add(secret);
          expect(set.redact(`${before}${secret.trim()}${after}`)).not.toContain(secret.trim());
        },
      ),
      { seed: 20261129, numRuns: 300 },
    );
  });

  it('the console reporter (GitLab, Bitbucket) masks per line and never redacts what it does not hold', () => {
    let out = '';
    const reporter = new ConsoleReporter({ stdout: { write: (t: string) => (out += t) } });
    reporter.mask('first-line-secret\nsecond-line-secret');
    reporter.mask('3000');
    reporter.info('a second-line-secret b; workspace 30001, https://30001-3000.example.com');
    expect(out).toBe('a *** b; workspace 30001, https://30001-***.example.com\n');
    expect(reporter.holdsSecret('https://60001-x.example.com')).toBe(false);
    expect(reporter.holdsSecret('x first-line-secret')).toBe(true);
  });
});

describe('GitHub log text cannot issue workflow commands', () => {
  it.each([
    ['office\n::warning::INJECTED', 'office\n> ::warning::INJECTED'],
    ['office\r::error::INJECTED', 'office\n> ::error::INJECTED'],
    ['office\r\n  ::add-mask::x', 'office\n>   ::add-mask::x'],
    ['\u0085::notice::nel', '> \u0085::notice::nel'],
    ['a ##[warning]legacy', 'a #\u200b#[warning]legacy'],
    ['office%0A::warning::INJECTED', 'office%0A::warning::INJECTED'],
  ])('%j', (given, expected) => {
    expect(inertLogText(given)).toBe(expected);
  });

  it('property: no line of any text starts a command after escaping', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        for (const line of inertLogText(text).split(/\r\n|\r|\n/)) {
          expect(/^[\s\u0085]*::/.test(line)).toBe(false);
          expect(line.includes('##[')).toBe(false);
        }
      }),
      { seed: 20261129, numRuns: 500 },
    );
  });
});
