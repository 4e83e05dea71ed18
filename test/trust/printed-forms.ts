/**
 * How servers, proxies and builds print a secret, written independently of the masking module
 * (shared/request/masking.ts) so the property tests check it against the encoders themselves:
 * JSON.stringify, encodeURIComponent, URLSearchParams, Buffer's base64, an HTML escaper and
 * String.prototype.normalize.
 */
import fc from 'fast-check';

export interface Printed {
  name: string;
  /** What is printed. */
  text: string;
  /** The part of `text` that depends on the secret alone (all of it, but for base64 of `user:secret`). */
  secretPart: string;
}

/** Characters that encoders treat specially, and letters that NFC and NFD write differently. */
const TRICKY = [...'"\\/%+&<>\' =:?#aZ9', 'ä', 'é', 'ñ', 'Å', '\u0301', '\u{1F600}', '\uD800', '\uDC00'];

/**
 * A secret of 8 to 24 characters on one line (a multi-line secret is masked line by line): any
 * Unicode, lone surrogates included, or a mix of the characters encoders change.
 */
export function secretArbitrary(): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ unit: 'binary', minLength: 8, maxLength: 24 }),
      fc.string({ unit: fc.constantFrom(...TRICKY), minLength: 8, maxLength: 24 }),
    )
    .filter((s) => s === s.trim() && !/[\r\n]/.test(s) && s.length >= 8);
}

function html(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function basicAuth(user: string, secret: string): Printed {
  const prefix = Buffer.byteLength(`${user}:`, 'utf8');
  const bytes = Buffer.byteLength(secret, 'utf8');
  const text = Buffer.from(`${user}:${secret}`, 'utf8').toString('base64');
  const secretPart = text.slice(Math.ceil((8 * prefix) / 6), Math.floor((8 * (prefix + bytes)) / 6));
  return { name: 'base64 of user:secret', text, secretPart };
}

/** Every printed form of the secret that its encoder can write. */
export function printedForms(secret: string, user: string): Printed[] {
  const forms: Printed[] = [];
  const whole = (name: string, text: string) => forms.push({ name, text, secretPart: text });
  whole('raw', secret);
  whole('JSON-escaped', JSON.stringify(secret).slice(1, -1));
  whole('JSON-escaped with \\/', JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'));
  try {
    whole('percent-encoded', encodeURIComponent(secret));
  } catch {
    // A lone surrogate has no percent-encoding.
  }
  whole('form-encoded', new URLSearchParams([['x', secret]]).toString().slice(2));
  forms.push(basicAuth(user, secret));
  whole('HTML-escaped', html(secret));
  whole('NFC', secret.normalize('NFC'));
  whole('NFD', secret.normalize('NFD'));
  return forms.filter((form) => form.secretPart.length >= 8);
}
