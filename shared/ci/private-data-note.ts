import type { DeployResult, TargetGrid } from '../index.js';

/**
 * The private-data parts of the change-request note (note.ts), which is also the GitHub job
 * summary: the VPN pool row and the grid of private targets (one row per service replica, one
 * column per target). Pure Markdown; the caller redacts.
 */

/** The "VPN pool" row's text, or undefined when no pool size was given. */
export function formatVpnPool(result: DeployResult): string | undefined {
  const pool = result.vpnPool;
  if (!pool) return undefined;
  return `${pool.warning ? '⚠️ ' : ''}${pool.used} of ${pool.pool} addresses in use (${pool.percent} %)`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ');
}

/** The grid as a Markdown table under a heading, or no lines when no target was checked. */
export function renderTargetGrid(grid: TargetGrid | undefined): string[] {
  if (!grid || grid.cells.length === 0) return [];
  const rows = new Map<string, Map<string, string>>();
  for (const cell of grid.cells) {
    const key =
      cell.service === undefined ? `replica ${cell.replica}` : `${cell.service} replica ${cell.replica}`;
    const row = rows.get(key) ?? new Map<string, string>();
    row.set(cell.target, cell.ok ? '✅' : `❌ ${cell.reason ?? 'failed'}`);
    rows.set(key, row);
  }
  const header = `| | ${grid.targets.map((t) => `\`${escapeCell(t)}\``).join(' | ')} |`;
  const rule = `| --- |${grid.targets.map(() => ' --- |').join('')}`;
  const body = [...rows].map(
    ([key, row]) => `| ${escapeCell(key)} | ${grid.targets.map((t) => row.get(t) ?? '–').join(' | ')} |`,
  );
  return ['**Private targets**', '', header, rule, ...body];
}
