/**
 * Which values are secrets (by their env name), and `redact` for one-off texts. How a registered
 * secret is found again in text, in every form it takes, is masking.ts.
 *
 * Used by every reporter (the GitHub Action's, the GitLab/Bitbucket console reporter) and by the
 * writers of machine-readable outputs, so the three platforms mask the same things the same way.
 * Design: docs/design/masking.md
 */

import { SecretSet } from './masking.js';

export { MIN_MASKED_LENGTH, MIN_SUBSTRING_LENGTH, maskablePieces, SecretSet } from './masking.js';

/**
 * Words that make an env name secret when they are a whole segment of it. Segments are split
 * at `_`, `.`, `-` and camelCase boundaries: `DB_PASSWORD`, `apiKey`, `gitlab.token` and
 * `VPN_PSK` are secret; `PASSENGER_PORT`, `KEYBOARD_LAYOUT`, `AUTHOR` and `TOKENIZER` are not.
 */
const SECRET_SEGMENTS = new Set([
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
  'PASSWORD',
  'PASSWORDS',
  'PASSWD',
  'PASS',
  'PASSPHRASE',
  'PSK',
  'KEY',
  'KEYS',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'PRIVATE',
  'AUTH',
  'CERT',
  'SALT',
  'DSN',
]);

/**
 * Segments that end in one of these words are secret too: names written without separators,
 * such as `DBPASSWORD`, `GHTOKEN`, `CLIENTSECRET`. Only words too long to end another word by
 * chance (`KEY` would match `MONKEY`, `PASS` would match `BYPASS`).
 */
const SECRET_SUFFIXES = ['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'APIKEY', 'PRIVATEKEY', 'PASSPHRASE'];

/** A name's segments, upper-cased: `dbPassword.v2-URL` -> DB, PASSWORD, V2, URL. */
export function nameSegments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2') // camelCase: dbPassword -> db_Password
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2') // acronyms: APIKey -> API_Key
    .split(/[^A-Za-z0-9]+/)
    .filter((segment) => segment !== '')
    .map((segment) => segment.toUpperCase());
}

/** Whether an env name's value is treated as a secret (masked, never written to outputs). */
export function isSecretName(name: string): boolean {
  return nameSegments(name).some(
    (segment) => SECRET_SEGMENTS.has(segment) || SECRET_SUFFIXES.some((word) => segment.endsWith(word)),
  );
}

/**
 * Replaces every form of every secret in a text by `***`, by the rules of masking.ts (each line
 * of a multi-line secret and its encodings; short ones only as whole words; under 4 characters
 * not at all). For messages quoted from foreign errors.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  // For one-off texts (a CLI report, a foreign error): a reporter keeps its own SecretSet.
  const set = new SecretSet();
  for (const secret of secrets) set.add(secret);
  return set.redact(text);
}
