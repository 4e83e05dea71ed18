import type { CodesphereApi } from '../codesphere/api.js';
import type { JobInput } from '../request/job-input.js';
import type { TeardownResult } from './results.js';
import type { CoreDeps } from './deps.js';
import { ApiError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { resolveTeam } from './resolve.js';
import { openSession } from './session.js';
import { previewNames } from './naming.js';
import type { Workspace } from '../codesphere/schemas.js';
import { onDeleteHook } from './private-data.js';
import { runOnDelete } from './preview-hooks.js';

/**
 * `teardown`: deletes the change request's preview (all of its names). Already gone is success.
 * A deploy of the same change may be racing and create the workspace right after our lookup or our
 * delete, so teardown looks again RACE_CHECKS times, RACE_CHECK_INTERVAL_MS apart, and deletes what
 * appeared. A create that lands later is the racing deploy's to settle: it asks whether its change
 * request is still open before it reports success (deploy.ts); without that port, prune removes it.
 */

export const RACE_CHECKS = 3;
export const RACE_CHECK_INTERVAL_MS = 1_000;

export async function teardown(
  input: JobInput,
  reporter: Reporter,
  deps?: Partial<CoreDeps>,
): Promise<TeardownResult> {
  const session = await openSession(input, 'teardown', reporter, deps);
  const { request, client } = session;
  const name = session.workspaceName;
  return reporter.group(`Delete workspace "${name}"`, async () => {
    const team = await resolveTeam(client, request.team);
    // onDelete runs inside each workspace right before its deletion; it never blocks it.
    const hook = onDeleteHook(request, name);
    const beforeDelete = (w: Workspace) =>
      runOnDelete(client, reporter, session.deps, session.deadline, w, hook);
    let deletedId = await deleteByName(client, team.id, name, reporter, beforeDelete);
    if (deletedId === undefined)
      reporter.info(`No workspace named "${name}" in team "${team.name}": nothing to delete.`);
    for (let check = 0; check < RACE_CHECKS; check++) {
      await session.deps.clock.sleep(RACE_CHECK_INTERVAL_MS);
      const late = await deleteByName(client, team.id, name, reporter, beforeDelete);
      if (late !== undefined) {
        reporter.info(
          `Workspace "${name}" (id ${late}) appeared after the first look (a deploy raced this teardown): deleted it too.`,
        );
        deletedId = late;
      }
    }
    return {
      name,
      ...(deletedId !== undefined ? { workspaceId: deletedId } : {}),
      deleted: deletedId !== undefined,
    };
  });
}

/**
 * Deletes every workspace of the preview `name`, including the intermediate ones of a
 * zero-downtime switch; returns the id of the last one deleted, if any. Also used by a deploy
 * that finds its change request closed (shared/workflow/deploy.ts). `beforeDelete` (the onDelete
 * hook) runs right before each deletion and must not throw.
 */
export async function deleteByName(
  client: CodesphereApi,
  teamId: number,
  name: string,
  reporter: Reporter,
  beforeDelete?: (workspace: Workspace) => Promise<void>,
): Promise<number | undefined> {
  // Also the intermediates of a zero-downtime VPN switch (interrupted, or running right now).
  const names = new Set(previewNames(name));
  const matches = (await client.listWorkspaces(teamId)).filter((w) => names.has(w.name));
  let deleted: number | undefined;
  for (const workspace of matches) {
    await beforeDelete?.(workspace);
    await deleteWorkspace(client, workspace.id);
    reporter.info(`Deleted workspace "${workspace.name}" (id ${workspace.id}).`);
    deleted = workspace.id;
  }
  return deleted;
}

/**
 * DELETE that treats 404 as done: a retried or concurrent delete already removed it.
 * Returns true when this call deleted it, false when it was already gone.
 */
export async function deleteWorkspace(client: CodesphereApi, id: number): Promise<boolean> {
  try {
    await client.deleteWorkspace(id);
    return true;
  } catch (err: unknown) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}
