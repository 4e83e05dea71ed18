/** Small value parsers both the core and the adapters need (CI platforms hand everything over as strings). */

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/**
 * Parses a CI-style boolean ("true", "False", "1", "no", ...). Empty or absent gives `undefined`
 * so the caller applies its default; anything else gives `null` so the caller can report it.
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
