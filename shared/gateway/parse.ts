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

/** A swanctl.conf (or strongswan.conf) as nested sections; `include` lines are ignored. */
export function parseSwanctlConf(text: string): SettingsSection {
  const root: SettingsSection = {};
  const stack: SettingsSection[] = [root];
  // tokens: names, '{', '}', and key = value up to the end of line
  const lines = text.split(/\r?\n/);
  for (const line of lines) {
    let rest = line.replace(/(^|\s)#.*$/, '').trim();
    while (rest) {
      const current = stack[stack.length - 1] ?? root;
      let match: RegExpExecArray | null;
      if ((match = /^([^\s={}]+)\s*\{/.exec(rest))) {
        const name = match[1] ?? '';
        const existing = current[name];
        const next: SettingsSection = typeof existing === 'object' ? existing : {};
        current[name] = next;
        stack.push(next);
        rest = rest.slice(match[0].length).trim();
      } else if (rest.startsWith('}')) {
        if (stack.length > 1) stack.pop();
        rest = rest.slice(1).trim();
      } else if ((match = /^([^\s={}]+)\s*=\s*([^{}]*?)\s*(?=}|$)/.exec(rest))) {
        current[match[1] ?? ''] = (match[2] ?? '').replace(/^"(.*)"$/, '$1');
        rest = rest.slice(match[0].length).trim();
      } else {
        break; // include lines and anything else this reader does not need
      }
    }
  }
  return root;
}

export function section(value: string | SettingsSection | undefined): SettingsSection | undefined {
  return typeof value === 'object' ? value : undefined;
}
