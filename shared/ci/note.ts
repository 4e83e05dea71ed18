/**
 * The change request note every adapter keeps: one note (GitLab MR note, Bitbucket PR comment,
 * GitHub PR comment), found again by a hidden marker and edited in place, so a busy change request
 * does not collect a comment per push. All three platforms' notes are rendered here, with one
 * marker, one layout and one commit length. Only the marker's style differs between platforms,
 * because GitLab and GitHub render an HTML comment invisibly while Bitbucket's Markdown shows it,
 * and a link-reference definition (`[//]: # (...)`) is invisible in all of them.
 *
 * Concurrent runs of one change request: see `syncNote`.
 */
import { renderServices } from './services.js';
import { formatVpnPool, renderTargetGrid } from './private-data-note.js';
import { renderLogTail, type CommentLogTail } from './log-tail.js';
import { formatHealthCheck, formatTimings } from './timings.js';
import type { DeployResult, TargetGrid, TeardownResult } from '../index.js';

export const NOTE_MARKER_ID = 'codesphere-deploy:preview';
/**
 * Marker ids earlier versions wrote, recognised when reading so their notes are adopted (edited
 * into the current layout) instead of joined by a second one: earlier GitHub comments began with
 * `<!-- codesphere-deploy -->`.
 */
export const LEGACY_NOTE_MARKER_IDS: readonly string[] = ['codesphere-deploy'];
/** The second hidden line: which run wrote the note (`syncNote`). */
const RUN_MARKER_ID = 'codesphere-deploy:run';

export type NoteMarkerStyle = 'html-comment' | 'link-reference';

function hidden(text: string, style: NoteMarkerStyle): string {
  return style === 'html-comment' ? `<!-- ${text} -->` : `[//]: # (${text})`;
}

/** The note's first line (a marker of an earlier version with `id`, to recognise old notes). */
export function noteMarker(style: NoteMarkerStyle, id: string = NOTE_MARKER_ID): string {
  return hidden(id, style);
}

/**
 * What the note shows. `commit` is the change's head commit (shown as its first COMMIT_LENGTH
 * characters), `jobUrl` the CI job or workflow run that wrote it (its "Job" row).
 */
export type NoteState =
  /** A deploy has started (GitHub writes this before the core's first answer). */
  | {
      kind: 'deploying';
      workspaceName: string;
      vpnConfig?: string | undefined;
      commit?: string | undefined;
      jobUrl?: string | undefined;
    }
  | { kind: 'deployed'; result: DeployResult; commit?: string | undefined; jobUrl?: string | undefined }
  | { kind: 'deleted'; result: TeardownResult; jobUrl?: string | undefined }
  | {
      kind: 'failed';
      message: string;
      commit?: string | undefined;
      jobUrl?: string | undefined;
      /** The failing pipeline step's last lines (log-tail.ts). */
      logTail?: CommentLogTail | undefined;
      /** The job's time budget ran out (the headline says so). */
      timedOut?: boolean | undefined;
      /** The private targets' grid when they failed (service × replica × target). */
      targetGrid?: TargetGrid | undefined;
    };

/** Table cells must stay on one line and not close the table. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\r?\n\s*/g, ' ');
}

/** Characters of a commit id the note shows (GitLab's short SHA length for large projects). */
export const COMMIT_LENGTH = 12;

function shortSha(commit: string | undefined): string | undefined {
  return commit ? commit.slice(0, COMMIT_LENGTH) : undefined;
}

/**
 * Renders the note of every platform: the marker, the run marker (`syncNote`), a headline, a
 * table of what people look for, and for a failed stage its log tail. `order` is the writing
 * run's place (see `syncNote`). Pure: the caller redacts secrets before it is posted.
 */
export function renderNote(state: NoteState, style: NoteMarkerStyle, order: RunOrder = []): string {
  const rows: Array<[string, string]> = [];
  let headline: string;
  switch (state.kind) {
    case 'deploying': {
      headline = `⏳ Preview deploying: workspace ${state.workspaceName}`;
      rows.push(['Workspace', state.workspaceName]);
      rows.push(['VPN config', state.vpnConfig || 'none']);
      const sha = shortSha(state.commit);
      if (sha) rows.push(['Commit', sha]);
      break;
    }
    case 'deployed': {
      const { result } = state;
      headline = `✅ Preview ${result.action === 'created' ? 'deployed' : 'updated'}: ${result.url}`;
      rows.push(['URL', result.url]);
      rows.push(['Workspace', `${result.name} (id ${result.workspaceId})`]);
      rows.push(['VPN config', result.vpnConfig ?? 'none']);
      const sha = shortSha(state.commit);
      if (sha) rows.push(['Commit', sha]);
      if (result.changes.length > 0) rows.push(['Changes', result.changes.join('; ')]);
      if (result.vpnCheck.status === 'passed')
        rows.push(['VPN check', `${result.vpnCheck.target}: reachable`]);
      const health = formatHealthCheck(result);
      if (health) rows.push(['Health check', health]);
      const pool = formatVpnPool(result);
      if (pool) rows.push(['VPN pool', pool]);
      if (result.onCreate)
        rows.push(['onCreate', result.onCreate === 'ran' ? 'ran' : 'ran before (not repeated)']);
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
      headline = state.timedOut ? '❌ Preview deployment failed: timed out' : '❌ Preview deployment failed';
      rows.push(['Error', state.message]);
      const sha = shortSha(state.commit);
      if (sha) rows.push(['Commit', sha]);
      break;
    }
  }
  if (state.jobUrl) rows.push(['Job', state.jobUrl]);

  const lines = [noteMarker(style), ...runMarkerLines(order, style), `**Codesphere preview** · ${headline}`];
  if (rows.length > 0) {
    lines.push('', '| | |', '| --- | --- |', ...rows.map(([key, value]) => `| ${key} | ${cell(value)} |`));
  }
  if (state.kind === 'deployed' && state.result.services) lines.push('', ...renderServices(state.result));
  if (state.kind === 'failed' && state.logTail) lines.push('', ...renderLogTail(state.logTail));
  if (state.kind === 'failed' && state.targetGrid) lines.push('', ...renderTargetGrid(state.targetGrid));
  if (state.kind === 'deployed' && state.result.privateTargets)
    lines.push('', ...renderTargetGrid(state.result.privateTargets));
  return `${lines.join('\n')}\n`;
}

/**
 * Whether a note is one of ours: it starts with the marker, or with a marker an earlier version
 * wrote (LEGACY_NOTE_MARKER_IDS), which `syncNote` then rewrites in the current layout. A person's
 * note that merely quotes a marker somewhere is not, so `syncNote` never edits or deletes it.
 */
export function isPreviewNote(body: string, style: NoteMarkerStyle): boolean {
  const start = body.trimStart();
  return [NOTE_MARKER_ID, ...LEGACY_NOTE_MARKER_IDS].some((id) => {
    const marker = noteMarker(style, id);
    // The whole marker and then the line's end: `<!-- codesphere-deploy -->` is not a prefix of
    // another id's marker, but a line that goes on after it is text, not our marker.
    return start.startsWith(marker) && /^[ \t]*(\r?\n|$)/.test(start.slice(marker.length));
  });
}

// ---------------------------------------------------------------------------------------------
// Concurrent runs: one note, never going back to an older run.

/**
 * A run's place among the runs of one repository: numbers compared left to right, e.g.
 * `[GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, phase]`, `[CI_PIPELINE_ID, phase]`,
 * `[BITBUCKET_BUILD_NUMBER, phase]`, where phase is 0 for a deploy and 1 for a teardown (so a
 * teardown is newer than the deploy of its own pipeline). Empty: unknown, older than any known run.
 */
export type RunOrder = readonly number[];

/** Negative when `a` is an older run than `b`, 0 for the same place, positive when newer. */
export function compareRunOrder(a: RunOrder, b: RunOrder): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** `4242.1.0`; empty for an unknown order. */
export function formatRunOrder(order: RunOrder): string {
  return order.join('.');
}

/** The inverse of formatRunOrder; anything else (absent, edited by hand) is unknown: `[]`. */
export function parseRunOrder(text: string | undefined): RunOrder {
  if (text === undefined || !/^\d+(\.\d+)*$/.test(text)) return [];
  return text.split('.').map(Number);
}

/**
 * A run counter from a CI variable as the order's first parts: `["4242", "1"]` -> `[4242, 1]`.
 * Unknown (`[]`) unless every part is a whole number: a run that cannot place itself is treated as
 * older than every run that can, so it never hides a newer run's note.
 */
export function runOrderOf(parts: ReadonlyArray<string | undefined>): RunOrder {
  // Digits only, as every id (values.ts parseId): Number() would read "9.0", "1e9", "0x10" and ""
  // as numbers and place the run among others by a guess.
  const numbers = parts.map((part) =>
    part !== undefined && /^\d+$/.test(part.trim()) ? Number(part.trim()) : NaN,
  );
  return numbers.length > 0 && numbers.every((n) => Number.isSafeInteger(n) && n >= 0) ? numbers : [];
}

/** The order plus the job's phase (0 deploy, 1 teardown); stays unknown when the run's is. */
export function withPhase(order: RunOrder, phase: 'deploy' | 'teardown'): RunOrder {
  return order.length === 0 ? order : [...order, phase === 'deploy' ? 0 : 1];
}

/** The hidden line naming the writing run, right after the marker. */
export function runMarkerLines(order: RunOrder, style: NoteMarkerStyle): string[] {
  return order.length === 0 ? [] : [hidden(`${RUN_MARKER_ID} ${formatRunOrder(order)}`, style)];
}

/** The order a note was written with; `[]` for notes written before orders existed. */
export function noteRunOrder(body: string): RunOrder {
  const match = /^(?:<!-- |\[\/\/\]: # \()codesphere-deploy:run ([\d.]+)(?: -->|\))\s*$/m.exec(body);
  return parseRunOrder(match?.[1]);
}

/** One note as the platform lists it. */
export interface StoredNote {
  id: number;
  body: string;
}

/** The platform's note API for one change request, as `syncNote` needs it. */
export interface NoteStore {
  /** Every note on the change request (all pages); `syncNote` picks ours by the marker. */
  list(): Promise<StoredNote[]>;
  /** Returns the new note's id. */
  create(body: string): Promise<number>;
  /** False when the note no longer exists (404): another run removed it. */
  update(id: number, body: string): Promise<boolean>;
  /** A note that is already gone counts as removed. */
  remove(id: number): Promise<void>;
}

export interface NoteSyncDeps {
  sleep(ms: number): Promise<void>;
  now(): number;
}

export type NoteSyncResult =
  /** The note now holds this run's body. */
  | { outcome: 'created' | 'updated' | 'unchanged'; id: number; duplicatesRemoved: number }
  /** A newer run already wrote the note; it was left alone. */
  | { outcome: 'newer-kept'; id: number; newer: RunOrder; duplicatesRemoved: number };

/** Platforms may store line ends or a trailing newline differently from what was sent. */
function sameText(a: string, b: string): boolean {
  return a.replace(/\r\n/g, '\n').trim() === b.replace(/\r\n/g, '\n').trim();
}

/** Bounded: each round follows a write by another run; six runs at once settle in two or three. */
const MAX_ROUNDS = 8;

/**
 * Writes this run's note so that, whatever runs of the same change request do at the same time,
 * exactly one note remains and it holds the newest run's body: create or write, then pause (twice
 * the slowest call, 0.2-2 s) and look again; the lowest id wins, duplicates are deleted, a note
 * naming a newer run is left alone. Why and its one limit: docs/design/note-sync.md.
 * `body` must start with the marker `isOurs` recognises and contain `runMarkerLines(order)`.
 * Resolves to what happened; throws what the store throws (the caller turns it into a warning).
 */
export async function syncNote(
  store: NoteStore,
  note: { body: string; order: RunOrder; isOurs(body: string): boolean },
  deps: NoteSyncDeps,
): Promise<NoteSyncResult> {
  let slowestMs = 0;
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const started = deps.now();
    try {
      return await call();
    } finally {
      slowestMs = Math.max(slowestMs, deps.now() - started);
    }
  };
  let written: 'created' | 'updated' | undefined;
  let duplicatesRemoved = 0;
  let last: NoteSyncResult | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Every round after the first follows a write (ours or a removal): give other runs' writes time to land.
    if (round > 0) await deps.sleep(Math.min(2000, Math.max(200, 2 * slowestMs)));
    const ours = (await timed(() => store.list()))
      .filter((candidate) => note.isOurs(candidate.body))
      .sort((a, b) => a.id - b.id);
    const [winner, ...duplicates] = ours;
    if (winner === undefined) {
      const id = await timed(() => store.create(note.body));
      written = 'created';
      last = { outcome: 'created', id, duplicatesRemoved };
      continue;
    }
    for (const duplicate of duplicates) {
      await timed(() => store.remove(duplicate.id));
      duplicatesRemoved += 1;
    }
    const theirs = noteRunOrder(winner.body);
    if (compareRunOrder(theirs, note.order) > 0) {
      return { outcome: 'newer-kept', id: winner.id, newer: theirs, duplicatesRemoved };
    }
    if (sameText(winner.body, note.body)) {
      last = { outcome: written ?? 'unchanged', id: winner.id, duplicatesRemoved };
      // Removing a duplicate may have removed another run's newer body: look once more.
      if (duplicates.length === 0) return last;
      continue;
    }
    if (await timed(() => store.update(winner.id, note.body))) {
      written ??= 'updated';
      last = { outcome: written, id: winner.id, duplicatesRemoved };
    }
  }
  // Still changing after MAX_ROUNDS: other runs keep writing; the newest of them settles it.
  return last ?? { outcome: 'unchanged', id: 0, duplicatesRemoved };
}
