import type { ServiceResult } from '../landscape.js';
import type { Plan, Team, Workspace } from '../../codesphere/schemas.js';
import type { DeployRequest } from '../../request/schema.js';
import type { DeployedVpnCheck } from '../vpn-check.js';

/**
 * The plan step of a deploy (ARCHITECTURE.md: find by name -> create | update | delete | noop):
 * the team's workspaces as just read, the preview's deterministic name, and the request decide
 * what apply does. `delete` is teardown's; `noop` is an update that finds nothing to change
 * (`unchanged`, known only once the workspace's variables were read).
 */

/** Where apply works: the workspace's name, its team and the resolved plan. */
export interface ApplyTarget {
  name: string;
  team: Team;
  plan: Plan;
}

/** What apply will do to the preview's workspace. */
export type ApplyPlan =
  | { kind: 'create' }
  | { kind: 'update'; existing: Workspace }
  /** vpnSwitch zero-downtime on another VPN config: a replacement workspace takes over the name. */
  | { kind: 'switch'; existing: Workspace };

/** What apply did: the deploy's next phases and its result follow from the kind. */
export type Applied =
  | { kind: 'created'; workspace: Workspace }
  /** `changes`: what differed, e.g. "replicas: 1 -> 2", "env: 2 set (A, B)"; never empty. */
  | { kind: 'updated'; workspace: Workspace; changes: string[] }
  | { kind: 'unchanged'; workspace: Workspace }
  /**
   * A zero-downtime VPN switch: `workspace` (new, running, its pipeline done) serves the name now;
   * its VPN check already ran (./zero-downtime.ts).
   */
  | {
      kind: 'switched';
      workspace: Workspace;
      from: string | null;
      to: string | null;
      changes: string[];
      vpnCheck: DeployedVpnCheck;
      /** A landscape's services, checked from every replica on the new workspace. */
      services?: ServiceResult[] | undefined;
    };

/** The changes an Applied reports (created and unchanged: none). */
export function changesOf(applied: Applied): string[] {
  return applied.kind === 'updated' || applied.kind === 'switched' ? applied.changes : [];
}

/** The lowest-id workspace named `name`: should a race ever leave two, every run picks the same. */
export function findByName(workspaces: readonly Workspace[], name: string): Workspace | undefined {
  return workspaces.filter((w) => w.name === name).sort((a, b) => a.id - b.id)[0];
}

/** Whether this run should switch by replacement rather than PATCH (vpnSwitch: zero-downtime). */
export function wantsZeroDowntimeSwitch(request: DeployRequest, existing: Workspace | undefined): boolean {
  if (!existing || request.vpnSwitch !== 'zero-downtime') return false;
  return (existing.vpnConfig ?? null) !== request.vpnConfig;
}

/** The plan for the preview, given its workspace under the canonical name (or none). */
export function planApply(request: DeployRequest, existing: Workspace | undefined): ApplyPlan {
  if (!existing) return { kind: 'create' };
  return wantsZeroDowntimeSwitch(request, existing)
    ? { kind: 'switch', existing }
    : { kind: 'update', existing };
}
