import { createHash } from 'node:crypto';

import type { Platform } from '../request/job-input.js';

/**
 * Deterministic workspace names: the only identity a preview has, so every run finds its workspace
 * again by name. (platform, repository, change request | branch) -> name is one-to-one and stable:
 * `shop-#42` (GitHub), `shop-!42` (GitLab), `shop-pr-42` (Bitbucket), `shop-feat-login-qzkcmwhbta`
 * (a branch: slug plus 10 letters of SHA-256), and `<preview>-vpn-switch` / `-vpn-retiring` during
 * a zero-downtime switch. The kinds cannot meet: a change request's name ends in a digit, a branch
 * preview's in `-` and exactly 10 letters, an intermediate's in `-switch` or `-retiring`.
 * Design: docs/design/names.md
 */

export const MAX_NAME_LENGTH = 63;

/** The suffixes of a zero-downtime switch's intermediate workspaces (shared/workflow/apply/zero-downtime.ts). */
const SWITCHING_SUFFIX = '-vpn-switch';
const RETIRING_SUFFIX = '-vpn-retiring';
const LONGEST_INTERMEDIATE_SUFFIX = Math.max(SWITCHING_SUFFIX.length, RETIRING_SUFFIX.length);

/** Letters of the branch fingerprint: 26^10 > 2^47 names, and never digits (see above). */
const FINGERPRINT_LENGTH = 10;

/** The repository's own name: the last segment of "owner/repo" or "group/sub/project". */
export function repositoryShortName(repository: string): string {
  const segments = repository.split('/').filter((s) => s.length > 0);
  return segments[segments.length - 1] ?? repository;
}

const changeSuffix: Record<Platform, (n: number) => string> = {
  github: (n) => `-#${n}`,
  gitlab: (n) => `-!${n}`,
  bitbucket: (n) => `-pr-${n}`,
};

// Exactly the digits `workspaceName` writes (no leading zero): a hand-made `shop-#07` is not ours.
const NUMBER = '(0|[1-9][0-9]*)';
const changeSuffixPattern: Record<Platform, string> = {
  github: `-#${NUMBER}`,
  gitlab: `-!${NUMBER}`,
  bitbucket: `-pr-${NUMBER}`,
};

/** What a preview's name is derived from. */
export interface NameSource {
  platform: Platform;
  /** "owner/repo" (GitHub, Bitbucket) or the project path "group/sub/project" (GitLab). */
  repository: string;
  /** PR / MR number; absent for a branch preview. */
  changeNumber?: number | undefined;
  /** The branch's name without `refs/heads/`; used only when there is no change number. */
  branch?: string | undefined;
}

/**
 * The workspace name of a change request's preview (or, without a number, of a branch's).
 * Throws when neither a change number nor a non-empty branch is given.
 */
export function workspaceName(source: NameSource): string {
  const repo = repositoryShortName(source.repository);
  if (source.changeNumber !== undefined)
    return `${repo}${changeSuffix[source.platform](source.changeNumber)}`;
  if (!source.branch) throw new Error('workspaceName needs a change number or a branch');
  return branchPreviewName(source.platform, source.repository, source.branch);
}

function branchPreviewName(platform: Platform, repository: string, branch: string): string {
  const repo = slug(repositoryShortName(repository), false);
  const readable = [repo, slug(branch.normalize('NFC'), true)].filter((s) => s.length > 0).join('-');
  // Room for "-<fingerprint>" and the longest intermediate suffix, so all three names fit.
  const room = MAX_NAME_LENGTH - LONGEST_INTERMEDIATE_SUFFIX - FINGERPRINT_LENGTH - 1;
  const prefix = trimEnds(readable.slice(0, room));
  const print = fingerprint(platform, repository, branch);
  return prefix ? `${prefix}-${print}` : print;
}

/** Lossy, readable: accents dropped, runs of anything outside [A-Za-z0-9._] become one `-`. */
function slug(text: string, lowerCase: boolean): string {
  const plain = text.normalize('NFKD').replace(/\p{M}+/gu, '');
  const cased = lowerCase ? plain.toLowerCase() : plain;
  return trimEnds(cased.replace(/[^A-Za-z0-9._]+/g, '-'));
}

function trimEnds(text: string): string {
  return text.replace(/^[-.]+|[-.]+$/g, '');
}

/**
 * 10 lower-case letters from SHA-256 of (platform, repository, NFC branch). The repository is
 * lower-cased (GitHub, GitLab and Bitbucket resolve owner and name case-insensitively); the
 * branch is not (git branch names are case-sensitive).
 */
function fingerprint(platform: Platform, repository: string, branch: string): string {
  const digest = createHash('sha256')
    .update(`${platform}\n${repository.toLowerCase()}\n${branch.normalize('NFC')}`)
    .digest();
  let value = digest.readBigUInt64BE(0);
  let letters = '';
  for (let i = 0; i < FINGERPRINT_LENGTH; i++) {
    letters += String.fromCharCode(97 + Number(value % 26n));
    value /= 26n;
  }
  return letters;
}

/**
 * Reads a workspace name back: the change number if it is a change-request preview of this
 * repository on this platform, else `undefined` (never ours to prune). Intermediate names are
 * not previews themselves: see `parsePreviewName`.
 */
export function parseChangeNumber(name: string, platform: Platform, repository: string): number | undefined {
  const repo = escapeRegExp(repositoryShortName(repository));
  const match = new RegExp(`^${repo}${changeSuffixPattern[platform]}$`).exec(name);
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Which workspace of a preview a name denotes. */
export type PreviewStage = 'preview' | 'switching' | 'retiring';

/** A change-request preview recognised by name, with the stage of a switch it is in. */
export interface ParsedPreviewName {
  changeNumber: number;
  /** `preview`: the canonical name; `switching` / `retiring`: a zero-downtime switch's intermediate. */
  stage: PreviewStage;
  /** The canonical name of the preview this workspace belongs to. */
  previewName: string;
}

/**
 * Like `parseChangeNumber`, but also recognises the intermediate workspaces of a zero-downtime
 * switch (`<preview>-vpn-switch`, `<preview>-vpn-retiring`) as belonging to their change
 * request, so prune handles them with their preview. `undefined` for anything else.
 */
export function parsePreviewName(
  name: string,
  platform: Platform,
  repository: string,
): ParsedPreviewName | undefined {
  const candidates: [PreviewStage, string][] = [['preview', name]];
  if (name.endsWith(SWITCHING_SUFFIX))
    candidates.push(['switching', name.slice(0, -SWITCHING_SUFFIX.length)]);
  if (name.endsWith(RETIRING_SUFFIX)) candidates.push(['retiring', name.slice(0, -RETIRING_SUFFIX.length)]);
  for (const [stage, previewName] of candidates) {
    const changeNumber = parseChangeNumber(previewName, platform, repository);
    if (changeNumber !== undefined) return { changeNumber, stage, previewName };
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The temporary name of the replacement workspace during a zero-downtime VPN switch
 * (shared/workflow/apply/zero-downtime.ts); deploy and teardown recognise it as the preview's.
 */
export function switchingName(name: string): string {
  return `${name}${SWITCHING_SUFFIX}`;
}

/**
 * The name the old workspace carries during a zero-downtime switch's handover, between giving up
 * the canonical name and being deleted; deploy and teardown recognise it as the preview's.
 */
export function retiringName(name: string): string {
  return `${name}${RETIRING_SUFFIX}`;
}

/** Every name a preview's workspaces can carry: the canonical one and the intermediates. */
export function previewNames(name: string): string[] {
  return [name, switchingName(name), retiringName(name)];
}
