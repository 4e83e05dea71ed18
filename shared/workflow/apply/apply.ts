import type { CodesphereApi, CreateWorkspaceBody, UpdateWorkspaceBody } from '../../codesphere/api.js';
import type { Plan, Team, Workspace } from '../../codesphere/schemas.js';
import { describeError } from '../../errors.js';
import { ApiError, CodesphereDeployError } from '../../errors.js';
import { envForCreate, syncManagedEnv } from '../managed-env.js';
import { onWorkspace } from '../pipeline.js';
import type { Reporter } from '../../reporter.js';
import type { DeployRequest, EnvVar } from '../../request/request.js';
import { rewriteVpnConfigError } from '../resolve.js';

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

/**
 * Creates the request's workspace (POST /workspaces) with its `env` and the managed-variables
 * record in the body; `carriedEnv` adds variables kept from a workspace this one replaces (the
 * zero-downtime switch), unrecorded. A lost or doubtful create is settled by the name; a name
 * another run took first is adopted and updated. Throws ConfigError for a VPN config Codesphere
 * refuses, ApiError otherwise.
 */
export async function createWorkspace(
  client: CodesphereApi,
  request: DeployRequest,
  team: Team,
  plan: Plan,
  reporter: Reporter,
  carriedEnv: readonly EnvVar[] = [],
): Promise<Applied> {
  const env = envForCreate(request.env, carriedEnv);
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
    // The declared variables, each with its marker (shared/workflow/managed-env.ts): no extra call.
    ...(env.length > 0 ? { env } : {}),
  };
  const describe = [
    `plan ${plan.title}${plan.characteristics.onDemand ? ' (on demand)' : ''}`,
    `${request.replicas} replica${request.replicas === 1 ? '' : 's'}`,
    request.vpnConfig ? `VPN config ${request.vpnConfig}` : 'no VPN',
    `branch ${request.branch ?? '(default)'}`,
  ].join(', ');
  reporter.info(`Creating workspace "${request.workspaceName}" in team "${team.name}": ${describe}`);

  /** The error of a create that got no answer and whose workspace was not found (yet). */
  let unanswered: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const workspace = await client.createWorkspace(body);
      reporter.info(`Created workspace ${workspace.id}.`);
      return { workspace, action: 'created', changes: [] };
    } catch (err: unknown) {
      // A retry refused (the budget) after a create that got no answer: that one may still land.
      if (unanswered !== undefined && !(err instanceof ApiError))
        throw mayExist(request, team, unanswered, undefined, err);
      const rewritten = rewriteVpnConfigError(err, request.vpnConfig, team.name);
      if (rewritten !== err) throw rewritten;
      if (!(err instanceof ApiError)) throw err;
      const nameTaken = err.status === 400 && NAME_TAKEN.test(`${err.title ?? ''} ${err.detail ?? ''}`);
      const doubtful = err.kind === 'network' || (err.status !== undefined && err.status >= 500);
      if (!nameTaken && !doubtful) throw err;
      // Either another run created it first (adopt it) or our create may have happened without
      // us hearing back: the name decides.
      let listed: Workspace[];
      try {
        listed = await client.listWorkspaces(team.id);
      } catch (checkErr: unknown) {
        throw doubtful ? mayExist(request, team, err.message, checkErr) : checkErr;
      }
      const found = findByName(listed, request.workspaceName);
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
      if (nameTaken) throw err;
      if (attempt >= MAX_CREATE_ATTEMPTS)
        throw doubtful ? mayExist(request, team, err.message, undefined) : err;
      unanswered = err.message;
      reporter.warning(
        `Creating the workspace failed (${err.message}) and no workspace of that name exists: trying again.`,
      );
    }
  }
}

/**
 * A create that got no clear answer, and no proof either way: the workspace may exist now or land
 * later. Says so with the name that finds it, and what settles it (runs adopt a workspace by name).
 */
function mayExist(
  request: DeployRequest,
  team: Team,
  createError: string,
  checkError: unknown,
  cause: unknown = checkError,
): CodesphereDeployError {
  const check =
    checkError === undefined
      ? 'no workspace of that name was found yet'
      : `whether it was created could not be checked (${describeError(checkError)})`;
  return new CodesphereDeployError(
    `Creating workspace "${request.workspaceName}" in team "${team.name}" got no clear answer (${createError}), and ${check}. ` +
      'It may exist or appear shortly: the next run of this job adopts it by name (never a second one); a teardown removes it.',
    { cause },
  );
}

export async function updateWorkspace(
  client: CodesphereApi,
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
  // The request's name is NFC (shared/request/request.ts); the stored one may not be, and the same name
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

  // Also with an empty env: variables an earlier run set may have to go. A removal is a change
  // like a new value (the pipeline restarts), since running processes keep the environment they
  // started with. A 404 here means a teardown raced this run (WorkspaceGoneError, nothing left).
  changes.push(
    ...(await onWorkspace(workspace.id, () => syncManagedEnv(client, workspace.id, request.env, reporter))),
  );
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
