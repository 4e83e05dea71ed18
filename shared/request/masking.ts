/**
 * Masking: the forms a secret takes on the way out, and one masker that finds them all in text.
 *
 * A server, a proxy or a build prints a secret the way its own code encodes it: raw, JSON-escaped
 * (a proxy's error page echoing headers), URL-encoded (a git URL, a form body), base64 (a Basic
 * auth header), HTML-escaped (an error page), or in another Unicode normalisation. Each registered
 * secret is turned into every such form (`secretForms`), and every people-read sink redacts them
 * all through one SecretSet. A secret that is JSON (a service-account key) also registers each of
 * its string values, so a minified print (`jq -c`) is masked as well as a pretty one. README,
 * "Masking", lists the forms and the boundaries.
 */

/**
 * Short secrets. A very short one would turn every line into stars (a password `1`, a PSK `3000`
 * inside workspace id 30001) while protecting little, so:
 * - shorter than MIN_MASKED_LENGTH (4) characters: not masked at all (any such value is guessable);
 * - shorter than MIN_SUBSTRING_LENGTH (8): masked only where it stands as a whole word;
 * - 8 characters or more: masked wherever it occurs.
 * GitHub's runner masks substrings of any registered value, so only forms of 8 or more are
 * registered with it; our own redaction covers short ones by the rule above.
 */
export const MIN_MASKED_LENGTH = 4;
export const MIN_SUBSTRING_LENGTH = 8;
/** String values of a JSON secret this long or longer are secrets of their own. */
export const MIN_JSON_VALUE_LENGTH = 8;
/** The shortest head of a secret masked when a truncation (`...`, `…`) cuts it. */
const TRUNCATED_HEAD = 4;
/** How deep a JSON secret's values are collected (a key file is two levels deep). */
const MAX_JSON_DEPTH = 8;

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The pieces a secret is masked as: each line, trimmed (runners mask per line), 4 characters or
 * more; for a secret that parses as a JSON object or array, also each line of each string value
 * of MIN_JSON_VALUE_LENGTH or more (a PEM key's lines) and the minified JSON itself.
 */
export function maskablePieces(secret: string): string[] {
  const pieces = new Set<string>();
  const addLines = (text: string) => {
    for (const line of text.split(LINE_BREAK)) {
      const piece = line.trim();
      if (piece.length >= MIN_MASKED_LENGTH) pieces.add(piece);
    }
  };
  addLines(secret);
  const json = parseJsonContainer(secret);
  if (json !== undefined) {
    addLines(JSON.stringify(json));
    for (const value of jsonStrings(json, 0)) if (value.length >= MIN_JSON_VALUE_LENGTH) addLines(value);
  }
  return [...pieces];
}

function parseJsonContainer(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

function jsonStrings(value: unknown, depth: number): string[] {
  if (typeof value === 'string') return [value];
  if (depth >= MAX_JSON_DEPTH || value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap((item: unknown) => jsonStrings(item, depth + 1));
}

const hex4 = (unit: number, upper: boolean) => {
  const hex = unit.toString(16).padStart(4, '0');
  return `\\u${upper ? hex.toUpperCase() : hex}`;
};

/**
 * JSON string escapes as common serialisers write them: ECMAScript's JSON.stringify, PHP's and
 * Java's `\/`, Python's and PHP's ASCII-only `\uxxxx`, .NET's upper-case hex, Go's HTML-safe
 * `\u003c`, and the JSON of a JSON string (a body quoted inside another JSON log).
 */
function jsonForms(text: string): string[] {
  const std = JSON.stringify(text).slice(1, -1);
  const escapeUnits = (pattern: RegExp, upper: boolean) =>
    std.replace(pattern, (c) => hex4(c.charCodeAt(0), upper));
  const bases = [
    std,
    escapeUnits(/[^\x20-\x7e]/g, false),
    escapeUnits(/[^\x20-\x7e]/g, true),
    escapeUnits(/[^\x20-\x7e]|[<>&]/g, false),
    escapeUnits(/[^\x20-\x7e]|[<>&'+`]/g, true),
    JSON.stringify(std).slice(1, -1),
  ];
  return [...bases, ...bases.map((form) => form.replace(/\//g, '\\/'))];
}

/** Percent-encodings: RFC 3986 components (upper and lower hex), form bodies (`+`), whole URLs. */
function urlForms(text: string): string[] {
  const forms: string[] = [];
  try {
    const component = encodeURIComponent(text);
    forms.push(
      component,
      component.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    );
    forms.push(component.replace(/%20/g, '+'), encodeURI(text));
  } catch {
    // A lone surrogate has no percent-encoding; URLSearchParams writes it as U+FFFD.
  }
  forms.push(new URLSearchParams([['x', text]]).toString().slice(2));
  return forms;
}

/** HTML escapes: named entities, numeric ones (`&#34;`, `&#x27;`, `&#039;`), text-node only. */
function htmlForms(text: string): string[] {
  if (!/[&<>"']/.test(text)) return [];
  const escape = (table: Record<string, string>) => text.replace(/[&<>"']/g, (c) => table[c] ?? c);
  const base = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
  return [
    escape({ ...base, '"': '&quot;', "'": '&#39;' }),
    escape({ ...base, '"': '&#34;', "'": '&#x27;' }),
    escape({ ...base, '"': '&quot;', "'": '&#039;' }),
    escape(base),
  ];
}

/**
 * Base64 of the secret's UTF-8 bytes at each of the three alignments it can have inside a longer
 * encoded text (`user:password` in a Basic auth header puts the password at any offset): only the
 * characters that depend on the secret's bytes alone, in the standard and URL-safe alphabets.
 */
function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Character j holds bits [6j, 6j+6): keep those inside the secret's bits [8*offset, 8*(offset+n)).
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const form = encoded.slice(first, end);
    if (form.length < MIN_SUBSTRING_LENGTH) continue;
    forms.push(form, form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}

/**
 * Every form of one piece (see maskablePieces) that may reach a log: the piece in NFC and NFD
 * as given, each JSON-escaped, percent-encoded, HTML-escaped and base64-encoded. Forms shorter
 * than MIN_MASKED_LENGTH are left out; the piece itself comes first.
 */
export function secretForms(piece: string): string[] {
  const forms = new Set<string>();
  for (const text of new Set([piece, piece.normalize('NFC'), piece.normalize('NFD')])) {
    for (const form of [
      text,
      ...jsonForms(text),
      ...urlForms(text),
      ...htmlForms(text),
      ...base64Forms(text),
    ]) {
      if (form.length >= MIN_MASKED_LENGTH) forms.add(form);
    }
  }
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A run of masked text: [start, end) in UTF-16 code units. */
export type MaskedRange = readonly [start: number, end: number];

function mergeRanges(ranges: MaskedRange[]): MaskedRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** The text with each range replaced by `***`. */
export function starRanges(text: string, ranges: MaskedRange[]): string {
  let out = '';
  let from = 0;
  for (const [start, end] of mergeRanges(ranges)) {
    out += `${text.slice(from, start)}***`;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * A set of registered secrets and every form of each (secretForms). Long forms are found by
 * UTF-16 code units, so a secret that begins or ends with a lone surrogate is still found when
 * the text around it completes the pair; short ones only as whole words (Unicode letters/digits).
 */
export class SecretSet {
  private readonly forms = new Set<string>();
  private patterns: { long: RegExp | null; short: RegExp | null } | undefined;
  private longest = 0;

  /** Registers a secret; returns the forms newly registered (what a runner should be told to mask). */
  add(secret: string): string[] {
    const added: string[] = [];
    for (const piece of maskablePieces(secret)) {
      for (const form of secretForms(piece)) {
        if (this.forms.has(form)) continue;
        this.forms.add(form);
        added.push(form);
        this.longest = Math.max(this.longest, form.length);
      }
    }
    if (added.length > 0) this.patterns = undefined;
    return added;
  }

  /** Every registered form. */
  values(): string[] {
    return [...this.forms];
  }

  /** The length of the longest registered form (UTF-16 code units); 0 when none is registered. */
  longestForm(): number {
    return this.longest;
  }

  /** Where registered forms occur in the text (overlapping or adjacent ones not merged). */
  ranges(text: string): MaskedRange[] {
    const { long, short } = this.regexes();
    const found: MaskedRange[] = [];
    for (const pattern of [long, short]) {
      if (!pattern) continue;
      for (const match of text.matchAll(pattern)) found.push([match.index, match.index + match[0].length]);
    }
    return found;
  }

  /** The text with every registered form replaced by `***`, and heads of secrets cut by `...`. */
  redact(text: string): string {
    if (this.forms.size === 0) return text;
    return this.redactTruncated(starRanges(text, this.ranges(text)));
  }

  /**
   * A secret cut by a truncation (`got "My Team csdemo-tok..."`, `… Sup3rSec … (14 characters
   * cut)`): its head, from TRUNCATED_HEAD characters on, before an ellipsis (`...`, `…`) and any
   * white space is masked too.
   */
  private redactTruncated(text: string): string {
    if (!text.includes('...') && !text.includes('\u2026')) return text;
    const long = [...this.forms].filter((form) => form.length >= MIN_SUBSTRING_LENGTH);
    let out = '';
    let from = 0;
    for (const match of text.matchAll(/\s*(?:\.\.\.|\u2026)/g)) {
      const at = match.index;
      let cut = 0;
      const window = text.slice(from, at);
      for (const form of long) {
        // The longest proper head of the form that ends the window (it starts where its first
        // TRUNCATED_HEAD characters do).
        const lead = form.slice(0, TRUNCATED_HEAD);
        for (
          let p = window.indexOf(lead, Math.max(0, window.length - form.length + 1));
          p >= 0;
          p = window.indexOf(lead, p + 1)
        ) {
          const head = window.length - p;
          if (head <= cut) break;
          if (form.startsWith(window.slice(p))) {
            cut = head;
            break;
          }
        }
      }
      out += `${text.slice(from, at - cut)}${cut > 0 ? '***' : ''}${match[0]}`;
      from = at + match[0].length;
    }
    return out + text.slice(from);
  }

  /** Whether the text holds any registered form (by the same rule as `redact`). */
  foundIn(text: string): boolean {
    const { long, short } = this.regexes();
    return [long, short].some((pattern) => {
      if (!pattern) return false;
      pattern.lastIndex = 0;
      const hit = pattern.test(text);
      pattern.lastIndex = 0;
      return hit;
    });
  }

  private regexes(): { long: RegExp | null; short: RegExp | null } {
    if (this.patterns) return this.patterns;
    // Longest first, so a form that contains another is replaced whole.
    const sorted = [...this.forms].sort((a, b) => b.length - a.length);
    const long = sorted.filter((form) => form.length >= MIN_SUBSTRING_LENGTH).map(escapeRegExp);
    const short = sorted
      .filter((form) => form.length < MIN_SUBSTRING_LENGTH)
      .map((form) => `(?<![\\p{L}\\p{N}])${escapeRegExp(form)}(?![\\p{L}\\p{N}])`);
    this.patterns = {
      long: long.length > 0 ? new RegExp(long.join('|'), 'g') : null,
      short: short.length > 0 ? new RegExp(short.join('|'), 'gu') : null,
    };
    return this.patterns;
  }
}

/**
 * Masks a stream of lines as one text: a secret split across lines (a log entry that ends
 * `DB_PASSWORD=Sup3rSec` and the next that begins `retV4lue!`) is found in the lines joined, and
 * each of its parts is starred in its own line. A line is handed on once the lines after it
 * hold at least as many characters as the longest form minus one (no form that starts in it can
 * end later), or at `end()`. `meta` rides along (a log entry's kind and timestamp).
 */
export class JoinedLineMasker<M> {
  private readonly queue: Array<{ text: string; meta: M }> = [];
  private queued = 0;
  /** Code units at the start of the queue's first line that a form from earlier lines covers. */
  private carry = 0;

  constructor(
    private readonly secrets: SecretSet,
    private readonly emit: (line: string, meta: M) => void,
  ) {}

  push(text: string, meta: M): void {
    this.queue.push({ text, meta });
    this.queued += text.length;
    this.drain(false);
  }

  /** Hands on every line still held. */
  end(): void {
    this.drain(true);
  }

  private drain(all: boolean): void {
    const reach = Math.max(0, this.secrets.longestForm() - 1);
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (!all && this.queued - head.text.length < reach) return;
      let window = head.text;
      for (let i = 1; i < this.queue.length && window.length < head.text.length + reach; i++)
        window += this.queue[i]?.text ?? '';
      window = window.slice(0, head.text.length + reach);
      const size = head.text.length;
      const mine: MaskedRange[] = this.carry > 0 ? [[0, Math.min(this.carry, size)]] : [];
      let next = Math.max(0, this.carry - size);
      for (const [start, end] of this.secrets.ranges(window)) {
        if (start >= size) continue;
        mine.push([start, Math.min(end, size)]);
        next = Math.max(next, end - size);
      }
      this.queue.shift();
      this.queued -= size;
      this.carry = next;
      this.emit(starRanges(head.text, mine), head.meta);
    }
  }
}
