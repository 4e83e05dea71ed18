/**
 * The `env` input: dotenv text in the syntax Docker Compose documents for `.env` files, read in
 * one left-to-right pass without `$` interpolation (values reach the workspace as written). Our
 * own parser because npm `dotenv` implements another dialect and Compose's parser is Go.
 * Problems never quote the text of a line: any line may hold a secret.
 * Design: docs/design/dotenv.md (the rules, each proven by test/core/dotenv.test.ts)
 */

export interface EnvVar {
  name: string;
  value: string;
}

/** Names as the workspace accepts them: letters, digits, `_ . -`, not starting with a digit. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** One problem of a dotenv text: the 1-based line and a sentence that quotes no line text. */
export interface DotenvProblem {
  line: number;
  message: string;
}

export interface DotenvResult {
  /** Every well-formed variable; a later line with the same name wins, as in Compose. */
  vars: EnvVar[];
  problems: DotenvProblem[];
  /**
   * Text of lines that could not be read as `NAME=value`: possibly the continuation of a secret
   * value pasted without quotes. Callers mask these; they are never shown.
   */
  unreadable: string[];
}

const DOUBLE_QUOTED_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  n: '\n',
  r: '\r',
  t: '\t',
  '"': '"',
};

/**
 * Parses dotenv text. Never throws; every problem is reported with its line number, and a
 * problem on one line does not hide those of later lines.
 */
export function parseDotenv(input: string): DotenvResult {
  // CRLF line ends (a value pasted from Windows) are line ends; a lone CR is a character.
  const text = input.replace(/\r\n/g, '\n');
  const vars = new Map<string, string>();
  const problems: DotenvProblem[] = [];
  const unreadable: string[] = [];
  // One pass over the characters; `i` is the position, `line` the 1-based line of `i`.
  let i = 0;
  let line = 1;
  /** The name of the last well-formed `NAME=` line and its line, for the unquoted-PEM hint. */
  let previous: { name: string; line: number; quoted: boolean } | undefined;
  const n = text.length;

  const restOfLine = (): string => {
    let end = i;
    while (end < n && text[end] !== '\n') end += 1;
    const rest = text.slice(i, end);
    i = end;
    return rest;
  };
  const skipLineBreak = (): void => {
    if (text[i] !== '\n') return;
    i += 1;
    line += 1;
  };
  const continuationHint = (at: number): string =>
    previous && !previous.quoted && previous.line === at - 1
      ? `; if it continues the value of ${previous.name} (line ${previous.line}), write that value in double quotes, with its line breaks inside them`
      : '';

  while (i < n) {
    const startLine = line;
    const lineText = restOfLine();
    const body = lineText.trim();
    if (body === '' || body.startsWith('#')) {
      skipLineBreak();
      continue;
    }
    // Re-read this line from its start, character by character.
    i -= lineText.length;
    while (text[i] === ' ' || text[i] === '\t') i += 1;
    if (/^export[ \t]/.test(text.slice(i, i + 7))) {
      i += 6;
      while (text[i] === ' ' || text[i] === '\t') i += 1;
    }
    const rest = restOfLineNoConsume(text, i);
    const eq = rest.indexOf('=');
    if (eq < 0) {
      problems.push({
        line: startLine,
        message: `line ${startLine} is not NAME=value (no "=" in it; the line is not shown, it may hold a secret)${continuationHint(startLine)}`,
      });
      unreadable.push(body);
      restOfLine();
      skipLineBreak();
      continue;
    }
    const name = rest.slice(0, eq).trim();
    if (name === '' || !ENV_NAME_PATTERN.test(name)) {
      problems.push({
        line: startLine,
        message: `line ${startLine}: the text before "=" is not a valid name (names are letters, digits, _ . -, not starting with a digit; the line is not shown, it may hold a secret)${continuationHint(startLine)}`,
      });
      unreadable.push(body);
      restOfLine();
      skipLineBreak();
      continue;
    }
    i += eq + 1;
    while (text[i] === ' ' || text[i] === '\t') i += 1;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const value = readQuoted(quote);
      if (value === undefined) {
        problems.push({
          line: startLine,
          message: `line ${startLine} (${name}): the value's closing ${quote === '"' ? 'double' : 'single'} quote is missing`,
        });
        break;
      }
      const after = restOfLine().trim();
      if (after !== '' && !after.startsWith('#')) {
        problems.push({
          line,
          message: `line ${line} (${name}): text follows the closing quote; only a # comment may follow it (the text is not shown, it may hold a secret)`,
        });
        unreadable.push(after);
      } else {
        vars.set(name, value);
      }
      previous = { name, line: startLine, quoted: true };
      skipLineBreak();
      continue;
    }
    const raw = restOfLine();
    // Unquoted: a comment starts at a # that follows whitespace; the value is trimmed.
    const comment = raw.search(/[ \t]#/);
    vars.set(name, (comment >= 0 ? raw.slice(0, comment) : raw).trim());
    previous = { name, line: startLine, quoted: false };
    skipLineBreak();
  }
  return { vars: [...vars].map(([name, value]) => ({ name, value })), problems, unreadable };

  /** Reads a quoted value starting at its opening quote; `undefined` when it never closes. */
  function readQuoted(q: '"' | "'"): string | undefined {
    let out = '';
    let j = i + 1;
    while (j < n) {
      const c = text[j] as string;
      if (c === q) {
        i = j + 1;
        return out;
      }
      if (c === '\\' && j + 1 < n) {
        const next = text[j + 1] as string;
        if (q === '"' && next in DOUBLE_QUOTED_ESCAPES) {
          out += DOUBLE_QUOTED_ESCAPES[next];
          j += 2;
          continue;
        }
        if (q === "'" && next === "'") {
          out += "'";
          j += 2;
          continue;
        }
      }
      if (c === '\n') line += 1;
      out += c;
      j += 1;
    }
    // Unterminated: mask what follows the quote, line by line.
    unreadable.push(...text.slice(i + 1).split('\n'));
    i = n;
    return undefined;
  }
}

function restOfLineNoConsume(text: string, from: number): string {
  let end = from;
  while (end < text.length && text[end] !== '\n') end += 1;
  return text.slice(from, end);
}

/** A value in the double-quoted form that `parseDotenv` reads back to exactly this value. */
export function quoteDotenvValue(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\${c}`,
  );
  return `"${escaped}"`;
}
