/** Small value parsers both the core and the adapters need (CI platforms hand everything over as strings). */

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** The one boolean rule in words, for every error about a boolean input on every platform. */
export const BOOLEAN_WORDS = 'true or false (also yes/no, on/off, 1/0, in any case)';

/**
 * The one boolean rule of every boolean input on every platform (GitHub inputs, GitLab and
 * Bitbucket variables, the core's JobInput): true/yes/on/1 and false/no/off/0, in any case, with
 * surrounding spaces ignored. Empty or absent gives `undefined` so the caller applies its
 * default; anything else gives `null` so the caller can report it (with BOOLEAN_WORDS).
 */
export function parseBoolean(value: string | boolean | undefined | null): boolean | undefined | null {
  if (typeof value === 'boolean') return value;
  if (value === undefined || value === null) return undefined;
  const word = value.trim().toLowerCase();
  if (word === '') return undefined;
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return null;
}

/** True for `undefined`, `null` and strings that are empty after trimming: "not given" in CI inputs. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * The one id rule: a positive whole number written in ASCII digits only (surrounding spaces
 * ignored), within Number.MAX_SAFE_INTEGER. "9.0", "+9", "9e0", "0x9", "٩" and "0" give
 * `undefined`: ids are never guessed from something else that Number() would accept.
 */
export function parseId(value: string | number): number | undefined {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^[0-9]+$/.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) && id >= 1 ? id : undefined;
}

/**
 * Characters no name holds and no log should receive raw: C0 and C1 controls and DEL, line and
 * paragraph separators, bidirectional marks, overrides and isolates, and the invisible zero-width
 * space, word joiner and byte-order mark (a value pasted with a BOM or a U+200B looks right in the
 * log but matches nothing). U+200C/U+200D are left alone: emoji and several scripts need them.
 * Each can change what a log shows (a line break starts a line the GitHub runner may read as a
 * workflow command, an escape sequence rewrites a GitLab or Bitbucket log line, an override
 * reorders text).
 */
export const CONTROL_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/gu;

/**
 * A given value as an error quotes it: JSON-quoted, every character of CONTROL_CHARACTERS escaped
 * as `\uXXXX` (JSON leaves U+2028, U+0085, bidi marks and U+FEFF as they are), cut to `max`
 * characters with `...`. Never pass a value that may hold a secret.
 */
export function quoteGiven(value: unknown, max = 80): string {
  const json = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  const text = json.replace(
    CONTROL_CHARACTERS,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
