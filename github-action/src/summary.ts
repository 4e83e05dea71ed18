/**
 * The job summary of a prune: GitHub-only Markdown, since a prune has no change request and so
 * no note (deploys and teardowns write the shared note, shared/ci/note.ts, as their summary).
 * Pure: the platform redacts it before it is written.
 */
import type { PruneResult } from '../../shared/index.js';

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

/**
 * What was deleted (or would be, in a dry run) and why, and what was kept.
 * @param runUrl the workflow run, linked at the end
 */
export function renderPruneSummary(result: PruneResult, runUrl: string): string {
  const verb = result.dryRun ? 'Would delete' : 'Deleted';
  const lines = [`### 🧹 Codesphere previews pruned${result.dryRun ? ' (dry run)' : ''}`, ''];
  if (result.pruned.length === 0) lines.push('Nothing to prune.');
  else {
    lines.push(`${verb} ${result.pruned.length}:`, '');
    for (const item of result.pruned)
      lines.push(`- ${code(item.name)} (id ${item.workspaceId}): ${item.reason}`);
  }
  lines.push(
    '',
    `Kept ${result.kept.length}${result.kept.length > 0 ? ': ' : '.'}${result.kept.map((k) => code(k.name)).join(', ')}`,
    '',
    `<sub>[workflow run](${runUrl})</sub>`,
  );
  return lines.join('\n');
}
