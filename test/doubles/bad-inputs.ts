/**
 * Random bad input for the adapters' property tests: one field of the
 * input surface gets a value that must be refused (control characters, Unicode, very long text,
 * names that exist nowhere), while secrets sit in every place they can: the API token, a
 * secret-named env value (any characters, several lines), and, pasted into the bad value itself,
 * one of the secrets. Each adapter maps the core's field names to its own (action inputs, CI
 * variables) and asserts the outcome of every run.
 */
import fc from 'fast-check';

import { quoteDotenvValue } from '../../shared/request/dotenv.js';

/** The fixed seed of every property run in `npm test` (override with FC_SEED in the bench). */
export const PROPERTY_SEED = 20261129;

/** The core's fields the properties drive, each with a way to make it invalid. */
export type BadField =
  | 'team'
  | 'plan'
  | 'vpnConfig'
  | 'replicas'
  | 'timeoutSeconds'
  | 'onDemand'
  | 'env'
  | 'vpnCheck'
  | 'cloneDepth'
  | 'baseImage';

export interface BadInput {
  field: BadField;
  /** Every core field -> its value (strings as a CI platform hands them over). */
  values: Partial<Record<BadField, string>>;
  /** The secret-named env value placed in `env` (masked; must appear nowhere). */
  envSecret: string;
}

const CONTROL = fc.constantFrom(
  '\n',
  '\r',
  '\r\n',
  '\u0001',
  '\u001b[31m',
  '\u0085',
  '\u2028',
  '\u202e',
  '\t\u0007',
);
const INJECTION = fc.constantFrom(
  '::warning::INJECTED',
  '::error::INJECTED',
  '##[warning]INJECTED',
  '%0A::notice::x',
  '',
);

/** Text with Unicode of every kind, sometimes very long. */
const anyText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 500, maxLength: 3000 }) },
);

/**
 * A name with a control character (and maybe an injected workflow command) inside: between two
 * letters, so it is never leading or trailing whitespace that every platform trims away
 * (`"\r%0A::notice::x"` alone is the valid name `%0A::notice::x` once trimmed, as GitHub's
 * getInput trims it).
 */
const controlName = fc
  .tuple(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    CONTROL,
    INJECTION,
    fc.string({ unit: 'grapheme', maxLength: 20 }),
  )
  .map(([a, c, i, b]) => `${a}a${c}${i}z${b}`);

/** A name no seed holds. */
const unknownName = anyText
  .map((text) => `zz-${text}`)
  .filter((text) => text.trim() !== '' && !/[\r\n]/.test(text));

const notADigitString = anyText.map((text) => `x${text}`);

function badValue(field: BadField): fc.Arbitrary<string> {
  switch (field) {
    case 'team':
    case 'plan':
      return fc.oneof(controlName, unknownName);
    case 'vpnConfig':
    case 'baseImage':
      return controlName;
    case 'replicas':
    case 'timeoutSeconds':
    case 'cloneDepth':
      return notADigitString;
    case 'onDemand':
      return notADigitString.map((text) => `maybe${text}`);
    case 'vpnCheck':
      return anyText.map((text) => `10.0.0.1; ${text}`);
    case 'env':
      // A line that is not NAME=value, as a secret pasted without quotes would be. It starts with
      // a word, never `#` (a comment line is valid) nor a line break (its first line is the bad one).
      return anyText.map((text) => `not-a-pair ${text.replace(/=/g, '')}`);
  }
}

const FIELDS: readonly BadField[] = [
  'team',
  'plan',
  'vpnConfig',
  'replicas',
  'timeoutSeconds',
  'onDemand',
  'env',
  'vpnCheck',
  'cloneDepth',
  'baseImage',
];

/** A secret of at least 16 characters, any characters, sometimes over several lines. */
const secretValue = fc
  .tuple(
    fc.string({ unit: 'grapheme', minLength: 16, maxLength: 60 }),
    fc.boolean(),
    fc.string({ unit: 'binary', maxLength: 40 }),
  )
  .map(([first, multiline, second]) => (multiline ? `${first}\n${second}` : first))
  .filter(
    (value) =>
      value.split('\n')[0]?.trim().length !== undefined && (value.split('\n')[0]?.trim().length ?? 0) >= 16,
  );

/**
 * One bad input. `secrets` are the adapter's own (API token, CI tokens): one of them, or the env
 * secret, is pasted into the bad value.
 */
export function badInput(secrets: readonly string[]): fc.Arbitrary<BadInput> {
  return fc
    .tuple(fc.constantFrom(...FIELDS), secretValue, fc.nat(), fc.nat({ max: secrets.length + 1 }))
    .chain(([field, rawSecret, at, which]) => {
      // No platform can hand a process a variable holding NUL: it stands for other controls here.
      const envSecret = rawSecret.replaceAll(String.fromCharCode(0), '\u0001');
      return badValue(field).map((bad): BadInput => {
        const pasted = which < secrets.length ? secrets[which] : which === secrets.length ? envSecret : '';
        const position = bad.length === 0 ? 0 : at % bad.length;
        const value = `${bad.slice(0, position)}${pasted ?? ''}${bad.slice(position)}`.replaceAll(
          String.fromCharCode(0),
          '\u0001',
        );
        const envLines = [`DB_PASSWORD=${quoteDotenvValue(envSecret)}`, 'PASSENGER_PORT=3000'];
        if (field === 'env') envLines.push(value);
        const values: Partial<Record<BadField, string>> = { env: envLines.join('\n') };
        if (field !== 'env') values[field] = value;
        return { field, values, envSecret };
      });
    });
}

/**
 * Windows of a secret that must appear nowhere: each line of it (trimmed, 8+ characters, the
 * masking rule of shared/request/secrets.ts) and every 16-character run of such a line.
 */
export function secretFragments(secret: string): string[] {
  const out = new Set<string>();
  for (const line of secret.split(/\r\n|\r|\n/)) {
    const piece = line.trim();
    if (piece.length < 8) continue;
    out.add(piece);
    for (let i = 0; i + 16 <= piece.length; i += 1) out.add(piece.slice(i, i + 16));
  }
  return [...out];
}

/** The first fragment of any secret found in any of the texts, as `place: fragment`, or undefined. */
export function leakIn(texts: Record<string, string>, secrets: readonly string[]): string | undefined {
  for (const secret of secrets) {
    for (const fragment of secretFragments(secret)) {
      for (const [place, text] of Object.entries(texts)) {
        if (text.includes(fragment)) return `${place}: ${JSON.stringify(fragment)}`;
      }
    }
  }
  return undefined;
}

/** The GitLab/Bitbucket variable that supplies each core field (shared/ci/variables.ts). */
export const CI_VARIABLE_OF: Record<BadField, string> = {
  team: 'TEAM',
  plan: 'PLAN',
  vpnConfig: 'VPN_CONFIG',
  replicas: 'REPLICAS',
  timeoutSeconds: 'TIMEOUT',
  onDemand: 'ON_DEMAND',
  env: 'ENV',
  vpnCheck: 'VPN_CHECK',
  cloneDepth: 'CLONE_DEPTH',
  baseImage: 'BASE_IMAGE',
};

/** A bad input as GitLab job or Bitbucket pipe variables. */
export function asCiVariables(input: BadInput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(input.values).map(([field, value]) => [CI_VARIABLE_OF[field as BadField], value]),
  );
}
