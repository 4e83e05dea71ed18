import type { Team, Workspace } from '../codesphere/schemas.js';
import type { DeployRequest } from '../request/schema.js';
import { hookEnv, previewKey, runOnCreate, type OnDeleteHook } from './preview-hooks.js';
import { checkPrivateTargets, type CheckUnit, type TargetGrid } from './private-targets.js';
import type { Session } from './session.js';
import { checkVpnPool, type VpnPoolUsage } from './vpn-pool.js';

/**
 * The deploy's private-data phases in one place (docs/private-data.md), so deploy.ts calls them
 * in a line each: the pool count before anything is created, and after the run started the
 * private targets from every service replica, then onCreate. Teardown, prune and the
 * zero-downtime switch get their onDelete hook from `onDeleteHook`.
 */

/** What the private-data phases add to a deploy's result. */
export interface PrivateDataResult {
  /** The grid of a passed check (a failed one throws PrivateTargetsFailedError). */
  privateTargets?: TargetGrid | undefined;
  /** Whether onCreate ran in this deploy or had already run on the workspace. */
  onCreate?: 'ran' | 'already-ran' | undefined;
}

/** The (service, replica) pairs of a single-service workspace: replica 0..n-1, no service. */
export function replicaUnits(replicas: number): CheckUnit[] {
  return Array.from({ length: replicas }, (_, replica) => ({ replica }));
}

/** The (service, replica) pairs of a landscape: every replica of every app service, in order. */
export function serviceUnits(services: ReadonlyArray<{ name: string; replicas: number }>): CheckUnit[] {
  return services.flatMap((s) =>
    Array.from({ length: s.replicas }, (_, replica) => ({ service: s.name, replica })),
  );
}

/** This preview's CODESPHERE_PREVIEW_KEY. */
export function keyOf(request: DeployRequest): string {
  return previewKey(request.platform, request.changeNumber, request.branch);
}

/**
 * Counts the VPN pool before the apply step (vpn-pool.ts): one listWorkspaces call when
 * vpnPoolSize is given, nothing otherwise. `wanted`: the addresses this preview will hold.
 */
export async function vpnPoolPhase(
  session: Session,
  team: Team,
  wanted: number,
): Promise<VpnPoolUsage | undefined> {
  const { request, client, reporter } = session;
  if (request.privateData.vpnPoolSize === undefined || request.vpnConfig === null) return undefined;
  return checkVpnPool({
    workspaces: await client.listWorkspaces(team.id),
    previewName: session.workspaceName,
    vpnConfig: request.vpnConfig,
    pool: request.privateData.vpnPoolSize,
    wanted,
    reporter,
  });
}

/**
 * After the run stage is up: checks the private targets from every unit, then runs onCreate once
 * per workspace. Throws PrivateTargetsFailedError, HookFailedError or WorkspaceGoneError.
 */
export async function privateDataPhase(
  session: Session,
  workspace: Workspace,
  units: readonly CheckUnit[],
): Promise<PrivateDataResult> {
  const { request, client, reporter, deps, deadline } = session;
  const { targets, onCreate, onCreateService } = request.privateData;
  const result: PrivateDataResult = {};
  if (targets.length > 0)
    result.privateTargets = await reporter.group('Private targets', () =>
      checkPrivateTargets(
        { client, reporter, deps, deadline, workspaceId: workspace.id, vpnConfig: request.vpnConfig },
        units,
        targets,
      ),
    );
  if (onCreate)
    result.onCreate = await reporter.group('onCreate', () =>
      runOnCreate({
        client,
        reporter,
        deps,
        deadline,
        workspace,
        command: onCreate,
        service: onCreateService,
        env: hookEnv(session.workspaceName, keyOf(request), workspace),
      }),
    );
  return result;
}

/**
 * The onDelete hook for a preview named `previewName` (its canonical name, also for the
 * intermediate workspaces of a switch), or undefined when no onDelete is given.
 * `changeNumber` overrides the request's (prune deletes other change requests' previews).
 */
export function onDeleteHook(
  request: DeployRequest,
  previewName: string,
  changeNumber: number | undefined = request.changeNumber,
): OnDeleteHook | undefined {
  const command = request.privateData.onDelete;
  if (!command) return undefined;
  return {
    command,
    previewName,
    key: previewKey(request.platform, changeNumber, changeNumber === undefined ? request.branch : undefined),
  };
}
