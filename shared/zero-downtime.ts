import { createWorkspace, findByName, type Applied } from './apply.js';
import type { Plan, Team, Workspace } from './codesphere/schemas.js';
import { DeploymentError } from './errors.js';
import { switchingName } from './naming.js';
import { runStage, waitUntilRunning, type WaitContext } from './pipeline.js';
import type { Session } from './session.js';
import { deleteWorkspace } from './teardown.js';
import { runVpnCheck, type VpnCheckOutcome } from './vpn-check.js';

/**
 * `vpnSwitch: zero-downtime`: a VPN config change without the in-place restart. An in-place
 * PATCH restarts the VPN service on every replica (a gap in private connectivity); instead a
 * second workspace is built on the new config under a temporary name, and only once it runs
 * and its vpnCheck passes is the old one deleted and the new one renamed to the canonical name.
 * If the new one fails, it is deleted and the old one keeps serving, untouched.
 */

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

  // A switch interrupted earlier left its half-built workspace: it is ours, and stale.
  const stale = findByName(await client.listWorkspaces(team.id), tempName);
  if (stale) {
    reporter.warning(`Deleting "${tempName}" (id ${stale.id}) left by an interrupted switch.`);
    await deleteWorkspace(client, stale.id);
  }

  const created = await createWorkspace(
    client,
    { ...request, workspaceName: tempName },
    team,
    plan,
    reporter,
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
        `Could not delete the new workspace ${next.id} ("${tempName}"): ${cleanupErr instanceof Error ? cleanupErr.message : String(cleanupErr)}. ` +
          'The next run deletes it.',
      );
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new DeploymentError(
      `Zero-downtime VPN switch to ${to} failed, so the new workspace was removed and the old one kept its VPN config ${from}: ${reason}`,
      { workspaceId: current.id, name: current.name, teamName: team.name },
      { cause: err },
    );
  }

  await deleteWorkspace(client, current.id);
  reporter.info(`Deleted workspace ${current.id} (VPN config ${from}).`);
  await client.updateWorkspace(next.id, { name });
  reporter.info(`Workspace ${next.id} is now "${name}" (VPN config ${to}).`);
  return {
    applied: {
      workspace: { ...next, name },
      action: 'updated',
      changes: [`vpnConfig: ${from} -> ${to} (zero-downtime: workspace ${next.id} replaced ${current.id})`],
    },
    vpnCheck,
  };
}

/** Whether this run should switch by replacement rather than PATCH. */
export function wantsZeroDowntimeSwitch(session: Session, existing: Workspace | undefined): boolean {
  if (!existing || session.request.vpnSwitch !== 'zero-downtime') return false;
  return (existing.vpnConfig ?? null) !== session.request.vpnConfig;
}
