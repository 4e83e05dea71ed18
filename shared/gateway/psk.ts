/**
 * Pre-shared keys the way strongSwan 5.9/6.0 reads and writes them (ipsec.secrets(5),
 * swanctl.conf(5), stroke_cred.c, load_creds.c, chunk.c), so that `check` compares keys (bytes)
 * rather than spellings, and `print` writes a notation that holds any key.
 * Design: docs/design/psk.md (the notations and sources)
 */

/** How a key was written. */
export type PskNotation = 'quoted' | 'unquoted' | 'hex' | 'base64';

/**
 * A key read from a gateway file: its bytes, or why strongSwan would not read it as meant.
 * `refused`: strongSwan rejects the entry outright (no value, no closing quote), and in
 * ipsec.secrets stops reading the file there; otherwise it loads some other key than meant.
 */
export type PskReading =
  { ok: true; key: Buffer; notation: PskNotation } | { ok: false; problem: string; refused?: boolean };

const HEX_DIGITS = /^[0-9a-f:]*$/i;

/** `0x` hex as chunk_from_hex reads it; the problem never quotes the (secret) text. */
function decodeHex(digits: string): PskReading {
  if (!HEX_DIGITS.test(digits)) {
    return { ok: false, problem: 'it starts with 0x but is not hexadecimal (0-9, a-f and ":" only)' };
  }
  const plain = digits.replace(/:/g, '');
  return {
    ok: true,
    key: Buffer.from(plain.length % 2 ? `0${plain}` : plain, 'hex'),
    notation: 'hex',
  };
}

const BASE64_VALUE: Record<string, number> = {};
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  .split('')
  .forEach((char, index) => (BASE64_VALUE[char] = index));
BASE64_VALUE['-'] = 62;
BASE64_VALUE['_'] = 63;
BASE64_VALUE['='] = 0;

/**
 * `0s` base64 as chunk_from_base64 reads it: whole groups of four, every `=` shortens the result
 * by one byte. strongSwan turns other characters into garbage bytes; here they are a problem.
 */
function decodeBase64(text: string): PskReading {
  if ([...text].some((char) => BASE64_VALUE[char] === undefined)) {
    return {
      ok: false,
      problem: 'it starts with 0s but is not base64 (A-Z, a-z, 0-9, +, /, -, _ and = only)',
    };
  }
  const groups = Math.floor(text.length / 4);
  const bytes: number[] = [];
  let length = 0;
  for (let group = 0; group < groups; group++) {
    const quad = text.slice(group * 4, group * 4 + 4);
    length += 3;
    const [a, b, c, d] = [...quad].map((char) => {
      if (char === '=' && length > 0) length--;
      return BASE64_VALUE[char] ?? 0;
    }) as [number, number, number, number];
    bytes.push(((a << 2) | (b >> 4)) & 0xff, ((b << 4) | (c >> 2)) & 0xff, ((c << 6) | d) & 0xff);
  }
  return { ok: true, key: Buffer.from(bytes.slice(0, Math.max(0, length))), notation: 'base64' };
}

/**
 * The secret of an ipsec.secrets `PSK` entry: `rest` is the line after the `PSK` token.
 * Mirrors stroke_cred.c `extract_secret()`.
 */
export function readIpsecSecretsPsk(rest: string): PskReading {
  const text = rest.replace(/^[ \t]+/, '');
  if (text === '' || text.startsWith('#'))
    return { ok: false, problem: 'the PSK entry has no secret', refused: true };
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    if (end < 0)
      return {
        ok: false,
        problem: `the secret's closing ${quote} is missing, so strongSwan refuses the line`,
        refused: true,
      };
    return { ok: true, key: Buffer.from(text.slice(1, end), 'utf8'), notation: 'quoted' };
  }
  const token = /^[^ \t]*/.exec(text)?.[0] ?? '';
  if (token.length > 2 && /^0x/i.test(token)) return decodeHex(token.slice(2));
  if (token.length > 2 && /^0s/i.test(token)) return decodeBase64(token.slice(2));
  return { ok: true, key: Buffer.from(token, 'utf8'), notation: 'unquoted' };
}

/**
 * The key of a swanctl.conf `secrets { ike-... { secret = ... } }` entry, given the value as the
 * settings parser produced it (see parseSwanctlConf). Mirrors load_creds.c `load_secret()`.
 */
export function readSwanctlSecret(value: string): PskReading {
  if (/^0x/i.test(value)) return decodeHex(value.slice(2));
  if (/^0s/i.test(value)) return decodeBase64(value.slice(2));
  return { ok: true, key: Buffer.from(value, 'utf8'), notation: 'quoted' };
}

/**
 * Whether a key can be written as a double-quoted string that both ipsec.secrets and swanctl.conf
 * read back as itself: printable ASCII without `"` and `\` (swanctl treats `\` as an escape), and
 * not starting with 0x/0s (swanctl would decode it even inside quotes).
 */
export function quotable(psk: string): boolean {
  return /^[\x20-\x7e]+$/.test(psk) && !/["\\]/.test(psk) && !/^0[xs]/i.test(psk);
}

/**
 * The notation `print` writes for a key, in either file: `"key"` when quotable, else strongSwan's
 * base64 form `0s<base64 of the UTF-8 bytes>`, which holds any key (quotes, backslashes, `#`,
 * non-ASCII, newlines). `comment` says why the key is not readable as typed.
 */
export function pskNotation(psk: string): { value: string; comment?: string } {
  if (quotable(psk)) return { value: `"${psk}"` };
  return {
    value: `0s${Buffer.from(psk, 'utf8').toString('base64')}`,
    comment: "the PSK in strongSwan's base64 notation (0s...): it holds characters a quoted string cannot",
  };
}

/** Whether the key read from a gateway file is the VPN config's PSK (compared as UTF-8 bytes). */
export function samePsk(found: Buffer, psk: string): boolean {
  return found.equals(Buffer.from(psk, 'utf8'));
}
