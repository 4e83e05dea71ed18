/**
 * The `env` input's syntax: Docker Compose's documented `.env` rules (shared/request/dotenv.ts), one
 * left-to-right pass, no `$` interpolation. The table holds the examples of Compose's docs
 * ("Syntax for environment files"); the properties prove the quoted forms hold any value and that
 * no problem ever quotes a line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseDotenv, quoteDotenvValue } from '../../shared/request/dotenv.js';
import { parseRequest, secretsOf } from '../../shared/request/schema.js';

const SEED = 20261129;

function value(text: string): string | undefined {
  const { vars, problems } = parseDotenv(text);
  expect(problems).toEqual([]);
  return vars[0]?.value;
}

describe('env follows Docker Compose .env syntax', () => {
  it.each([
    // Compose's documented examples.
    ['VAR=VAL', 'VAL'],
    ['VAR="VAL"', 'VAL'],
    ["VAR='VAL'", 'VAL'],
    ['VAR=VAL # comment', 'VAL'],
    ['VAR=VAL# not a comment', 'VAL# not a comment'],
    ['VAR="VAL # not a comment"', 'VAL # not a comment'],
    ['VAR="VAL" # comment', 'VAL'],
    ["VAR='$OTHER'", '$OTHER'],
    ["VAR='${OTHER}'", '${OTHER}'],
    ["VAR='Let\\'s go!'", "Let's go!"],
    ['VAR="{\\"hello\\": \\"json\\"}"', '{"hello": "json"}'],
    ['VAR="some\\tvalue"', 'some\tvalue'],
    ["VAR='some\\tvalue'", 'some\\tvalue'],
    ['VAR=some\\tvalue', 'some\\tvalue'],
    // One pass, so `\\n` is a backslash and an n.
    ['WIN_PATH="C:\\\\new\\\\table"', 'C:\\new\\table'],
    ['LINES="a\\nb\\r\\nc"', 'a\nb\r\nc'],
    // No interpolation: values reach the workspace as written.
    ['PRICE="$5 and ${HOME}"', '$5 and ${HOME}'],
    ['UNKNOWN_ESCAPE="a\\qb"', 'a\\qb'],
    ['export  SPACED =  padded value  ', 'padded value'],
    ['EMPTY=', ''],
    ['EMPTY_QUOTED=""', ''],
  ])('%s', (line, expected) => {
    expect(value(line)).toBe(expected);
  });

  it('reads a quoted value across lines, and a later line with the same name wins', () => {
    const { vars, problems } = parseDotenv(
      'TLS_KEY="-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----"\nA=1\nA=2',
    );
    expect(problems).toEqual([]);
    expect(vars).toEqual([
      { name: 'TLS_KEY', value: '-----BEGIN PRIVATE KEY-----\nMIIEabc\n-----END PRIVATE KEY-----' },
      { name: 'A', value: '2' },
    ]);
  });

  it('counts lines across a multi-line value when it names a later problem', () => {
    const { problems } = parseDotenv("A='x\ny'\nnot a pair");
    expect(problems.map((p) => p.line)).toEqual([3]);
  });

  it('refuses text after a closing quote without showing it', () => {
    const { problems } = parseDotenv('A="ok" trailing-secret');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('line 1 (A): text follows the closing quote');
    expect(problems[0]?.message).not.toContain('trailing-secret');
  });

  it('a PEM key pasted without quotes is named by line, never quoted, and masked', () => {
    const key = 'Zk9xQ+r/7TqLwPmS3cV8==';
    const env = `TLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n${key}\n-----END PRIVATE KEY-----`;
    let message = '';
    try {
      parseRequest(
        {
          apiToken: 'tok-123456',
          team: 'My Team',
          platform: 'github',
          repository: 'acme/shop',
          gitUrl: 'https://github.com/acme/shop.git',
          branch: 'main',
          env,
        },
        'deploy',
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('line 3: the text before "=" is not a valid name');
    expect(message).toContain(
      'if it continues the value of TLS_KEY (line 1), write that value in double quotes',
    );
    for (const fragment of ['Zk9xQ', 'r/7Tq', 'MIIEvQ', 'PRIVATE KEY', 'BEGIN'])
      expect(message).not.toContain(fragment);
    // Every line that is not NAME=value is masked, as is the secret-named value.
    expect(secretsOf({ env })).toEqual(
      expect.arrayContaining([key, 'MIIEvQIBADANBgkqhkiG9w0B', '-----BEGIN PRIVATE KEY-----']),
    );
  });

  it('property: any value written in the double-quoted form parses back to itself', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ maxLength: 20 }),
        (v, comment) => {
          const commentText = comment.replace(/[\r\n]/g, '');
          const { vars, problems } = parseDotenv(`X=${quoteDotenvValue(v)} #${commentText}\nY=1`);
          expect(problems).toEqual([]);
          expect(vars).toEqual([
            { name: 'X', value: v },
            { name: 'Y', value: '1' },
          ]);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("property: any value without a trailing backslash written single-quoted (' as \\') parses back to itself", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }).filter((v) => !v.endsWith('\\') && !v.includes('\r\n')),
        (v) => {
          const { vars, problems } = parseDotenv(`X='${v.replace(/'/g, "\\'")}'`);
          expect(problems).toEqual([]);
          expect(vars).toEqual([{ name: 'X', value: v }]);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: no problem ever quotes the text of a line', () => {
    // Lines of random text mixed with valid ones; each random line carries a marker that must
    // never appear in any message.
    const secretLine = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 60 })
      .map((s) => `${s.replace(/\n/g, ' ')}SECRETMARK${s.length}`);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(secretLine, fc.constant('OK=1')), { minLength: 1, maxLength: 8 }),
        (lines) => {
          const { problems } = parseDotenv(lines.join('\n'));
          for (const problem of problems) expect(problem.message).not.toContain('SECRETMARK');
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });
});
