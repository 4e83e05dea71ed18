import type { JobInput, PruneResult } from './contract.js';
import type { CoreDeps } from './deps.js';
import { parsePreviewName } from './naming.js';
import type { Reporter } from './reporter.js';
import { resolveTeam } from './resolve.js';
import { openSession } from './session.js';
import { deleteWorkspace } from './teardown.js';

/**
 * `prune`: deletes this repository's change-request previews whose change is no longer open
 * (the caller passes the open numbers) or that are older than a TTL. Only names that match this
 * platform's preview pattern for this repository, or an intermediate name of a zero-downtime
 * switch of one, are considered (shared/naming.ts), so hand-made workspaces and branch previews
 * are never touched. A dry run lists, deletes nothing.
 */
export async function prune(
  input: JobInput,
  reporter: Reporter,
  deps?: Partial<CoreDeps>,
): Promise<PruneResult> {
  const session = await openSession(input, 'prune', reporter, deps);
  const { request, client } = session;
  const now = session.deps.now();
  const open = request.openChangeNumbers ? new Set(request.openChangeNumbers) : undefined;
  const ttlMs = request.pruneTtlHours === undefined ? undefined : request.pruneTtlHours * 3_600_000;

  return reporter.group(
    `Prune previews of ${request.repository}${request.dryRun ? ' (dry run)' : ''}`,
    async () => {
      const team = await resolveTeam(client, request.team);
      const workspaces = await client.listWorkspaces(team.id);
      const result: PruneResult = { dryRun: request.dryRun, pruned: [], kept: [] };
      for (const workspace of workspaces.sort((a, b) => a.id - b.id)) {
        // A switch's intermediate workspaces (`-vpn-switch`, `-vpn-retiring`) go with their preview.
        const number = parsePreviewName(workspace.name, request.platform, request.repository)?.changeNumber;
        if (number === undefined) continue;
        const ageMs = now - Date.parse(workspace.createdAt);
        let reason: string | undefined;
        if (open && !open.has(number)) reason = `change #${number} is no longer open`;
        else if (ttlMs !== undefined && ageMs > ttlMs)
          reason = `older than ${request.pruneTtlHours} h (created ${workspace.createdAt})`;
        if (!reason) {
          result.kept.push({ workspaceId: workspace.id, name: workspace.name });
          continue;
        }
        if (request.dryRun) {
          reporter.info(`Would delete "${workspace.name}" (id ${workspace.id}): ${reason}.`);
        } else {
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
