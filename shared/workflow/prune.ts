import { askChangeRequestState, changeRequestLabel, stateCheckCapMs } from './change-request.js';
import type { JobInput } from '../request/job-input.js';
import type { PruneResult } from './results.js';
import type { CoreDeps } from './deps.js';
import { parsePreviewName } from './naming.js';
import type { Reporter } from '../reporter.js';
import { resolveTeam } from './resolve.js';
import { openSession } from './session.js';
import { deleteWorkspace } from './teardown.js';
import { onDeleteHook } from './private-data.js';
import { runOnDelete } from './preview-hooks.js';

/**
 * Workspaces created less than this long before prune started are never pruned. The adapter reads
 * the open change requests just before prune starts, so a workspace created after that list was
 * read (a change request opened meanwhile) is young by definition. The margin covers the time the
 * list takes to read (pages, retries) and clock skew between the CI runner and Codesphere, whose
 * clock sets `createdAt`: up to 10 minutes of it. A young preview wrongly kept costs one prune
 * interval; a live preview wrongly deleted costs a team its review.
 */
export const RECENT_WORKSPACE_MARGIN_MS = 10 * 60_000;

/**
 * `prune`: deletes this repository's change-request previews whose change is no longer open (the
 * caller passes the open numbers) or that are older than a TTL. Only names of this platform's
 * preview pattern for this repository, or a switch's intermediates of one, are considered
 * (naming.ts): hand-made workspaces and branch previews are never touched. A dry run deletes nothing.
 * The open list is a snapshot, so a workspace created within RECENT_WORKSPACE_MARGIN_MS before
 * prune started is kept, and one missing from the list is deleted only if the ChangeRequests port,
 * asked right before, says its change request is closed (no port or no answer: kept, with a
 * warning). Past the TTL a preview goes whatever its state, as asked.
 */
export async function prune(
  input: JobInput,
  reporter: Reporter,
  deps?: Partial<CoreDeps>,
): Promise<PruneResult> {
  const session = await openSession(input, 'prune', reporter, deps);
  const { request, client } = session;
  const now = session.deps.clock.now();
  const open = request.openChangeNumbers ? new Set(request.openChangeNumbers) : undefined;
  const ttlMs = request.pruneTtlHours === undefined ? undefined : request.pruneTtlHours * 3_600_000;
  const youngAfter = session.startedAt - RECENT_WORKSPACE_MARGIN_MS;

  return reporter.group(
    `Prune previews of ${request.repository}${request.dryRun ? ' (dry run)' : ''}`,
    async () => {
      const team = await resolveTeam(client, request.team);
      const workspaces = await client.listWorkspaces(team.id);
      const result: PruneResult = { dryRun: request.dryRun, pruned: [], kept: [] };
      for (const workspace of workspaces.sort((a, b) => a.id - b.id)) {
        // A switch's intermediate workspaces (`-vpn-switch`, `-vpn-retiring`) go with their preview.
        const parsed = parsePreviewName(workspace.name, request.platform, request.repository);
        const number = parsed?.changeNumber;
        if (parsed === undefined || number === undefined) continue;
        const keep = (why?: string, warn = false) => {
          if (why) {
            const line = `Keeping "${workspace.name}" (id ${workspace.id}): ${why}.`;
            if (warn) reporter.warning(line);
            else reporter.info(line);
          }
          result.kept.push({ workspaceId: workspace.id, name: workspace.name });
        };
        const createdAt = Date.parse(workspace.createdAt);
        const ageMs = now - createdAt;
        const label = changeRequestLabel(request.platform, number);
        const pastTtl = ttlMs !== undefined && ageMs > ttlMs;
        const notListed = open !== undefined && !open.has(number);
        const reason = pastTtl
          ? `older than ${request.pruneTtlHours} h (created ${workspace.createdAt})`
          : notListed
            ? `change #${number} is no longer open`
            : undefined;
        if (!reason) {
          keep();
          continue;
        }
        // NaN (an unreadable date) is not "before": such a workspace is kept too.
        if (!(createdAt < youngAfter)) {
          keep(
            `created ${workspace.createdAt}, less than ${RECENT_WORKSPACE_MARGIN_MS / 60_000} minutes before this prune ` +
              'read the open change requests (it may belong to one opened since)',
          );
          continue;
        }
        if (!pastTtl) {
          if (!session.deps.changeRequests) {
            keep(`cannot confirm that ${label} is closed (no way to ask the platform)`, true);
            continue;
          }
          // Right before the deletion: the list may be minutes old by now.
          const cap = stateCheckCapMs(session.deadline, session.deps.clock.now());
          const state = await askChangeRequestState(session.deps, reporter, label, number, cap);
          if (state === 'open') {
            keep(`${label} is open again (opened or reopened since the list was read)`);
            continue;
          }
          if (state === 'unknown') {
            keep(
              `${label} is not in the open list, but the platform could not confirm that it is closed`,
              true,
            );
            continue;
          }
        }
        if (request.dryRun) {
          reporter.info(`Would delete "${workspace.name}" (id ${workspace.id}): ${reason}.`);
        } else {
          // onDelete right before the deletion (TTL or closed alike); it never blocks it.
          const hook = onDeleteHook(request, parsed.previewName, number);
          await runOnDelete(client, reporter, session.deps, session.deadline, workspace, hook);
          await deleteWorkspace(client, workspace.id);
          reporter.info(`Deleted "${workspace.name}" (id ${workspace.id}): ${reason}.`);
        }
        result.pruned.push({ workspaceId: workspace.id, name: workspace.name, reason });
      }
      reporter.info(
        `${request.dryRun ? 'Would prune' : 'Pruned'} ${result.pruned.length}, kept ${result.kept.length} preview(s) in team "${team.name}".`,
      );
      return result;
    },
  );
}
