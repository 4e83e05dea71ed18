import type { Workspace } from '../codesphere/schemas.js';
import { ConfigError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { previewNames } from './naming.js';

/**
 * The gateway's address pool (strongSwan `rightsourceip`) seen before it runs out: every replica
 * of every workspace on a VPN config holds one address, and the pool's last-but-one preview
 * fails deep inside IKE with a message nobody links to the pool. So, given `vpnPoolSize`, a
 * deploy counts the replicas of the team's workspaces on the same VPN config (other configs use
 * other gateways or pools and do not count) plus what this preview will hold:
 * - at WARN_RATIO of the pool or more: a warning naming used, pool and percentage;
 * - beyond the pool: a ConfigError naming `vpnPoolSize`, before anything is created or scaled
 *   up, with the previews holding the most. A preview that does not grow is never refused: its
 *   addresses are already leased.
 * The count is what the API lists (one workspace's replicas); a landscape's replicas per
 * service are added by the caller as `wanted`.
 */

export const WARN_RATIO = 0.8;

/** The pool's use after this deploy, as the warning and the note show it. */
export interface VpnPoolUsage {
  used: number;
  pool: number;
  /** Rounded percentage of the pool. */
  percent: number;
  /** At WARN_RATIO or more. */
  warning: boolean;
}

/**
 * Counts the pool's use for a preview named `previewName` that will hold `wanted` addresses on
 * `vpnConfig`. Returns undefined when no pool size or no VPN config is given. Warns through
 * `reporter` at WARN_RATIO; throws ConfigError (field vpnPoolSize) when the preview would grow
 * beyond the pool.
 */
export function checkVpnPool(options: {
  workspaces: readonly Workspace[];
  previewName: string;
  vpnConfig: string | null;
  pool: number | undefined;
  wanted: number;
  reporter: Reporter;
}): VpnPoolUsage | undefined {
  const { pool, vpnConfig } = options;
  if (pool === undefined || vpnConfig === null) return undefined;
  const mine = new Set(previewNames(options.previewName));
  const onConfig = options.workspaces.filter((w) => w.vpnConfig === vpnConfig);
  const others = onConfig.filter((w) => !mine.has(w.name));
  const held = onConfig.filter((w) => mine.has(w.name)).reduce((sum, w) => sum + w.replicas, 0);
  const othersUsed = others.reduce((sum, w) => sum + w.replicas, 0);
  const used = othersUsed + Math.max(options.wanted, 0);
  const percent = Math.round((used / pool) * 100);
  if (used > pool && options.wanted > held) {
    const top = [...others]
      .sort((a, b) => b.replicas - a.replicas || a.name.localeCompare(b.name))
      .slice(0, 5)
      .map((w) => `"${w.name}" (${w.replicas})`);
    throw new ConfigError([
      {
        field: 'vpnPoolSize',
        message:
          `this preview needs ${options.wanted} address(es) of VPN config "${vpnConfig}"'s pool of ${pool}, ` +
          `but ${othersUsed} are held by ${others.length} other workspace(s): ${used} of ${pool} (${percent} %) would exceed it. ` +
          `Holding the most: ${top.join(', ') || '(none)'}. Close or prune previews, lower replicas, or enlarge the gateway's ` +
          'rightsourceip pool and vpnPoolSize',
      },
    ]);
  }
  const warning = used >= pool * WARN_RATIO;
  if (warning)
    options.reporter.warning(
      `VPN pool of "${vpnConfig}": ${used} of ${pool} addresses in use (${percent} %) with this preview; ` +
        'at 100 % the next replica gets no address and its tunnel fails (pool exhausted).',
    );
  else
    options.reporter.info(`VPN pool of "${vpnConfig}": ${used} of ${pool} addresses in use (${percent} %).`);
  return { used, pool, percent, warning };
}
