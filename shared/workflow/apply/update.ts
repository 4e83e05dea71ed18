import type { CodesphereApi, UpdateWorkspaceBody } from '../../codesphere/api.js';
import type { Workspace } from '../../codesphere/schemas.js';
import type { Reporter } from '../../reporter.js';
import type { DeployRequest } from '../../request/schema.js';
import { syncManagedEnv } from '../managed-env.js';
import { notFoundAsWorkspaceGone } from '../pipeline.js';
import { rewriteVpnConfigError } from '../resolve.js';
import type { Applied, ApplyTarget } from './plan.js';

/**
 * Brings `workspace` to the request's configuration, changing only what differs: one PATCH with
 * the fields that differ (none: no PATCH), then the managed variables (managed-env.ts). A VPN
 * config is sent only when it differs, since sending it restarts the VPN service on every replica.
 * Returns `updated` with what changed, or `unchanged`. Throws ConfigError for a VPN config
 * Codesphere refuses, WorkspaceGoneError when the workspace vanished (a teardown raced this run),
 * ApiError otherwise.
 */
export async function updateWorkspace(
  client: CodesphereApi,
  request: DeployRequest,
  target: ApplyTarget,
  workspace: Workspace,
  reporter: Reporter,
): Promise<Applied> {
  const { team, plan } = target;
  reporter.info(`Updating workspace "${workspace.name}" (id ${workspace.id}) in team "${team.name}".`);
  const patch: UpdateWorkspaceBody = {};
  const changes: string[] = [];
  if (workspace.planId !== plan.id) {
    patch.planId = plan.id;
    changes.push(`plan: ${workspace.planId} -> ${plan.id} (${plan.title})`);
  }
  if (workspace.replicas !== request.replicas) {
    patch.replicas = request.replicas;
    changes.push(`replicas: ${workspace.replicas} -> ${request.replicas}`);
  }
  const currentVpn = workspace.vpnConfig ?? null;
  // The request's name is NFC (request/fields.ts); the stored one may not be, and the same name
  // in another Unicode form is no switch (a switch restarts the VPN service).
  if ((currentVpn?.normalize('NFC') ?? null) !== request.vpnConfig) {
    patch.vpnConfig = request.vpnConfig;
    changes.push(`vpnConfig: ${currentVpn ?? '(none)'} -> ${request.vpnConfig ?? '(none)'}`);
    reporter.info(
      `Switching VPN config: ${currentVpn ?? '(none)'} -> ${request.vpnConfig ?? '(none)'}. ` +
        'The VPN service restarts on every replica (a brief interruption of private connectivity).',
    );
  }
  if (request.restricted !== undefined && workspace.restricted !== request.restricted) {
    patch.restricted = request.restricted;
    changes.push(`restricted: ${workspace.restricted} -> ${request.restricted}`);
  }
  if (request.baseImage !== undefined && workspace.baseImage !== request.baseImage) {
    patch.baseImage = request.baseImage;
    changes.push(`baseImage: ${workspace.baseImage ?? '(default)'} -> ${request.baseImage}`);
  }
  if (Object.keys(patch).length > 0) {
    try {
      // A 404 is the workspace itself gone since the run listed it (a teardown raced this run):
      // WorkspaceGoneError, not a DeploymentError that calls a deleted workspace "left in place".
      await notFoundAsWorkspaceGone(workspace.id, () => client.updateWorkspace(workspace.id, patch));
    } catch (err: unknown) {
      throw rewriteVpnConfigError(err, request.vpnConfig, team.name);
    }
  }

  // Also with an empty env: variables an earlier run set may have to go. A removal is a change
  // like a new value (the pipeline restarts), since running processes keep the environment they
  // started with. A 404 here means a teardown raced this run (WorkspaceGoneError, nothing left).
  changes.push(
    ...(await notFoundAsWorkspaceGone(workspace.id, () =>
      syncManagedEnv(client, workspace.id, request.env, reporter),
    )),
  );
  const updated: Workspace = {
    ...workspace,
    planId: plan.id,
    replicas: request.replicas,
    vpnConfig: request.vpnConfig,
    ...(patch.restricted !== undefined ? { restricted: patch.restricted } : {}),
    ...(patch.baseImage !== undefined ? { baseImage: patch.baseImage } : {}),
  };
  if (changes.length === 0) {
    reporter.info('Workspace configuration unchanged.');
    return { kind: 'unchanged', workspace: updated };
  }
  reporter.info(`Changed: ${changes.join('; ')}`);
  return { kind: 'updated', workspace: updated, changes };
}
