/**
 * The merge/pull request note the GitLab and Bitbucket adapters keep on each change request: one
 * note, found again by a marker and edited in place, so a busy MR does not collect a comment per
 * push. The text is the same on both platforms; only the marker differs, because GitLab renders
 * an HTML comment invisibly while Bitbucket's Markdown shows it, and a link-reference definition
 * (`[//]: # (...)`) is invisible in both.
 */
import { renderLogTail, type CommentLogTail } from './ci-log-tail.js';
import { formatHealthCheck, formatTimings } from './ci-timings.js';
import type { DeployResult, TeardownResult } from './contract.js';

export const NOTE_MARKER_ID = 'codesphere-deploy:preview';

export type NoteMarkerStyle = 'html-comment' | 'link-reference';

export function noteMarker(style: NoteMarkerStyle): string {
  return style === 'html-comment' ? `<!-- ${NOTE_MARKER_ID} -->` : `[//]: # (${NOTE_MARKER_ID})`;
}

export type NoteState =
  | { kind: 'deployed'; result: DeployResult; commit?: string | undefined; jobUrl?: string | undefined }
  | { kind: 'deleted'; result: TeardownResult; jobUrl?: string | undefined }
  | {
      kind: 'failed';
      message: string;
      commit?: string | undefined;
      jobUrl?: string | undefined;
      /** The failing pipeline step's last lines (ci-log-tail.ts). */
      logTail?: CommentLogTail | undefined;
    };

/** Table cells must stay on one line and not close the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ');
}

function shortSha(commit: string | undefined): string | undefined {
  return commit ? commit.slice(0, 12) : undefined;
}

export function renderNote(state: NoteState, style: NoteMarkerStyle): string {
  const rows: Array<[string, string]> = [];
  let headline: string;
  switch (state.kind) {
    case 'deployed': {
      const { result } = state;
      headline = `✅ Preview ${result.action === 'created' ? 'deployed' : 'updated'}: ${result.url}`;
      rows.push(['URL', result.url]);
      rows.push(['Workspace', `${result.name} (id ${result.workspaceId})`]);
      rows.push(['VPN config', result.vpnConfig ?? 'none']);
      const sha = shortSha(state.commit);
      if (sha) rows.push(['Commit', sha]);
      if (result.changes.length > 0) rows.push(['Changes', result.changes.join('; ')]);
      if (result.vpnCheck) {
        rows.push([
          'VPN check',
          `${result.vpnCheck.target}: ${result.vpnCheck.ok ? 'reachable' : 'unreachable'}`,
        ]);
      }
      const health = formatHealthCheck(result);
      if (health) rows.push(['Health check', health]);
      const timings = formatTimings(result.timings);
      if (timings) rows.push(['Durations', timings]);
      break;
    }
    case 'deleted':
      headline = state.result.deleted
        ? `🗑️ Preview deleted: workspace ${state.result.name}`
        : `Preview already gone: no workspace ${state.result.name}`;
      break;
    case 'failed': {
      headline = '❌ Preview deployment failed';
      rows.push(['Error', state.message]);
      const sha = shortSha(state.commit);
      if (sha) rows.push(['Commit', sha]);
      break;
    }
  }
  if (state.jobUrl) rows.push(['Job', state.jobUrl]);

  const lines = [noteMarker(style), `**Codesphere preview** · ${headline}`];
  if (rows.length > 0) {
    lines.push('', '| | |', '| --- | --- |', ...rows.map(([key, value]) => `| ${key} | ${cell(value)} |`));
  }
  if (state.kind === 'failed' && state.logTail) lines.push('', ...renderLogTail(state.logTail));
  return `${lines.join('\n')}\n`;
}

export function isPreviewNote(body: string, style: NoteMarkerStyle): boolean {
  return body.includes(noteMarker(style));
}
