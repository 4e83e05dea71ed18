import type { CodesphereClient, CreateWorkspaceBody, UpdateWorkspaceBody } from './codesphere/client.js';
import type { Plan, Team, Workspace } from './codesphere/schemas.js';
import { ApiError } from './errors.js';
import type { Reporter } from './reporter.js';
import type { DeployRequest } from './request.js';
import { rewriteVpnConfigError } from './resolve.js';

/**
 * Bringing the workspace to the requested configuration: create it, or change only what
 * differs. Creating is the one call that must never be repeated blindly (a second POST after
 * a lost response would make a second workspace, were names not unique, or fail with a
 * misleading error): every doubt is settled by looking the name up.
 */

const NAME_TAKEN = /already has a workspace with the given name/i;
const MAX_CREATE_ATTEMPTS = 3;

export function findByName(workspaces: Workspace[], name: string): Workspace | undefined {
  // Lowest id first: when a race ever left two, every run converges on the same one.
  return workspaces.filter((w) => w.name === name).sort((a, b) => a.id - b.id)[0];
}

export interface Applied {
  workspace: Workspace;
  action: 'created' | 'updated';
  changes: string[];
}

export async function createWorkspace(
  client: CodesphereClient,
  request: DeployRequest,
  team: Team,
  plan: Plan,
  reporter: Reporter,
): Promise<Applied> {
  const body: CreateWorkspaceBody = {
    teamId: team.id,
    name: request.workspaceName,
    planId: plan.id,
    isPrivateRepo: request.isPrivateRepo,
    replicas: request.replicas,
    gitUrl: request.gitUrl,
    ...(request.branch ? { initialBranch: request.branch } : {}),
    ...(request.cloneDepth !== undefined ? { cloneDepth: request.cloneDepth } : {}),
    ...(request.baseImage ? { baseImage: request.baseImage } : {}),
    ...(request.vpnConfig ? { vpnConfig: request.vpnConfig } : {}),
    ...(request.restricted !== undefined ? { restricted: request.restricted } : {}),
    ...(request.env.length > 0 ? { env: request.env } : {}),
  };
  const describe = [
    `plan ${plan.title}${plan.characteristics.onDemand ? ' (on demand)' : ''}`,
    `${request.replicas} replica${request.replicas === 1 ? '' : 's'}`,
    request.vpnConfig ? `VPN config ${request.vpnConfig}` : 'no VPN',
    `branch ${request.branch ?? '(default)'}`,
  ].join(', ');
  reporter.info(`Creating workspace "${request.workspaceName}" in team "${team.name}": ${describe}`);

  for (let attempt = 1; ; attempt++) {
    try {
      const workspace = await client.createWorkspace(body);
      reporter.info(`Created workspace ${workspace.id}.`);
      return { workspace, action: 'created', changes: [] };
    } catch (err: unknown) {
      const rewritten = rewriteVpnConfigError(err, request.vpnConfig, team.name);
      if (rewritten !== err) throw rewritten;
      if (!(err instanceof ApiError)) throw err;
      const nameTaken = err.status === 400 && NAME_TAKEN.test(`${err.title ?? ''} ${err.detail ?? ''}`);
      const doubtful = err.kind === 'network' || (err.status !== undefined && err.status >= 500);
      if (!nameTaken && !doubtful) throw err;
      // Either another run created it first (adopt it) or our create may have happened without
      // us hearing back: the name decides.
      const found = findByName(await client.listWorkspaces(team.id), request.workspaceName);
      if (found) {
        if (nameTaken) {
          reporter.info(
            `Workspace "${request.workspaceName}" was created concurrently (id ${found.id}): updating it instead.`,
          );
          return updateWorkspace(client, request, team, plan, found, reporter);
        }
        reporter.warning(
          `The create's response was lost (${err.message}); found workspace ${found.id} by name: using it.`,
        );
        return { workspace: found, action: 'created', changes: [] };
      }
      if (nameTaken || attempt >= MAX_CREATE_ATTEMPTS) throw err;
      reporter.warning(
        `Creating the workspace failed (${err.message}) and no workspace of that name exists: trying again.`,
      );
    }
  }
}

export async function updateWorkspace(
  client: CodesphereClient,
  request: DeployRequest,
  team: Team,
  plan: Plan,
  workspace: Workspace,
  reporter: Reporter,
): Promise<Applied> {
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
  // The request's name is NFC (shared/request.ts); the stored one may not be, and the same name
  // in another Unicode form is no switch (a switch restarts the VPN service).
  if ((currentVpn?.normalize('NFC') ?? null) !== request.vpnConfig) {
    // Never sent unchanged: a vpnConfig in the PATCH restarts the VPN service on every replica.
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
      await client.updateWorkspace(workspace.id, patch);
    } catch (err: unknown) {
      throw rewriteVpnConfigError(err, request.vpnConfig, team.name);
    }
  }

  if (request.env.length > 0) {
    const current = new Map((await client.listEnvVars(workspace.id)).map((v) => [v.name, v.value]));
    const changed = request.env.filter((v) => current.get(v.name) !== v.value);
    if (changed.length > 0) {
      await client.setEnvVars(workspace.id, changed);
      // Names only: values may be secrets.
      changes.push(`env: ${changed.length} set (${changed.map((v) => v.name).join(', ')})`);
    }
  }
  if (changes.length === 0) reporter.info('Workspace configuration unchanged.');
  else reporter.info(`Changed: ${changes.join('; ')}`);
  const updated: Workspace = {
    ...workspace,
    planId: plan.id,
    replicas: request.replicas,
    vpnConfig: request.vpnConfig,
    ...(patch.restricted !== undefined ? { restricted: patch.restricted } : {}),
    ...(patch.baseImage !== undefined ? { baseImage: patch.baseImage } : {}),
  };
  return { workspace: updated, action: 'updated', changes };
}
