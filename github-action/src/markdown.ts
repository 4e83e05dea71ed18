/**
 * The pull request comment and the job summary, rendered from one description of the outcome so
 * the two always agree. Pure functions: the caller redacts secrets before anything is posted.
 */
import type { DeployResult, PruneResult, TeardownResult } from '../../shared/index.js';
import {
  type CommentLogTail,
  formatHealthCheck,
  formatTimings,
  renderLogTail,
} from '../../shared/ci/index.js';

export type Outcome =
  | { kind: 'deploying'; workspaceName: string | undefined; vpnConfig: string | undefined; commit: string }
  | { kind: 'deployed'; result: DeployResult; commit: string }
  | {
      kind: 'failed';
      message: string;
      vpnConfig: string | undefined;
      commit: string;
      /** The failing pipeline step's last lines (shared/ci/log-tail.ts). */
      logTail?: CommentLogTail | undefined;
    }
  | { kind: 'deleted'; result: TeardownResult }
  | { kind: 'pruned'; result: PruneResult };

export interface RenderContext {
  runUrl: string;
  /** A pull request preview (else a branch preview). */
  forPullRequest: boolean;
}

/** A table cell: pipes and line breaks would break the table. */
function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "'")}\``;
}

function table(rows: Array<[string, string]>): string {
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| **${k}** | ${cell(v)} |`)].join('\n');
}

function shortSha(sha: string): string {
  return sha === '' ? '(unknown)' : code(sha.slice(0, 7));
}

function vpnLabel(vpnConfig: string | null | undefined): string {
  return vpnConfig ? code(vpnConfig) : 'none';
}

/** A failed VPN check fails the deploy, so a deployed preview's check passed or was not asked for. */
function vpnCheckLabel(result: DeployResult): string | undefined {
  if (result.vpnCheck.status !== 'passed') return undefined;
  return `reachable: ${code(result.vpnCheck.target)}`;
}

export function renderOutcome(outcome: Outcome, context: RenderContext): string {
  const run = `[workflow run](${context.runUrl})`;
  switch (outcome.kind) {
    case 'deploying':
      return [
        '### ⏳ Codesphere preview: deploying',
        '',
        table([
          ['Workspace', outcome.workspaceName ? code(outcome.workspaceName) : '(being resolved)'],
          ['VPN config', vpnLabel(outcome.vpnConfig)],
          ['Commit', shortSha(outcome.commit)],
          ['Status', `deploying, see the ${run}`],
        ]),
      ].join('\n');
    case 'deployed': {
      const { result } = outcome;
      const rows: Array<[string, string]> = [
        ['URL', result.url],
        ['Workspace', `${code(result.name)} (id ${result.workspaceId})`],
        ['VPN config', vpnLabel(result.vpnConfig)],
      ];
      const check = vpnCheckLabel(result);
      if (check !== undefined) rows.push(['VPN check', check]);
      const health = formatHealthCheck(result);
      if (health !== undefined) rows.push(['Health check', health]);
      rows.push(['Commit', shortSha(outcome.commit)]);
      const timings = formatTimings(result.timings);
      if (timings) rows.push(['Durations', timings]);
      const changes = result.changes.length > 0 ? `: ${result.changes.join('; ')}` : '';
      rows.push(['Status', `${result.action}${changes} (${run})`]);
      return [
        '### ✅ Codesphere preview ready',
        '',
        table(rows),
        '',
        context.forPullRequest
          ? '<sub>Updated on every push; deleted when this pull request closes.</sub>'
          : '<sub>Updated on every push to the branch; deleted when the branch is deleted.</sub>',
      ].join('\n');
    }
    case 'failed':
      return [
        '### ❌ Codesphere preview failed',
        '',
        table([
          ['VPN config', vpnLabel(outcome.vpnConfig)],
          ['Commit', shortSha(outcome.commit)],
          ['Status', `failed (${run})`],
        ]),
        '',
        '```',
        outcome.message.replace(/```/g, "'''"),
        '```',
        ...(outcome.logTail ? ['', ...renderLogTail(outcome.logTail)] : []),
      ].join('\n');
    case 'deleted': {
      const { result } = outcome;
      const what = result.deleted
        ? `Workspace ${code(result.name)}${result.workspaceId === undefined ? '' : ` (id ${result.workspaceId})`} deleted.`
        : `No workspace ${code(result.name)} existed: nothing to delete.`;
      return ['### 🗑️ Codesphere preview removed', '', what, '', `<sub>${run}</sub>`].join('\n');
    }
    case 'pruned': {
      const { result } = outcome;
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
      );
      return lines.join('\n');
    }
  }
}
