import { checkServices, runPipeline, wantsLandscape, type ServiceResult } from '../landscape.js';
import type { Plan, Team, Workspace } from '../../codesphere/schemas.js';
import { DeploymentError, errorMessage, WorkspaceGoneError } from '../../errors.js';
import { createWorkspace } from './create.js';
import { findByName, wantsZeroDowntimeSwitch, type Applied } from './plan.js';
import { updateWorkspace } from './update.js';
import { unmanagedVariables } from '../managed-env.js';
import { retiringName, switchingName } from '../naming.js';
import {
  DELETED_BY,
  notFoundAsWorkspaceGone,
  runStage,
  waitUntilRunning,
  type WaitContext,
} from '../pipeline.js';
import type { Session } from '../session.js';
import { deleteWorkspace } from '../teardown.js';
import { onDeleteHook } from '../private-data.js';
import { runOnDelete } from '../preview-hooks.js';
import { requirePassed, runVpnCheck, VPN_CHECK_NOT_ASKED, type DeployedVpnCheck } from '../vpn-check.js';

/**
 * `vpnSwitch: zero-downtime`: a VPN config change without the in-place restart of every replica's
 * tunnel. A second workspace is built on the new config as `<preview>-vpn-switch`; once it runs and
 * its VPN check passes, the old one steps aside to `<preview>-vpn-retiring`, the new one takes the
 * name, and the old one is deleted after a short drain (names are unique per team, hence two
 * renames). If the new one fails, it is deleted and the old one keeps serving. Every workspace of
 * a switch is named after its preview, so the next deploy settles an interrupted switch and
 * concurrent runs meet on the names instead of building a third workspace.
 * Design: docs/design/zero-downtime.md
 */

/** Time for clients that resolved the old workspace just before the handover to finish with it. */
export const HANDOVER_DRAIN_MS = 2_000;

const vpnOf = (w: Workspace): string | null => w.vpnConfig ?? null;
const vpnLabel = (vpn: string | null | undefined): string => vpn ?? '(none)';

/**
 * Run by every deploy before it looks at its preview: removes or adopts the intermediate
 * workspaces an interrupted zero-downtime switch left (see the module comment), so no run ever
 * builds a third workspace beside them. `listed` is the team's workspaces as just read.
 * Returns the preview's workspace under its canonical name, or `undefined` when there is none.
 * Throws ApiError when a rename or delete fails for a reason other than a concurrent run.
 */
export async function settleInterruptedSwitch(
  session: Session,
  team: Team,
  listed: Workspace[],
): Promise<Workspace | undefined> {
  const { client, reporter, request } = session;
  const name = session.workspaceName;
  const preview = findByName(listed, name);
  const switching = findByName(listed, switchingName(name));
  const retiring = findByName(listed, retiringName(name));
  if (!switching && !retiring) return preview;

  if (preview) {
    if (retiring) {
      reporter.warning(
        `Deleting workspace ${retiring.id} ("${retiring.name}", VPN config ${vpnLabel(vpnOf(retiring))}): ` +
          `a zero-downtime switch already replaced it with workspace ${preview.id} and had not deleted it yet ` +
          '(the switch was interrupted, or another run is still draining it).',
      );
      await runOnDelete(
        client,
        reporter,
        session.deps,
        session.deadline,
        retiring,
        onDeleteHook(request, name),
      );
      await deleteWorkspace(client, retiring.id);
    }
    const joinable =
      wantsZeroDowntimeSwitch(request, preview) && vpnOf(switching ?? preview) === request.vpnConfig;
    if (switching && !joinable) {
      reporter.warning(
        `Deleting workspace ${switching.id} ("${switching.name}", VPN config ${vpnLabel(vpnOf(switching))}): ` +
          `the replacement a zero-downtime switch was building before it took the name (that switch was interrupted, ` +
          `or this run supersedes it); "${name}" stays workspace ${preview.id}.`,
      );
      await deleteWorkspace(client, switching.id);
    }
    return preview;
  }

  // No preview: a switch stopped between its two renames. Give the name back to the
  // intermediate already on the requested VPN config (else to the old one), delete the other.
  const candidates = [switching, retiring].filter((w): w is Workspace => w !== undefined);
  const keep = candidates.find((w) => vpnOf(w) === request.vpnConfig) ?? retiring ?? switching;
  if (!keep) return undefined;
  try {
    await client.updateWorkspace(keep.id, { name });
  } catch (err: unknown) {
    // Another run took the name in the meantime: continue with whatever holds it now.
    const holder = findByName(await client.listWorkspaces(team.id), name);
    if (!holder) throw err;
    reporter.info(
      `Another run of this change request gave "${name}" to workspace ${holder.id} at the same time.`,
    );
    return holder;
  }
  reporter.warning(
    `A zero-downtime switch stopped between its two renames: workspace ${keep.id} ("${keep.name}", ` +
      `VPN config ${vpnLabel(vpnOf(keep))}) is "${name}" again.`,
  );
  for (const other of candidates.filter((w) => w.id !== keep.id)) {
    reporter.warning(
      `Deleting workspace ${other.id} ("${other.name}", VPN config ${vpnLabel(vpnOf(other))}).`,
    );
    await deleteWorkspace(client, other.id);
  }
  return { ...keep, name };
}

/**
 * Replaces `current` (the preview, on another VPN config) by a new workspace on the requested
 * one without a gap (see the module comment). Returns `switched` with the workspace that holds the
 * preview's name afterwards (this run's, or the one another concurrent run put there on the same
 * VPN config) and the new workspace's VPN check.
 * Throws DeploymentError naming the workspace that holds the name and its VPN config when the
 * switch fails, or WorkspaceGoneError when no workspace of the preview is left (a teardown).
 */
export async function zeroDowntimeSwitch(
  session: Session,
  team: Team,
  plan: Plan,
  current: Workspace,
): Promise<Extract<Applied, { kind: 'switched' }>> {
  const { client, request, reporter, deps, deadline } = session;
  const name = session.workspaceName;
  const tempName = switchingName(name);
  const from = vpnLabel(vpnOf(current));
  const to = vpnLabel(request.vpnConfig);
  const switched = { kind: 'switched', from: vpnOf(current), to: request.vpnConfig } as const;
  reporter.info(
    `Switching VPN config ${from} -> ${to} without downtime: building "${tempName}" on ${to} while workspace ${current.id} keeps serving.`,
  );

  // settleInterruptedSwitch left a "-vpn-switch" workspace only if it is on our VPN config:
  // another run of this change request is building it (or one stopped while building it).
  const tempTarget = { name: tempName, team, plan };
  const building = findByName(await client.listWorkspaces(team.id), tempName);
  let next: Workspace;
  if (building) {
    reporter.info(
      `Workspace ${building.id} ("${tempName}") is already being built on ${to} by another run of this change request (or one that stopped): continuing with it.`,
    );
    next = (await updateWorkspace(client, request, tempTarget, building, reporter)).workspace;
  } else {
    // Variables set by hand on the old workspace move with the preview (shared/workflow/managed-env.ts).
    const carried = await notFoundAsWorkspaceGone(current.id, () =>
      unmanagedVariables(client, current.id, request.env),
    );
    next = (await createWorkspace(client, request, tempTarget, reporter, carried)).workspace;
  }

  const ctx: WaitContext = { client, reporter, deps, deadline };
  let vpnCheck: DeployedVpnCheck = VPN_CHECK_NOT_ASKED;
  let services: ServiceResult[] | undefined;
  try {
    // No nested Reporter groups: this runs inside deploy's apply group (GitHub cannot nest them).
    reporter.info(`Bringing up workspace ${next.id} on ${to}.`);
    await waitUntilRunning(ctx, next.id);
    if (wantsLandscape(request)) {
      // The same profile and landscape as the workspace it replaces, checked from every service replica.
      const entries = await runPipeline(session, next.id, ctx, (_name, fn) => fn());
      if (entries) services = await checkServices(session, next.id, next.devDomain ?? '', entries, ctx);
      if (request.vpnCheck) vpnCheck = { status: 'passed', target: request.vpnCheck.label, output: '' };
    } else {
      await runStage(ctx, next.id, 'prepare', 'success');
      await runStage(ctx, next.id, 'run', 'running');
    }
    if (request.vpnCheck && !services) {
      vpnCheck = requirePassed(
        await runVpnCheck(
          { ...ctx, workspaceId: next.id, replicas: request.replicas, vpnConfig: request.vpnConfig },
          request.vpnCheck,
        ),
      );
    }
  } catch (err: unknown) {
    throw await failedSwitch(
      session,
      team,
      current,
      next,
      `Zero-downtime VPN switch to ${to} failed: ${errorMessage(err)}`,
      err,
    );
  }

  const handover = await handOverName(session, team, current, next);
  if (handover.by === 'other') {
    const holder = handover.holder;
    reporter.info(
      `Another run of this change request completed the same switch at the same time: "${name}" is workspace ${holder.id} on VPN config ${to}.`,
    );
    return {
      ...switched,
      workspace: holder,
      changes: [
        `vpnConfig: ${from} -> ${to} (zero-downtime, completed by a concurrent run: workspace ${holder.id} replaced ${current.id})`,
      ],
      vpnCheck,
      ...(services ? { services } : {}),
    };
  }

  reporter.info(`Workspace ${next.id} is now "${name}" (VPN config ${to}); workspace ${current.id} retires.`);
  // The old workspace serves until here: clients that resolved it just before the handover finish first.
  await deps.clock.sleep(HANDOVER_DRAIN_MS);
  try {
    // onDelete inside the retiring workspace first (a warning when it fails; the deletion proceeds).
    await runOnDelete(client, reporter, deps, deadline, current, onDeleteHook(request, name));
    if (await deleteWorkspace(client, current.id))
      reporter.info(`Deleted workspace ${current.id} (VPN config ${from}).`);
    else
      reporter.info(
        `Workspace ${current.id} (VPN config ${from}) was already deleted by another run of this change request.`,
      );
  } catch (err: unknown) {
    reporter.warning(
      `The preview moved to workspace ${next.id}, but the old workspace ${current.id} ("${retiringName(name)}") could not be deleted: ` +
        `${errorMessage(err)}. The next deploy, a teardown or prune deletes it.`,
    );
  }
  return {
    ...switched,
    workspace: { ...next, name },
    changes: [`vpnConfig: ${from} -> ${to} (zero-downtime: workspace ${next.id} replaced ${current.id})`],
    vpnCheck,
    ...(services ? { services } : {}),
  };
}

type Handover = { by: 'this-run' } | { by: 'other'; holder: Workspace };

/**
 * Moves the canonical name from the old workspace to the new one: old -> retiring name, new -> name.
 * When a rename fails, the team's workspaces are read again: another run may have done the same
 * handover (success), put another workspace on our VPN config under the name (success, ours is
 * removed), or nothing moved (the old workspace gets its name back and ours is removed).
 */
async function handOverName(
  session: Session,
  team: Team,
  current: Workspace,
  next: Workspace,
): Promise<Handover> {
  const { client, reporter, request } = session;
  const name = session.workspaceName;
  // A run that joined another's replacement finds the handover possibly done already.
  const before = findByName(await client.listWorkspaces(team.id), name);
  if (before && before.id === next.id) return { by: 'other', holder: { ...next, name } };
  try {
    await client.updateWorkspace(current.id, { name: retiringName(name) });
    reporter.info(`Workspace ${current.id} stepped aside as "${retiringName(name)}".`);
    await client.updateWorkspace(next.id, { name });
    return { by: 'this-run' };
  } catch (err: unknown) {
    const listed = await client.listWorkspaces(team.id);
    const holder = findByName(listed, name);
    if (holder?.id === next.id) return { by: 'other', holder };
    if (holder && vpnOf(holder) === request.vpnConfig) {
      // Another run's replacement won the name with the same VPN config: ours is surplus.
      if (await deleteWorkspace(client, next.id))
        reporter.info(
          `Deleted this run's replacement ${next.id}: workspace ${holder.id} already serves "${name}" on ${vpnLabel(request.vpnConfig)}.`,
        );
      return { by: 'other', holder };
    }
    if (!holder && listed.some((w) => w.id === current.id)) {
      // Nothing holds the name: undo our first rename so the preview is as before the switch.
      await client.updateWorkspace(current.id, { name });
    }
    throw await failedSwitch(
      session,
      team,
      current,
      next,
      `Zero-downtime VPN switch: moving "${name}" to workspace ${next.id} failed: ${errorMessage(err)}`,
      err,
    );
  }
}

/**
 * The error for a switch that did not complete: removes this run's replacement if it is still
 * only a replacement, then says what actually holds the preview's name now (read again, since
 * concurrent runs or a teardown may have changed it).
 */
async function failedSwitch(
  session: Session,
  team: Team,
  current: Workspace,
  next: Workspace,
  reason: string,
  cause: unknown,
): Promise<Error> {
  const { client, reporter } = session;
  const name = session.workspaceName;
  let listed: Workspace[];
  try {
    listed = await client.listWorkspaces(team.id);
  } catch (listErr: unknown) {
    reporter.warning(
      `Could not read the team's workspaces after the failed switch: ${errorMessage(listErr)}.`,
    );
    return new DeploymentError(reason, { workspaceId: current.id, name, teamName: team.name }, { cause });
  }
  const nextNow = listed.find((w) => w.id === next.id);
  let removed = '';
  if (nextNow && nextNow.name !== name) {
    try {
      await deleteWorkspace(client, next.id);
      removed = ` The new workspace ${next.id} was removed.`;
    } catch (cleanupErr: unknown) {
      removed = ` The new workspace ${next.id} ("${nextNow.name}") could not be removed (${errorMessage(cleanupErr)}): the next deploy, a teardown or prune removes it.`;
    }
  }
  const holder = findByName(listed, name);
  if (!holder) {
    return new WorkspaceGoneError(
      `${reason}. No workspace is named "${name}" any more: it was deleted while this run switched it (${DELETED_BY}).${removed}`,
      { cause },
    );
  }
  const state =
    holder.id === current.id
      ? `The old workspace ${holder.id} is still "${name}" on VPN config ${vpnLabel(vpnOf(holder))}.`
      : holder.id === next.id
        ? `Workspace ${holder.id} is "${name}" on VPN config ${vpnLabel(vpnOf(holder))}: another run of this change request completed the switch to it.`
        : `Workspace ${holder.id} is "${name}" on VPN config ${vpnLabel(vpnOf(holder))}, put there by another run of this change request at the same time.`;
  return new DeploymentError(
    `${reason}. ${state}${removed}`,
    { workspaceId: holder.id, name, teamName: team.name },
    { cause },
  );
}
