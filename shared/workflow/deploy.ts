import { errorMessage } from '../errors.js';
import { askChangeRequestState, changeRequestLabel, stateCheckCapMs } from './change-request.js';
import { createWorkspace } from './apply/create.js';
import { changesOf, planApply, type Applied, type ApplyTarget } from './apply/plan.js';
import { updateWorkspace } from './apply/update.js';
import type { Plan, Team } from '../codesphere/schemas.js';
import type { JobInput } from '../request/job-input.js';
import type { DeployResult, TeardownResult, Timings } from './results.js';
import type { CoreDeps } from './deps.js';
import {
  ConfigError,
  DeployCancelledError,
  DeploymentError,
  WorkspaceGoneError,
  type LeftWorkspace,
} from '../errors.js';
import { waitUntilRunning, notFoundAsWorkspaceGone, type WaitContext } from './pipeline.js';
import type { Reporter } from '../reporter.js';
import { runHealthCheck, type PassedHealthCheck } from './health-check.js';
import { resolvePlan, resolveTeam } from './resolve.js';
import { openSession, type Session } from './session.js';
import { deleteByName } from './teardown.js';
import { requirePassed, runVpnCheck, VPN_CHECK_NOT_ASKED, type DeployedVpnCheck } from './vpn-check.js';
import { settleInterruptedSwitch, zeroDowntimeSwitch } from './apply/zero-downtime.js';
import { checkServices, isLandscapeStatus, runPipeline, wantsLandscape } from './landscape.js';
import type { StageReplica } from '../codesphere/schemas.js';
import { onDeleteHook, privateDataPhase, replicaUnits, serviceUnits, vpnPoolPhase } from './private-data.js';
import { runOnDelete } from './preview-hooks.js';

/**
 * `deploy`: one preview workspace per change request, created or brought up to date, its
 * pipeline run, optionally its VPN verified from inside. Phases (each a Reporter group):
 * resolve -> apply (plan: create | update | switch) -> wait -> prepare -> run -> VPN check ->
 * health check. Input errors surface before anything is created; after the workspace exists,
 * failures are DeploymentErrors that say which workspace is left.
 * With the adapter's ChangeRequests port the deploy asks whether its change request is still open
 * before it creates anything and right before it reports success (and when it fails after
 * creating): closed ends it with DeployCancelledError after deleting the preview's workspaces.
 * Without the port, teardown's re-checks and prune are what remain.
 */
export async function deploy(
  input: JobInput,
  reporter: Reporter,
  deps?: Partial<CoreDeps>,
): Promise<DeployResult> {
  const session = await openSession(input, 'deploy', reporter, deps);
  const { request, client } = session;
  const timings: Timings = {};
  const clock = stopwatch(session, timings);

  const { team, plan } = await clock.phase('resolve', () =>
    reporter.group('Resolve team, plan and VPN config', () => resolveTeamAndPlan(session)),
  );
  await stopIfClosed(session, team, 'start');
  // The gateway's address pool, counted before anything is created or scaled up (vpn-pool.ts).
  // The addresses this preview will hold: one per replica, of every named service in a landscape.
  const wanted = request.serviceReplicas
    ? Object.values(request.serviceReplicas).reduce((sum, n) => sum + n, 0)
    : request.replicas;
  const vpnPool = await vpnPoolPhase(session, team, wanted);

  const applied = await clock.phase('apply', () =>
    reporter.group(`Create or update workspace "${session.workspaceName}"`, async (): Promise<Applied> => {
      // First what an interrupted zero-downtime switch left: adopted or removed, never a third workspace.
      const existing = await settleInterruptedSwitch(session, team, await client.listWorkspaces(team.id));
      const target: ApplyTarget = { name: session.workspaceName, team, plan };
      const step = planApply(request, existing);
      switch (step.kind) {
        case 'create':
          return createWorkspace(client, request, target, reporter);
        case 'switch':
          return zeroDowntimeSwitch(session, team, plan, step.existing);
        case 'update':
          try {
            return await updateWorkspace(client, request, target, step.existing, reporter);
          } catch (err: unknown) {
            if (err instanceof ConfigError) throw err; // nothing was changed: an input error, not a half deploy
            const { id, name } = step.existing;
            throw leftBehind(err, { workspaceId: id, name, teamName: team.name });
          }
      }
    }),
  );

  const workspace = applied.workspace;
  const action = applied.kind === 'created' ? 'created' : 'updated';
  const left: LeftWorkspace = { workspaceId: workspace.id, name: workspace.name, teamName: team.name };
  try {
    // A zero-downtime switch already brought the new workspace up and checked it.
    const finished =
      applied.kind === 'switched'
        ? { vpnCheck: applied.vpnCheck, services: applied.services }
        : await finishDeployment(session, applied, clock);
    // A landscape's checks run per service replica (landscape.ts checkServices).
    const running = 'landscape' in finished ? finished.landscape : undefined;
    const services =
      'services' in finished
        ? finished.services
        : running
          ? await clock.phase('checks', () =>
              checkServices(session, workspace.id, workspace.devDomain ?? '', running, {
                client,
                reporter,
                deps: session.deps,
                deadline: session.deadline,
              }),
            )
          : undefined;
    const vpnCheck: DeployedVpnCheck =
      services && request.vpnCheck
        ? { status: 'passed', target: request.vpnCheck.label, output: '' }
        : finished.vpnCheck;
    // Private targets from every service replica, then onCreate once per workspace (private-data.ts).
    const privateData = await clock.phase('privateData', () =>
      privateDataPhase(
        session,
        workspace,
        services ? serviceUnits(services) : replicaUnits(request.replicas),
      ),
    );
    const healthCheck = services ? undefined : await healthCheckPhase(session, applied.workspace.id, clock);
    // No re-read of the team's workspaces here: every call above went to this workspace and a
    // 404 from any of them is WorkspaceGoneError (pipeline.ts notFoundAsWorkspaceGone), names are unique per
    // team (createWorkspace refuses a taken one), and the URL came with the workspace. After the
    // last call and before anything reports the preview ready: a close that landed while we
    // worked (its teardown may have found nothing yet) is settled here.
    const final = workspace;
    await stopIfClosed(session, team, 'end');
    timings.total = session.deps.clock.now() - session.startedAt;
    const url = final.devDomain ? `https://${final.devDomain}` : '';
    reporter.info(
      `Preview ${action}: ${url || `workspace ${final.id}`} (${Math.round(timings.total / 100) / 10} s).`,
    );
    return {
      workspaceId: final.id,
      name: final.name,
      url,
      vpnConfig: request.vpnConfig,
      action,
      changes: changesOf(applied),
      vpnCheck,
      ...(healthCheck ? { healthCheck } : {}),
      ...(services ? { services } : {}),
      ...privateData,
      ...(vpnPool ? { vpnPool } : {}),
      timings,
    };
  } catch (err: unknown) {
    // Our workspace vanished (most likely the close's teardown), or the deploy failed after
    // creating it: a close may have landed meanwhile, its teardown finding nothing yet. If so,
    // finish its job (no workspace may outlive the close, failed or not) and say what happened.
    if (!(err instanceof DeployCancelledError)) {
      try {
        await stopIfClosed(session, team, err instanceof WorkspaceGoneError ? 'gone' : 'failed');
      } catch (settled: unknown) {
        if (settled instanceof DeployCancelledError) throw settled;
        // The clean-up itself failed: the deploy's own error says what is left.
        session.reporter.warning(
          `Could not remove the preview of the closed change request: ${errorMessage(settled)}`,
        );
      }
    }
    throw leftBehind(err, left);
  }
}

/**
 * Asks whether the change request is still open; if it is closed, deletes every workspace of the
 * preview (as a teardown would) and throws DeployCancelledError. Open or unknown: returns. Branch
 * previews have no change request and are never stopped here.
 */
async function stopIfClosed(
  session: Session,
  team: Team,
  moment: 'start' | 'end' | 'gone' | 'failed',
): Promise<void> {
  const { request, reporter, deps } = session;
  const number = request.changeNumber;
  if (number === undefined) return stopIfBranchDeleted(session, team, moment);
  const label = changeRequestLabel(request.platform, number);
  if (!deps.changeRequests) {
    if (moment === 'start')
      reporter.info(
        `Not checking whether ${label} is still open (no platform token): if it is closed while this deploy runs, ` +
          "the close's teardown or a later prune removes the preview.",
      );
    return;
  }
  const cap = stateCheckCapMs(session.deadline, deps.clock.now());
  const state = await askChangeRequestState(deps, reporter, label, number, cap);
  if (state !== 'closed') return;
  const { removed, what } = await removePreview(session, team);
  const Label = label.charAt(0).toUpperCase() + label.slice(1);
  const message =
    moment === 'start'
      ? `${Label} is closed: nothing deployed, ${what}.`
      : moment === 'failed'
        ? `${Label} was closed while this deploy ran (the deploy failed too): ${what}; the preview is not reported ready.`
        : `${Label} was closed while this deploy ran: ${what}; the preview is not reported ready.`;
  throw new DeployCancelledError(message, label, removed);
}

/**
 * Deletes the preview's workspaces (a change request closed or a branch deleted under the deploy)
 * and says what that did: `removed` for DeployCancelledError, `what` for its message.
 */
async function removePreview(
  session: Session,
  team: Team,
): Promise<{ removed: TeardownResult; what: string }> {
  const name = session.workspaceName;
  const hook = onDeleteHook(session.request, name);
  const deletedId = await deleteByName(session.client, team.id, name, session.reporter, (w) =>
    runOnDelete(session.client, session.reporter, session.deps, session.deadline, w, hook),
  );
  const removed: TeardownResult = {
    name,
    ...(deletedId === undefined ? {} : { workspaceId: deletedId }),
    deleted: deletedId !== undefined,
  };
  const what =
    deletedId === undefined
      ? `no workspace "${name}" exists`
      : `deleted its workspace "${name}" (id ${deletedId})`;
  return { removed, what };
}

/**
 * The branch-preview counterpart of stopIfClosed: a push that deletes the branch tears its preview
 * down, and a create that lands after that teardown would survive for good (prune never touches
 * branch previews). So, where the adapter can ask, a deploy whose branch no longer exists deletes
 * the preview's workspaces and throws DeployCancelledError. No port, no branch, or no answer: returns.
 */
async function stopIfBranchDeleted(
  session: Session,
  team: Team,
  moment: 'start' | 'end' | 'gone' | 'failed',
): Promise<void> {
  const { request, reporter, deps } = session;
  const branch = request.branch;
  const ask = deps.changeRequests?.branchExists?.bind(deps.changeRequests);
  if (!branch || !ask) return;
  let exists: boolean;
  try {
    exists = await ask(branch);
  } catch (err: unknown) {
    reporter.warning(`Could not check whether branch "${branch}" still exists: ${errorMessage(err)}`);
    return;
  }
  if (exists) return;
  const { removed, what } = await removePreview(session, team);
  const message =
    moment === 'start'
      ? `Branch "${branch}" no longer exists: nothing deployed, ${what}.`
      : `Branch "${branch}" was deleted while this deploy ran: ${what}; the preview is not reported ready.`;
  throw new DeployCancelledError(message, `branch "${branch}"`, removed);
}

async function resolveTeamAndPlan(session: Session): Promise<{ team: Team; plan: Plan }> {
  const { client, request, reporter } = session;
  // Both lookups run even when one fails, so every unknown name is reported at once.
  const [team, plan] = await Promise.allSettled([
    resolveTeam(client, request.team),
    // The plan's replica limit applies per service: the largest count must fit.
    resolvePlan(
      client,
      request.plan,
      request.onDemand,
      Math.max(request.replicas, ...Object.values(request.serviceReplicas ?? {})),
    ),
  ]);
  if (team.status === 'rejected' || plan.status === 'rejected') {
    const failures: unknown[] = [];
    for (const r of [team, plan]) if (r.status === 'rejected') failures.push(r.reason);
    const configErrors = failures.filter((f): f is ConfigError => f instanceof ConfigError);
    if (configErrors.length === failures.length) throw new ConfigError(configErrors.flatMap((f) => f.issues));
    throw failures.find((f) => !(f instanceof ConfigError));
  }
  reporter.info(
    `Team "${team.value.name}" (id ${team.value.id}); plan ${plan.value.title} (id ${plan.value.id}${plan.value.characteristics.onDemand ? ', on demand' : ''}); ` +
      `VPN config: ${request.vpnConfig ?? '(none)'}${request.vpnConfig ? ' (Codesphere checks the name when it is applied)' : ''}.`,
  );
  return { team: team.value, plan: plan.value };
}

/**
 * Brings a created or updated workspace up: waits until it runs; after an update pulls the branch
 * (skipped when nothing changed and the commit already runs); runs prepare, then run; then the
 * VPN check.
 */
async function finishDeployment(
  session: Session,
  applied: Exclude<Applied, { kind: 'switched' }>,
  clock: Stopwatch,
): Promise<{ vpnCheck: DeployedVpnCheck; landscape?: StageReplica[] | undefined }> {
  const { client, request, reporter, deps, deadline } = session;
  const id = applied.workspace.id;
  const ctx: WaitContext = { client, reporter, deps, deadline };

  await clock.phase('provision', () =>
    reporter.group('Wait for the workspace to run', async () => {
      await waitUntilRunning(ctx, id);
      reporter.info(`Workspace ${id} is running.`);
    }),
  );

  if (applied.kind !== 'created') {
    const upToDate = await clock.phase('pull', () =>
      reporter.group(`Update the code (${request.branch ?? 'default branch'})`, async () => {
        if (applied.kind === 'unchanged' && request.commit) {
          const running = await alreadyDeployed(ctx, id, request.commit);
          if (running) {
            reporter.info(
              `Already at ${request.commit.slice(0, 12)} with the run stage running and nothing changed: no restart needed.`,
            );
            return running;
          }
        }
        await notFoundAsWorkspaceGone(id, () => client.gitPull(id, 'origin', request.branch ?? ''));
        reporter.info(`Pulled origin/${request.branch ?? ''}.`);
        return undefined;
      }),
    );
    if (upToDate) {
      if (wantsLandscape(request) || isLandscapeStatus(upToDate))
        return { vpnCheck: VPN_CHECK_NOT_ASKED, landscape: upToDate };
      return { vpnCheck: await vpnCheckPhase(session, id, clock) };
    }
  }

  // The requested stages, each with the profile; a landscape is deployed (and scaled) before run.
  const landscape = await runPipeline(session, id, ctx, (name, fn) => clock.phase(name, fn));
  if (landscape) return { vpnCheck: VPN_CHECK_NOT_ASKED, landscape };
  return { vpnCheck: await vpnCheckPhase(session, id, clock) };
}

/** The run stage's status when the workspace is at `commit` and run is running on every replica. */
async function alreadyDeployed(
  ctx: WaitContext,
  id: number,
  commit: string,
): Promise<StageReplica[] | undefined> {
  const head = await notFoundAsWorkspaceGone(id, () => ctx.client.gitHead(id));
  if (!head.head.toLowerCase().startsWith(commit)) return undefined;
  const run = await notFoundAsWorkspaceGone(id, () => ctx.client.pipelineStatus(id, 'run'));
  return run.length > 0 && run.every((r) => r.state === 'running') ? run : undefined;
}

async function vpnCheckPhase(
  session: Session,
  workspaceId: number,
  clock: Stopwatch,
): Promise<DeployedVpnCheck> {
  const { request, reporter, client, deps, deadline } = session;
  const target = request.vpnCheck;
  if (!target) return VPN_CHECK_NOT_ASKED;
  return clock.phase('vpnCheck', () =>
    reporter.group(`VPN check: ${target.label}`, async () =>
      requirePassed(
        await runVpnCheck(
          {
            client,
            reporter,
            deps,
            deadline,
            workspaceId,
            replicas: request.replicas,
            vpnConfig: request.vpnConfig,
          },
          target,
        ),
      ),
    ),
  );
}

/** The app answers on every replica before the preview is called ready (health-check.ts). */
async function healthCheckPhase(
  session: Session,
  workspaceId: number,
  clock: Stopwatch,
): Promise<PassedHealthCheck | undefined> {
  const { request, reporter, client, deps, deadline } = session;
  const target = request.healthCheck;
  if (!target) return undefined;
  return clock.phase('health', () =>
    reporter.group(`Health check: ${target.label}`, () =>
      runHealthCheck({ client, reporter, deps, deadline, workspaceId, replicas: request.replicas }, target),
    ),
  );
}

function leftBehind(err: unknown, left: LeftWorkspace): unknown {
  if (
    err instanceof WorkspaceGoneError ||
    err instanceof DeploymentError ||
    err instanceof DeployCancelledError
  )
    return err;
  const reason = errorMessage(err);
  return new DeploymentError(`Deployment failed: ${reason}`, left, { cause: err });
}

interface Stopwatch {
  phase<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

function stopwatch(session: Session, timings: Timings): Stopwatch {
  return {
    async phase(name, fn) {
      const start = session.deps.clock.now();
      try {
        return await fn();
      } finally {
        timings[name] = session.deps.clock.now() - start;
      }
    },
  };
}
