import type { CodesphereApi, CreateWorkspaceBody } from '../../codesphere/api.js';
import { isNameTaken } from '../../codesphere/problems.js';
import type { Workspace } from '../../codesphere/schemas.js';
import { ApiError, CodesphereDeployError, describeError } from '../../errors.js';
import type { Reporter } from '../../reporter.js';
import type { DeployRequest, EnvVar } from '../../request/schema.js';
import { envForCreate } from '../managed-env.js';
import { rewriteVpnConfigError } from '../resolve.js';
import { findByName, type Applied, type ApplyTarget } from './plan.js';
import { updateWorkspace } from './update.js';

/**
 * Creating is the one call that must never be repeated blindly (a second POST after a lost
 * response would make a second workspace, were names not unique, or fail with a misleading
 * error): every doubt is settled by looking the name up.
 */
const MAX_CREATE_ATTEMPTS = 3;

/**
 * Creates the workspace `target.name` (POST /workspaces) with the request's `env` and the
 * managed-variables markers in the body; `carriedEnv` adds variables kept from a workspace this
 * one replaces (the zero-downtime switch), unmarked. A lost or doubtful create is settled by the
 * name; a name another run took first is adopted and updated (`updated` or `unchanged`).
 * Returns `created` otherwise. Throws ConfigError for a VPN config Codesphere refuses, a
 * CodesphereDeployError when the create got no clear answer and its workspace was not found,
 * ApiError otherwise.
 */
export async function createWorkspace(
  client: CodesphereApi,
  request: DeployRequest,
  target: ApplyTarget,
  reporter: Reporter,
  carriedEnv: readonly EnvVar[] = [],
): Promise<Applied> {
  const { name, team, plan } = target;
  const env = envForCreate(request.env, carriedEnv);
  const body: CreateWorkspaceBody = {
    teamId: team.id,
    name,
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
  reporter.info(`Creating workspace "${name}" in team "${team.name}": ${describe}`);

  /** The error of a create that got no answer and whose workspace was not found (yet). */
  let unanswered: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const workspace = await client.createWorkspace(body);
      reporter.info(`Created workspace ${workspace.id}.`);
      return { kind: 'created', workspace };
    } catch (err: unknown) {
      // A retry refused (the budget) after a create that got no answer: that one may still land.
      if (unanswered !== undefined && !(err instanceof ApiError))
        throw mayExist(target, unanswered, undefined, err);
      const rewritten = rewriteVpnConfigError(err, request.vpnConfig, team.name);
      if (rewritten !== err) throw rewritten;
      if (!(err instanceof ApiError)) throw err;
      const nameTaken = isNameTaken(err);
      const doubtful = err.kind !== 'http' || (err.status !== undefined && err.status >= 500);
      if (!nameTaken && !doubtful) throw err;
      // Either another run created it first (adopt it) or our create may have happened without
      // us hearing back: the name decides.
      let listed: Workspace[];
      try {
        listed = await client.listWorkspaces(team.id);
      } catch (checkErr: unknown) {
        throw doubtful ? mayExist(target, err.message, checkErr) : checkErr;
      }
      const found = findByName(listed, name);
      if (found) {
        if (nameTaken) {
          reporter.info(
            `Workspace "${name}" was created concurrently (id ${found.id}): updating it instead.`,
          );
          return updateWorkspace(client, request, target, found, reporter);
        }
        reporter.warning(
          `The create's response was lost (${err.message}); found workspace ${found.id} by name: using it.`,
        );
        return { kind: 'created', workspace: found };
      }
      if (nameTaken) throw err;
      if (attempt >= MAX_CREATE_ATTEMPTS) throw doubtful ? mayExist(target, err.message, undefined) : err;
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
  target: ApplyTarget,
  createError: string,
  checkError: unknown,
  cause: unknown = checkError,
): CodesphereDeployError {
  const check =
    checkError === undefined
      ? 'no workspace of that name was found yet'
      : `whether it was created could not be checked (${describeError(checkError)})`;
  return new CodesphereDeployError(
    `Creating workspace "${target.name}" in team "${target.team.name}" got no clear answer (${createError}), and ${check}. ` +
      'It may exist or appear shortly: the next run of this job adopts it by name (never a second one); a teardown removes it.',
    { cause },
  );
}
