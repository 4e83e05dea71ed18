/**
 * Readers for the two strongSwan configuration syntaxes a gateway may use:
 * ipsec.conf (starter: `conn name` sections of `key=value` lines, `%default` and `also=`), and
 * swanctl.conf (strongswan.conf-style nested `name { key = value }` sections).
 */

export type IpsecConn = Record<string, string>;

/** The conns of an ipsec.conf, with `conn %default` and `also=` already merged in. */
export function parseIpsecConf(text: string): Map<string, IpsecConn> {
  const raw = new Map<string, IpsecConn>();
  let current: IpsecConn | undefined;
  for (const line of text.split(/\r?\n/)) {
    const content = line.replace(/#.*$/, '');
    if (!content.trim()) continue;
    const header = /^(conn|config|ca)\s+(\S+)/.exec(content);
    if (header) {
      current = header[1] === 'conn' ? {} : undefined;
      if (current && header[2]) raw.set(header[2], current);
      continue;
    }
    if (!/^\s/.test(content) || !current) continue;
    const pair = /^\s+([a-z_0-9]+)\s*=\s*(.*?)\s*$/i.exec(content);
    if (pair?.[1]) current[pair[1].toLowerCase()] = (pair[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  const defaults = raw.get('%default') ?? {};
  const resolve = (name: string, seen: Set<string>): IpsecConn => {
    const own = raw.get(name) ?? {};
    if (seen.has(name)) return {};
    seen.add(name);
    const included = (own.also ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .reduce<IpsecConn>((acc, other) => ({ ...acc, ...resolve(other, seen) }), {});
    return { ...included, ...own };
  };
  const conns = new Map<string, IpsecConn>();
  for (const name of raw.keys()) {
    if (name === '%default') continue;
    conns.set(name, { ...defaults, ...resolve(name, new Set()) });
  }
  return conns;
}

export interface SettingsSection {
  [key: string]: string | SettingsSection;
}

/**
 * A swanctl.conf (or strongswan.conf) as nested sections, read the way strongSwan's settings lexer
 * (src/libstrongswan/settings/settings_lexer.l) reads it: `#` starts a comment outside quoted
 * strings; a value runs to the end of the line, a `#` or a `}`; quoted strings may span lines and
 * know the escapes `\n`, `\r`, `\t`, `\<newline>` (joins lines) and `\<char>` (the char); a raw
 * carriage return inside them is dropped; the parts of a value are joined by one space
 * (`a   b` is `a b`, `"a   b"` keeps its spaces). Section references (`name : other {`) and
 * `include` lines are skipped: the checks do not need them.
 */
export function parseSwanctlConf(text: string): SettingsSection {
  const root: SettingsSection = {};
  const stack: SettingsSection[] = [root];
  let pos = 0;
  const atEnd = () => pos >= text.length;
  const skipToLineEnd = () => {
    while (!atEnd() && text[pos] !== '\n') pos++;
  };
  /** A value after `=`, per the lexer's `val` and `str` states. */
  const readValue = (): string => {
    const parts: string[] = [];
    while (!atEnd()) {
      const char = text[pos] ?? '';
      if (char === ' ' || char === '\t' || char === '\r') {
        pos++;
      } else if (char === '\n' || char === '#' || char === '}') {
        break;
      } else if (char === '"') {
        pos++;
        let value = '';
        while (!atEnd() && text[pos] !== '"') {
          const c = text[pos] ?? '';
          if (c === '\\') {
            const next = text[pos + 1];
            if (next === undefined) break;
            if (next === '\r' && text[pos + 2] === '\n') pos += 3;
            else if (next === '\n') pos += 2;
            else {
              value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next;
              pos += 2;
            }
          } else {
            if (c !== '\r') value += c;
            pos++;
          }
        }
        pos++; // the closing quote
        parts.push(value);
      } else {
        const start = pos;
        while (!atEnd() && !/[#}"\r\n\t ]/.test(text[pos] ?? '')) pos++;
        parts.push(text.slice(start, pos));
      }
    }
    return parts.join(' ');
  };
  while (!atEnd()) {
    const current = stack[stack.length - 1] ?? root;
    const char = text[pos] ?? '';
    if (/\s/.test(char)) {
      pos++;
    } else if (char === '#') {
      skipToLineEnd();
    } else if (char === '{') {
      pos++; // an anonymous block: nothing this reader needs
      stack.push({});
    } else if (char === '}') {
      pos++;
      if (stack.length > 1) stack.pop();
    } else {
      const name = /^[^#{}="\s:]+/.exec(text.slice(pos))?.[0];
      if (!name) {
        skipToLineEnd();
        continue;
      }
      pos += name.length;
      const after = /^[ \t]*/.exec(text.slice(pos))?.[0] ?? '';
      const next = text[pos + after.length];
      if (next === '=') {
        pos += after.length + 1;
        current[name] = readValue();
      } else if (name === 'include') {
        skipToLineEnd();
      } else {
        // `name {` or `name : references {` (possibly across lines)
        const open = text.indexOf('{', pos);
        const between = open < 0 ? '' : text.slice(pos, open);
        if (open < 0 || /[=}]/.test(between)) {
          skipToLineEnd();
          continue;
        }
        pos = open + 1;
        const existing = current[name];
        const nextSection: SettingsSection = typeof existing === 'object' ? existing : {};
        current[name] = nextSection;
        stack.push(nextSection);
      }
    }
  }
  return root;
}

/** The value as a subsection, or undefined when it is a plain setting or absent. */
export function asSection(value: string | SettingsSection | undefined): SettingsSection | undefined {
  return typeof value === 'object' ? value : undefined;
}
