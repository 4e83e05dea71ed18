/**
 * Checks a gateway's existing strongSwan configuration against a Codesphere VPN config and names
 * every difference that would keep a replica's tunnel down (or break it later, at rekeying).
 * The PSK itself is compared but never printed.
 */
import { cidrCovers, parseCidr, poolSize } from './ipv4.js';
import {
  parseIpsecConf,
  parseSwanctlConf,
  asSection,
  type IpsecConn,
  type SettingsSection,
} from './parse.js';
import { readIpsecSecretsPsk, readSwanctlSecret, samePsk, type PskReading } from './psk.js';
import { formatSeconds } from './render.js';
import { parseDuration, type VpnSettings } from './settings.js';

export type MismatchKind =
  | 'no-connection'
  | 'ike-version'
  | 'ike-proposal'
  | 'esp-proposal'
  | 'ike-lifetime'
  | 'esp-lifetime'
  | 'psk'
  | 'right-any'
  | 'pool'
  | 'subnets'
  | 'encapsulation';

export interface Mismatch {
  kind: MismatchKind;
  message: string;
}

export interface CheckResult {
  format: 'ipsec.conf' | 'swanctl.conf';
  /** The connection compared (the best match when there are several). */
  connection: string | undefined;
  mismatches: Mismatch[];
}

export interface CheckInput {
  /** ipsec.conf or swanctl.conf text. */
  text: string;
  /** ipsec.secrets text, when checking an ipsec.conf whose PSK lives there. */
  secrets?: string | undefined;
}

/** Normalises proposal spellings strongSwan treats as equal (sha2_256 = sha256, case, `!`). */
function normaliseProposal(proposal: string): string {
  return proposal
    .trim()
    .toLowerCase()
    .replace(/!$/, '')
    .replace(/sha2_(\d+)/g, 'sha$1');
}

function proposalList(value: string | undefined): string[] {
  return (value ?? '').split(',').map(normaliseProposal).filter(Boolean);
}

function checkProposal(
  kind: 'ike-proposal' | 'esp-proposal',
  configured: string | undefined,
  wanted: string,
  key: string,
): Mismatch[] {
  const label = kind === 'ike-proposal' ? 'IKE (phase 1)' : 'ESP (phase 2)';
  if (configured === undefined) {
    return [
      {
        kind,
        message: `${label} proposal: no ${key} set; the gateway offers strongSwan's defaults, the VPN config uses ${wanted} (set ${key}=${wanted}!)`,
      },
    ];
  }
  if (!proposalList(configured).includes(normaliseProposal(wanted))) {
    return [
      {
        kind,
        message: `${label} proposal: the gateway accepts ${configured}, the VPN config uses ${wanted}`,
      },
    ];
  }
  return [];
}

function checkLifetime(
  kind: 'ike-lifetime' | 'esp-lifetime',
  configured: number,
  wanted: number,
  key: string,
): Mismatch[] {
  if (configured === wanted) return [];
  const label = kind === 'ike-lifetime' ? 'IKE lifetime' : 'ESP (IPsec SA) lifetime';
  return [
    {
      kind,
      message: `${label}: the gateway's ${key} is ${formatSeconds(configured)}, the VPN config's is ${formatSeconds(wanted)}`,
    },
  ];
}

function checkPool(pools: string[], replicas: number, key: string): Mismatch[] {
  if (pools.length === 0) {
    return [
      {
        kind: 'pool',
        message: `virtual IP pool: no ${key}; every replica needs an address from the gateway (e.g. ${key}=10.200.0.0/24)`,
      },
    ];
  }
  let capacity = 0;
  for (const pool of pools) {
    if (pool.startsWith('%')) return []; // %config / %dhcp / %radius: addresses come from elsewhere
    const size = poolSize(pool);
    if (size === undefined)
      return [{ kind: 'pool', message: `virtual IP pool: cannot read ${key}=${pools.join(',')}` }];
    capacity += size;
  }
  if (capacity < replicas) {
    return [
      {
        kind: 'pool',
        message: `virtual IP pool: ${pools.join(',')} holds ${capacity} address${capacity === 1 ? '' : 'es'}, but ${replicas} replicas need one each`,
      },
    ];
  }
  return [];
}

function checkSubnets(configured: string | undefined, wanted: string[], key: string): Mismatch[] {
  const have = (configured ?? '')
    .split(',')
    .map((s) => parseCidr(s.trim()))
    .filter((c) => typeof c !== 'string');
  const missing = wanted.filter((subnet) => {
    const cidr = parseCidr(subnet);
    return typeof cidr === 'string' || !have.some((h) => cidrCovers(h, cidr));
  });
  if (missing.length === 0) return [];
  return [
    {
      kind: 'subnets',
      message: `${key}: ${configured ? `${configured} does not cover` : 'not set, so it does not cover'} the VPN config's peer subnet${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    },
  ];
}

/** What a gateway file says about the PSK: nothing, a key, or text strongSwan would not read as meant. */
type FoundPsk = PskReading | undefined;

/** The type tokens stroke_cred.c `load_secrets()` accepts; any other token ends the file for it. */
const SECRET_TYPES = new Set(['RSA', 'ECDSA', 'BLISS', 'P12', 'PIN', 'PSK', 'EAP', 'NTLM', 'XAUTH']);
/** The types whose value is read like a PSK (`load_shared()`). */
const SHARED_TYPES = new Set(['PSK', 'EAP', 'NTLM', 'XAUTH']);

function checkPsk(found: FoundPsk, settings: VpnSettings, where: string): Mismatch[] {
  if (found === undefined || (found.ok && found.key.length === 0)) {
    return [{ kind: 'psk', message: `pre-shared key: none found ${where}` }];
  }
  if (!found.ok) {
    return [{ kind: 'psk', message: `pre-shared key ${where}: ${found.problem} (the key is not shown)` }];
  }
  if (settings.psk && !samePsk(found.key, settings.psk)) {
    return [
      {
        kind: 'psk',
        message: `pre-shared key: the gateway's key ${where} differs from the VPN config's (neither is shown)`,
      },
    ];
  }
  return [];
}

/**
 * The PSK of an ipsec.secrets that applies to the gateway's identity, read as charon's stroke
 * plugin reads the file (stroke_cred.c `load_secrets()`): comment lines start with `#`; selectors
 * end at the first ` : ` (a line starting with `: ` has none); the type token is `PSK`, in
 * capitals. An entry naming one of `ids` beats `%any` (or `0.0.0.0`) and an entry without
 * selectors; among equals the first wins. Like load_secrets(), reading stops at the first line
 * strongSwan cannot parse (no ` : `, no or an unknown type token, a shared secret without a value
 * or its closing quote): charon never loads the entries below it, so neither does this check.
 */
function pskFromSecrets(secrets: string, ids: string[]): FoundPsk {
  let best: { rank: number; reading: PskReading } | undefined;
  /** Where load_secrets() gives up: the best entry above it, else why nothing is loaded. */
  const stop = (lineNumber: number, why: string): FoundPsk =>
    best?.reading ?? {
      ok: false,
      problem: `strongSwan stops reading the file at line ${lineNumber} (${why}), so no entry from there on is loaded`,
    };
  const lines = secrets.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('include ')) continue;
    let selectorText: string;
    let rest: string;
    if (line.startsWith(': ')) {
      selectorText = '';
      rest = line.slice(1);
    } else {
      const separator = line.indexOf(' : ');
      if (separator < 0) return stop(index + 1, "no ' : ' between selectors and secret");
      selectorText = line.slice(0, separator);
      rest = line.slice(separator + 2);
    }
    // the type token must end in a space or tab (extract_token), and be one load_secrets() knows
    const type = /^[ \t]*([^ \t]*)[ \t]/.exec(rest)?.[1];
    if (type === undefined || !SECRET_TYPES.has(type)) {
      return stop(index + 1, 'no secret type strongSwan knows, such as PSK');
    }
    if (SHARED_TYPES.has(type)) {
      // load_shared() fails on a missing value or closing quote, and load_secrets() stops there
      const value = readIpsecSecretsPsk(rest.replace(/^[ \t]*[^ \t]*/, ''));
      if (!value.ok && value.refused) {
        if (best || type !== 'PSK') return stop(index + 1, `its ${type} secret is malformed`);
        return { ...value, problem: `line ${index + 1}: ${value.problem} and stops reading the file there` };
      }
    }
    const typed = /^[ \t]*PSK[ \t]/.exec(rest);
    if (!typed) continue;
    const selectors = selectorText.split(/[ \t]+/).filter(Boolean);
    const rank =
      selectors.length === 0
        ? 1
        : selectors.some((s) => ids.includes(s))
          ? 2
          : selectors.some((s) => s === '%any' || s === '0.0.0.0')
            ? 1
            : 0;
    if (rank === 0 || (best && best.rank >= rank)) continue;
    best = { rank, reading: readIpsecSecretsPsk(rest.slice(typed[0].length)) };
  }
  return best?.reading;
}

/**
 * The `secret` of the swanctl.conf `secrets { ike... { } }` section for the gateway: one whose
 * `id*` values name one of `ids`, else one without ids or with `%any`, else the first.
 */
function pskFromSwanctl(root: SettingsSection, ids: string[]): FoundPsk {
  const entries = Object.entries(asSection(root.secrets) ?? {}).flatMap(([name, value]) => {
    const entry = asSection(value);
    return name.startsWith('ike') && entry && typeof entry.secret === 'string'
      ? [{ entry, secret: entry.secret }]
      : [];
  });
  const owners = (entry: SettingsSection) =>
    Object.entries(entry)
      .filter(([key, value]) => key.startsWith('id') && typeof value === 'string')
      .map(([, value]) => value as string);
  const chosen =
    entries.find(({ entry }) => owners(entry).some((id) => ids.includes(id))) ??
    entries.find(({ entry }) => owners(entry).every((id) => id === '%any')) ??
    entries[0];
  return chosen ? readSwanctlSecret(chosen.secret) : undefined;
}

function checkIpsecConn(conn: IpsecConn, settings: VpnSettings, secrets: string | undefined): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const keyexchange = (conn.keyexchange ?? 'ike').toLowerCase();
  if (keyexchange !== 'ike' && keyexchange !== settings.ikeVersion) {
    mismatches.push({
      kind: 'ike-version',
      message: `IKE version: the gateway uses keyexchange=${keyexchange}, the VPN config uses ${settings.ikeVersion}`,
    });
  }
  mismatches.push(...checkProposal('ike-proposal', conn.ike, settings.ikeProposal, 'ike'));
  mismatches.push(...checkProposal('esp-proposal', conn.esp, settings.espProposal, 'esp'));
  // ipsec.conf defaults: ikelifetime 3h, lifetime (keylife) 1h
  mismatches.push(
    ...checkLifetime(
      'ike-lifetime',
      parseDuration(conn.ikelifetime ?? '3h') ?? 0,
      settings.ikeLifetime,
      'ikelifetime',
    ),
  );
  mismatches.push(
    ...checkLifetime(
      'esp-lifetime',
      parseDuration(conn.lifetime ?? conn.keylife ?? '1h') ?? 0,
      settings.espLifetime,
      'lifetime',
    ),
  );
  const authby = (conn.authby ?? 'pubkey').toLowerCase();
  if (authby !== 'psk' && authby !== 'secret') {
    mismatches.push({
      kind: 'psk',
      message: `pre-shared key: authby=${authby}; Codesphere VPN configs authenticate with a PSK (authby=psk)`,
    });
  } else if (secrets !== undefined) {
    const ids = [conn.leftid, conn.left, settings.peerIp].filter((id): id is string => Boolean(id));
    // Debian's default ipsec.secrets only includes another file: name it rather than say "none"
    const includes = [...secrets.matchAll(/^[ \t]*include[ \t]+(\S+)/gm)].map((m) => m[1] ?? '');
    const where =
      includes.length > 0
        ? `in ipsec.secrets (not read: its include ${includes.join(', ')}; pass the file holding the key with --secrets)`
        : 'in ipsec.secrets';
    mismatches.push(...checkPsk(pskFromSecrets(secrets, ids), settings, where));
  }
  if ((conn.right ?? '') !== '%any') {
    mismatches.push({
      kind: 'right-any',
      message: `right=${conn.right ?? '(unset)'}: replicas connect from addresses not known in advance, set right=%any`,
    });
  }
  mismatches.push(
    ...checkPool(
      (conn.rightsourceip ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
      settings.replicas,
      'rightsourceip',
    ),
  );
  mismatches.push(...checkSubnets(conn.leftsubnet, settings.peerSubnets, 'leftsubnet'));
  if ((conn.forceencaps ?? 'no').toLowerCase() !== 'yes') {
    mismatches.push({
      kind: 'encapsulation',
      message: `UDP encapsulation: forceencaps=${conn.forceencaps ?? 'no (default)'}; Codesphere sends ESP in UDP 4500, set forceencaps=yes`,
    });
  }
  return mismatches;
}

function children(conn: SettingsSection): SettingsSection[] {
  return Object.values(asSection(conn.children) ?? {}).flatMap((child) => {
    const parsed = asSection(child);
    return parsed ? [parsed] : [];
  });
}

function checkSwanctlConn(conn: SettingsSection, root: SettingsSection, settings: VpnSettings): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const text = (key: string) => (typeof conn[key] === 'string' ? conn[key] : undefined);
  const version = text('version') ?? '0';
  const wantedVersion = settings.ikeVersion === 'ikev1' ? '1' : '2';
  if (version !== '0' && version !== wantedVersion) {
    mismatches.push({
      kind: 'ike-version',
      message: `IKE version: the gateway uses version = ${version}, the VPN config uses ${settings.ikeVersion}`,
    });
  }
  mismatches.push(...checkProposal('ike-proposal', text('proposals'), settings.ikeProposal, 'proposals'));
  const kids = children(conn);
  const child =
    kids.find(
      (c) =>
        typeof c.esp_proposals === 'string' &&
        proposalList(c.esp_proposals).includes(normaliseProposal(settings.espProposal)),
    ) ?? kids[0];
  if (!child) {
    mismatches.push({
      kind: 'subnets',
      message: 'children: the connection has no child (CHILD_SA) section, so no traffic can flow',
    });
  } else {
    const esp = typeof child.esp_proposals === 'string' ? child.esp_proposals : undefined;
    mismatches.push(...checkProposal('esp-proposal', esp, settings.espProposal, 'esp_proposals'));
    // swanctl defaults: child rekey_time 1h, life_time = rekey_time + 10%
    const rekey = parseDuration(typeof child.rekey_time === 'string' ? child.rekey_time : '1h') ?? 3600;
    const life =
      typeof child.life_time === 'string' ? (parseDuration(child.life_time) ?? 0) : Math.round(rekey * 1.1);
    mismatches.push(...checkLifetime('esp-lifetime', life, settings.espLifetime, 'child life_time'));
    mismatches.push(
      ...checkSubnets(
        typeof child.local_ts === 'string' ? child.local_ts : undefined,
        settings.peerSubnets,
        'local_ts',
      ),
    );
  }
  // IKE: rekey_time (IKEv2) or reauth_time (IKEv1 reauthenticates), default 4h
  const ikeLife = parseDuration(text('rekey_time') ?? text('reauth_time') ?? '4h') ?? 0;
  mismatches.push(...checkLifetime('ike-lifetime', ikeLife, settings.ikeLifetime, 'rekey_time'));
  const auths = Object.entries(conn).filter(
    ([key, value]) => /^(local|remote)/.test(key) && typeof value === 'object',
  );
  if (!auths.every(([, value]) => (asSection(value)?.auth ?? 'pubkey') === 'psk') || auths.length < 2) {
    mismatches.push({
      kind: 'psk',
      message: 'pre-shared key: the local and remote sections must use auth = psk',
    });
  } else {
    const local = asSection(conn.local) ?? {};
    const ids = [local.id, settings.peerIp].filter((id): id is string => typeof id === 'string');
    mismatches.push(...checkPsk(pskFromSwanctl(root, ids), settings, 'in the secrets { ike... } section'));
  }
  const remoteAddrs = text('remote_addrs') ?? '%any';
  if (remoteAddrs !== '%any') {
    mismatches.push({
      kind: 'right-any',
      message: `remote_addrs = ${remoteAddrs}: replicas connect from addresses not known in advance, use %any`,
    });
  }
  const pools = asSection(root.pools) ?? {};
  const poolAddrs = (text('pools') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .flatMap((name) => {
      const addrs = asSection(pools[name])?.addrs;
      return typeof addrs === 'string' ? addrs.split(',').map((a) => a.trim()) : [`(undefined pool ${name})`];
    });
  mismatches.push(...checkPool(poolAddrs, settings.replicas, 'pools'));
  if ((text('encap') ?? 'no') !== 'yes') {
    mismatches.push({
      kind: 'encapsulation',
      message: `UDP encapsulation: encap = ${text('encap') ?? 'no (default)'}; Codesphere sends ESP in UDP 4500, set encap = yes`,
    });
  }
  return mismatches;
}

/** swanctl.conf has a top-level `connections { }` section; anything else is read as ipsec.conf. */
export function detectFormat(text: string): 'ipsec.conf' | 'swanctl.conf' {
  return /^\s*connections\s*\{/m.test(text) ? 'swanctl.conf' : 'ipsec.conf';
}

/** Compares every connection and reports the one closest to the VPN config. */
export function checkGateway(settings: VpnSettings, input: CheckInput): CheckResult {
  const format = detectFormat(input.text);
  const candidates: Array<[string, Mismatch[]]> = [];
  if (format === 'ipsec.conf') {
    for (const [name, conn] of parseIpsecConf(input.text))
      candidates.push([name, checkIpsecConn(conn, settings, input.secrets)]);
  } else {
    const root = parseSwanctlConf(input.text);
    for (const [name, conn] of Object.entries(asSection(root.connections) ?? {})) {
      const parsed = asSection(conn);
      if (parsed) candidates.push([name, checkSwanctlConn(parsed, root, settings)]);
    }
  }
  if (candidates.length === 0) {
    return {
      format,
      connection: undefined,
      mismatches: [{ kind: 'no-connection', message: `no connection found in the ${format}` }],
    };
  }
  const [connection, mismatches] = candidates.reduce((best, next) =>
    next[1].length < best[1].length ? next : best,
  );
  return { format, connection, mismatches };
}
