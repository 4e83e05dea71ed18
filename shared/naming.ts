import { createHash } from 'node:crypto';

import type { Platform } from './contract.js';

/**
 * Deterministic workspace names: the only identity a preview has. Every run finds its
 * workspace again by name (names are unique per team on Codesphere), so the scheme must be
 * stable across runs, unique per change request, and recognisable for pruning.
 *
 * | platform  | change request preview   | example            |
 * | --------- | ------------------------ | ------------------ |
 * | GitHub    | `<repo>-#<number>`       | `shop-#42`         |
 * | GitLab    | `<project>-!<iid>`       | `shop-!42`         |
 * | Bitbucket | `<repo>-pr-<id>`         | `shop-pr-42`       |
 * | any       | `<repo>-<branch>` (branch preview, no change number) | `shop-feature-login` |
 *
 * - `<repo>` is the last path segment of the repository ("acme/shop" -> "shop"): GitHub's
 *   scheme is exactly the official codesphere-cloud/gh-action-deploy's (`${repo}-#${number}`
 *   with repo = GITHUB_REPOSITORY without the owner), so previews it created are adopted.
 * - GitLab writes merge requests as `!iid`, so `-!<iid>` reads like GitLab itself; the project's
 *   path (not its display name) is used because it is stable and URL-safe.
 * - Bitbucket has no sigil for pull requests; `pr-<id>` keeps the name URL- and shell-friendly.
 * - Branch previews: the branch is sanitised to `[A-Za-z0-9._-]` (other characters become `-`),
 *   and names longer than 63 characters are cut and suffixed with 8 hex digits of the branch's
 *   SHA-256, so two long branches never collide and the same branch always maps to one name.
 *   Branch previews are never pruned by pattern: `<repo>-<anything>` could be a hand-made
 *   workspace.
 * - Limitation (inherited from the official action): two repositories with the same name under
 *   different owners, deploying to the same team, share names. Use different teams for them.
 */

export const MAX_NAME_LENGTH = 63;

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

const changeSuffixPattern: Record<Platform, string> = {
  github: '-#(\\d+)',
  gitlab: '-!(\\d+)',
  bitbucket: '-pr-(\\d+)',
};

export interface NameSource {
  platform: Platform;
  repository: string;
  /** PR / MR number; absent for a branch preview. */
  changeNumber?: number | undefined;
  branch?: string | undefined;
}

/** The workspace name for a change request (or, without a number, for a branch). */
export function workspaceName(source: NameSource): string {
  const repo = repositoryShortName(source.repository);
  if (source.changeNumber !== undefined)
    return `${repo}${changeSuffix[source.platform](source.changeNumber)}`;
  if (!source.branch) throw new Error('workspaceName needs a change number or a branch');
  return branchPreviewName(repo, source.branch);
}

function branchPreviewName(repo: string, branch: string): string {
  const clean = branch
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
  const name = `${repo}-${clean || 'branch'}`;
  if (name.length <= MAX_NAME_LENGTH) return name;
  const hash = createHash('sha256').update(branch).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME_LENGTH - 9)}-${hash}`;
}

/**
 * Reads a workspace name back: the change number if it is a change-request preview of this
 * repository on this platform, else `undefined` (never ours to prune).
 */
export function parseChangeNumber(name: string, platform: Platform, repository: string): number | undefined {
  const repo = escapeRegExp(repositoryShortName(repository));
  const match = new RegExp(`^${repo}${changeSuffixPattern[platform]}$`).exec(name);
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The temporary name of the replacement workspace during a zero-downtime VPN switch
 * (shared/zero-downtime.ts); teardown deletes it too, should a switch have been interrupted.
 */
export function switchingName(name: string): string {
  return `${name}-vpn-switch`;
}

/**
 * The name the old workspace carries during a zero-downtime switch's handover, between giving up
 * the canonical name and being deleted; teardown deletes it too, should a switch stop there.
 */
export function retiringName(name: string): string {
  return `${name}-vpn-retiring`;
}
