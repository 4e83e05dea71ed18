import { errorMessage } from './describe-error.js';
import { createWorkspace, findByName, type Applied } from './apply.js';
import type { Plan, Team, Workspace } from './codesphere/schemas.js';
import { DeploymentError } from './errors.js';
import { unmanagedVariables } from './managed-env.js';
import { retiringName, switchingName } from './naming.js';
import { onWorkspace, runStage, waitUntilRunning, type WaitContext } from './pipeline.js';
import type { Session } from './session.js';
import { deleteWorkspace } from './teardown.js';
import { runVpnCheck, type VpnCheckOutcome } from './vpn-check.js';

/**
 * `vpnSwitch: zero-downtime`: a VPN config change without the in-place restart. An in-place
 * PATCH restarts the VPN service on every replica (a gap in private connectivity); instead a
 * second workspace is built on the new config under a temporary name, and only once it runs
 * and its vpnCheck passes does the name move: the old workspace steps aside to a retiring name,
 * the new one takes the canonical name, and the old one is deleted last, after a short drain.
 * Names are unique per team, so the move takes two renames; deleting the old workspace first
 * (the obvious order) would cut every client still talking to it before the new one is named.
 * If the new one fails, it is deleted and the old one keeps serving, untouched.
 */

/** Time for clients that resolved the old workspace just before the handover to finish with it. */
export const HANDOVER_DRAIN_MS = 2_000;

export interface SwitchOutcome {
  applied: Applied;
  vpnCheck: VpnCheckOutcome | undefined;
}

export async function zeroDowntimeSwitch(
  session: Session,
  team: Team,
  plan: Plan,
  current: Workspace,
): Promise<SwitchOutcome> {
  const { client, request, reporter, deps, deadline } = session;
  const name = request.workspaceName;
  const tempName = switchingName(name);
  const from = current.vpnConfig ?? '(none)';
  const to = request.vpnConfig ?? '(none)';
  reporter.info(
    `Switching VPN config ${from} -> ${to} without downtime: building "${tempName}" on ${to} while workspace ${current.id} keeps serving.`,
  );

  // A switch interrupted earlier left its half-built or retiring workspace: it is ours, and stale.
  const listed = await client.listWorkspaces(team.id);
  for (const leftover of [tempName, retiringName(name)]) {
    const stale = findByName(listed, leftover);
    if (!stale) continue;
    reporter.warning(`Deleting "${leftover}" (id ${stale.id}) left by an interrupted switch.`);
    await deleteWorkspace(client, stale.id);
  }

  // Variables set by hand on the old workspace move with the preview (shared/managed-env.ts).
  const carried = await onWorkspace(current.id, () => unmanagedVariables(client, current.id, request.env));
  const created = await createWorkspace(
    client,
    { ...request, workspaceName: tempName },
    team,
    plan,
    reporter,
    carried,
  );
  const next = created.workspace;
  const ctx: WaitContext = { client, reporter, deps, deadline };
  let vpnCheck: VpnCheckOutcome | undefined;
  try {
    // No nested Reporter groups: this runs inside deploy's apply group (GitHub cannot nest them).
    reporter.info(`Bringing up "${tempName}" (id ${next.id}) on ${to}.`);
    await waitUntilRunning(ctx, next.id);
    await runStage(ctx, next.id, 'prepare', 'success');
    await runStage(ctx, next.id, 'run', 'running');
    if (request.vpnCheck) {
      vpnCheck = await runVpnCheck(
        {
          client,
          reporter,
          deps,
          deadline,
          workspaceId: next.id,
          replicas: request.replicas,
          vpnConfig: request.vpnConfig,
        },
        request.vpnCheck,
      );
    }
  } catch (err: unknown) {
    // The old workspace was never touched: remove the new one so nothing is orphaned.
    try {
      await deleteWorkspace(client, next.id);
    } catch (cleanupErr: unknown) {
      reporter.warning(
        `Could not delete the new workspace ${next.id} ("${tempName}"): ${errorMessage(cleanupErr)}. ` +
          'The next run deletes it.',
      );
    }
    const reason = errorMessage(err);
    throw new DeploymentError(
      `Zero-downtime VPN switch to ${to} failed, so the new workspace was removed and the old one kept its VPN config ${from}: ${reason}`,
      { workspaceId: current.id, name: current.name, teamName: team.name },
      { cause: err },
    );
  }

  await handOverName(session, team, current, next, tempName);
  reporter.info(`Workspace ${next.id} is now "${name}" (VPN config ${to}); workspace ${current.id} retires.`);
  // The old workspace serves until here: clients that resolved it just before the handover finish first.
  await deps.sleep(HANDOVER_DRAIN_MS);
  try {
    await deleteWorkspace(client, current.id);
    reporter.info(`Deleted workspace ${current.id} (VPN config ${from}).`);
  } catch (err: unknown) {
    reporter.warning(
      `The preview moved to workspace ${next.id}, but the old workspace ${current.id} ("${retiringName(name)}") could not be deleted: ` +
        `${errorMessage(err)}. Closing the PR (teardown) deletes it.`,
    );
  }
  return {
    applied: {
      workspace: { ...next, name },
      action: 'updated',
      changes: [`vpnConfig: ${from} -> ${to} (zero-downtime: workspace ${next.id} replaced ${current.id})`],
    },
    vpnCheck,
  };
}

/**
 * Moves the canonical name from the old workspace to the new one: old -> retiring name, new -> name.
 * Should the second rename fail, the old workspace gets its name back and the new one is removed,
 * so the preview is exactly as before the switch.
 */
async function handOverName(
  session: Session,
  team: Team,
  current: Workspace,
  next: Workspace,
  tempName: string,
): Promise<void> {
  const { client, reporter, request } = session;
  const name = request.workspaceName;
  await client.updateWorkspace(current.id, { name: retiringName(name) });
  try {
    await client.updateWorkspace(next.id, { name });
  } catch (err: unknown) {
    try {
      await client.updateWorkspace(current.id, { name });
      await deleteWorkspace(client, next.id);
    } catch (rollbackErr: unknown) {
      reporter.warning(
        `Could not undo the handover (${errorMessage(rollbackErr)}): ` +
          `workspace ${current.id} may be named "${retiringName(name)}" and ${next.id} "${tempName}"; closing the PR (teardown) deletes both.`,
      );
    }
    throw new DeploymentError(
      `Zero-downtime VPN switch: renaming workspace ${next.id} to "${name}" failed, so the switch was undone: ${errorMessage(err)}`,
      { workspaceId: current.id, name, teamName: team.name },
      { cause: err },
    );
  }
}

/** Whether this run should switch by replacement rather than PATCH. */
export function wantsZeroDowntimeSwitch(session: Session, existing: Workspace | undefined): boolean {
  if (!existing || session.request.vpnSwitch !== 'zero-downtime') return false;
  return (existing.vpnConfig ?? null) !== session.request.vpnConfig;
}
