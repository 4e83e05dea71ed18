/**
 * Which values are secrets, and how a registered secret is found again in text.
 *
 * Used by every reporter (the GitHub Action's, the GitLab/Bitbucket console reporter) and by the
 * writers of machine-readable outputs, so the three platforms mask the same things the same way.
 * Design: docs/design/masking.md
 */

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
 * Short secrets. A secret is masked as it is found in text, but a very short one would turn
 * every log line into stars (a password `1`, a PSK `3000` inside workspace id 30001) while
 * protecting little, so:
 * - shorter than MIN_MASKED_LENGTH (4) characters: not masked at all (any such value is guessable);
 * - shorter than MIN_SUBSTRING_LENGTH (8): masked only where it stands as a whole word, not as part
 *   of a longer run of letters and digits (`port 3000` is masked, `30001` is not);
 * - 8 characters or more: masked wherever it occurs.
 * GitHub's runner masks substrings of any registered secret, so short ones are not registered
 * with it; our own redaction covers them by the rule above.
 */
export const MIN_MASKED_LENGTH = 4;
export const MIN_SUBSTRING_LENGTH = 8;
/** The shortest head of a secret masked when a truncation (`...`, `…`) cuts it. */
const TRUNCATED_HEAD = 4;

/** The pieces a secret is masked as: each line of a multi-line value, trimmed (runners mask per line). */
export function maskablePieces(secret: string): string[] {
  const pieces = new Set<string>();
  for (const line of secret.split(/\r\n|\r|\n/)) {
    const piece = line.trim();
    if (piece.length >= MIN_MASKED_LENGTH) pieces.add(piece);
  }
  return [...pieces];
}

function urlEncoded(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text; // a lone surrogate has no URL form
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A set of registered secrets: each line of each, trimmed, plus its URL-encoded form (as a
 * password sits in a git URL or a query string).
 */
export class SecretSet {
  private readonly pieces = new Set<string>();
  private pattern: RegExp | null | undefined;

  /** Registers a secret; returns the pieces newly registered (what a runner should be told to mask). */
  add(secret: string): string[] {
    const added: string[] = [];
    for (const piece of maskablePieces(secret)) {
      const encoded = urlEncoded(piece);
      for (const form of encoded === piece ? [piece] : [piece, encoded]) {
        if (this.pieces.has(form)) continue;
        this.pieces.add(form);
        added.push(form);
      }
    }
    if (added.length > 0) this.pattern = undefined;
    return added;
  }

  /** Every registered piece. */
  values(): string[] {
    return [...this.pieces];
  }

  /** The text with every registered piece replaced by `***`. */
  redact(text: string): string {
    const pattern = this.regex();
    return pattern ? this.redactTruncated(text.replace(pattern, '***')) : text;
  }

  /**
   * A secret cut by a truncation (`got "My Team csdemo-tok..."`): its head, from TRUNCATED_HEAD
   * characters on, right before an ellipsis (`...`, `…`), is masked too.
   */
  private redactTruncated(text: string): string {
    if (!text.includes('...') && !text.includes('\u2026')) return text;
    const long = [...this.pieces].filter((piece) => piece.length >= MIN_SUBSTRING_LENGTH);
    let out = '';
    let from = 0;
    for (const match of text.matchAll(/\.\.\.|\u2026/g)) {
      const at = match.index;
      let cut = 0;
      for (const piece of long) {
        // The longest proper head of the piece that ends the text right before the ellipsis.
        for (let end = Math.min(piece.length - 1, at - from); end > cut && end >= TRUNCATED_HEAD; end -= 1) {
          if (text.startsWith(piece.slice(0, end), at - end)) {
            cut = end;
            break;
          }
        }
      }
      out += `${text.slice(from, at - cut)}${cut > 0 ? '***' : ''}${match[0]}`;
      from = at + match[0].length;
    }
    return out + text.slice(from);
  }

  /** Whether the text holds any registered piece (by the same rule as `redact`). */
  foundIn(text: string): boolean {
    const pattern = this.regex();
    if (!pattern) return false;
    pattern.lastIndex = 0;
    return pattern.test(text);
  }

  private regex(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern;
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...this.pieces].sort((a, b) => b.length - a.length);
    const alternatives = sorted.map((piece) =>
      piece.length >= MIN_SUBSTRING_LENGTH
        ? escapeRegExp(piece)
        : `(?<![\\p{L}\\p{N}])${escapeRegExp(piece)}(?![\\p{L}\\p{N}])`,
    );
    this.pattern = alternatives.length > 0 ? new RegExp(alternatives.join('|'), 'gu') : null;
    return this.pattern;
  }
}

/**
 * Replaces every secret in a text by `***`, by the masking rule of shared/request/secrets.ts (each line of
 * a multi-line secret; short ones only as whole words; under 4 characters not at all). For text
 * written by adapters without native masking, and for messages quoted from foreign errors.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  const set = new SecretSet();
  for (const secret of secrets) set.add(secret);
  return set.redact(text);
}
