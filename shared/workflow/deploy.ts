import { errorMessage } from '../errors.js';
import {
  askChangeRequestState,
  changeRequestLabel,
  stateCheckCapMs,
} from './change-request.js';
import { createWorkspace, updateWorkspace, type Applied } from './apply/apply.js';
import type { Plan, Team, Workspace } from '../codesphere/schemas.js';
import type { JobInput } from '../request/job-input.js';
import type { DeployResult, Timings } from './results.js';
import type { CoreDeps } from './deps.js';
import {
  ConfigError,
  DeployCancelledError,
  DeploymentError,
  WorkspaceGoneError,
  type LeftWorkspace,
} from '../errors.js';
import {
  DELETED_BY,
  runStage,
  waitUntilRunning,
  onWorkspace,
  type WaitContext,
} from './pipeline.js';
import type { Reporter } from '../reporter.js';
import { runStageWithLogs } from './stage-logs.js';
import { runHealthCheck, type HealthCheckOutcome } from './health-check.js';
import { resolvePlan, resolveTeam } from './resolve.js';
import { openSession, type Session } from './session.js';
import { deleteByName } from './teardown.js';
import { runVpnCheck, type VpnCheckOutcome } from './vpn-check.js';
import {
  settleInterruptedSwitch,
  wantsZeroDowntimeSwitch,
  zeroDowntimeSwitch,
  type SwitchOutcome,
} from './apply/zero-downtime.js';

/**
 * `deploy`: one preview workspace per change request, created or brought up to date, its
 * pipeline run, optionally its VPN verified from inside. Phases (each a Reporter group):
 * resolve -> apply (create | update) -> wait -> prepare -> run -> VPN check.
 * Input errors surface before anything is created. After the workspace exists, failures are
 * DeploymentErrors that say which workspace is left and what happens to it.
 *
 * A close of the change request can race the deploy (teardown runs while the create is still in
 * flight, or after it). With the adapter's ChangeRequests port the deploy asks the platform twice:
 * before it creates anything and after the last look at its workspace, right before it reports
 * success (and once more if its workspace vanished or the deploy failed after creating it). A
 * closed change request then ends the deploy with a DeployCancelledError after it deleted the
 * preview's workspaces: the end state is no workspace, and nothing reports the preview ready. Without the port (no platform token) the
 * teardown's re-checks and prune are what remain; the README's Reliability section says so.
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

  let switched: SwitchOutcome | undefined;
  const applied = await clock.phase('apply', () =>
    reporter.group(`Create or update workspace "${request.workspaceName}"`, async () => {
      // First what an interrupted zero-downtime switch left: adopted or removed, never a third workspace.
      const existing = await settleInterruptedSwitch(session, team, await client.listWorkspaces(team.id));
      if (!existing) return createWorkspace(client, request, team, plan, reporter);
      if (wantsZeroDowntimeSwitch(session, existing)) {
        switched = await zeroDowntimeSwitch(session, team, plan, existing);
        return switched.applied;
      }
      try {
        return await updateWorkspace(client, request, team, plan, existing, reporter);
      } catch (err: unknown) {
        if (err instanceof ConfigError) throw err; // nothing was changed: an input error, not a half deploy
        throw leftBehind(err, { workspaceId: existing.id, name: existing.name, teamName: team.name });
      }
    }),
  );

  const workspace = applied.workspace;
  const left: LeftWorkspace = { workspaceId: workspace.id, name: workspace.name, teamName: team.name };
  try {
    // A zero-downtime switch already brought the new workspace up and checked it.
    const vpnCheck = switched ? switched.vpnCheck : await finishDeployment(session, applied, clock);
    const healthCheck = await healthCheckPhase(session, applied.workspace.id, clock);
    const final = await reporter.group('Confirm the workspace', () => confirm(session, team, workspace));
    // After the last look and before anything reports the preview ready: a close that landed
    // while we worked (its teardown may have found nothing yet) is settled here.
    await stopIfClosed(session, team, 'end');
    timings.total = session.deps.clock.now() - session.startedAt;
    const url = final.devDomain ? `https://${final.devDomain}` : '';
    reporter.info(
      `Preview ${applied.action}: ${url || `workspace ${final.id}`} (${Math.round(timings.total / 100) / 10} s).`,
    );
    return {
      workspaceId: final.id,
      name: final.name,
      url,
      vpnConfig: request.vpnConfig,
      action: applied.action,
      changes: applied.changes,
      ...(vpnCheck ? { vpnCheck } : {}),
      ...(healthCheck ? { healthCheck } : {}),
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
  const { request, reporter, client, deps } = session;
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
  const name = request.workspaceName;
  const deletedId = await deleteByName(client, team.id, name, reporter);
  const removed = {
    name,
    ...(deletedId === undefined ? {} : { workspaceId: deletedId }),
    deleted: deletedId !== undefined,
  };
  const what =
    deletedId === undefined
      ? `no workspace "${name}" exists`
      : `deleted its workspace "${name}" (id ${deletedId})`;
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
  const { request, reporter, client, deps } = session;
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
  const name = request.workspaceName;
  const deletedId = await deleteByName(client, team.id, name, reporter);
  const removed = {
    name,
    ...(deletedId === undefined ? {} : { workspaceId: deletedId }),
    deleted: deletedId !== undefined,
  };
  const what =
    deletedId === undefined
      ? `no workspace "${name}" exists`
      : `deleted its workspace "${name}" (id ${deletedId})`;
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
    resolvePlan(client, request.plan, request.onDemand, request.replicas),
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

async function finishDeployment(
  session: Session,
  applied: Applied,
  clock: Stopwatch,
): Promise<VpnCheckOutcome | undefined> {
  const { client, request, reporter, deps, deadline } = session;
  const id = applied.workspace.id;
  const ctx: WaitContext = { client, reporter, deps, deadline };

  await clock.phase('provision', () =>
    reporter.group('Wait for the workspace to run', async () => {
      await waitUntilRunning(ctx, id);
      reporter.info(`Workspace ${id} is running.`);
    }),
  );

  if (applied.action === 'updated') {
    const upToDate = await clock.phase('pull', () =>
      reporter.group(`Update the code (${request.branch ?? 'default branch'})`, async () => {
        if (
          applied.changes.length === 0 &&
          request.commit &&
          (await alreadyDeployed(ctx, id, request.commit))
        ) {
          reporter.info(
            `Already at ${request.commit.slice(0, 12)} with the run stage running and nothing changed: no restart needed.`,
          );
          return true;
        }
        await onWorkspace(id, () => client.gitPull(id, 'origin', request.branch ?? ''));
        reporter.info(`Pulled origin/${request.branch ?? ''}.`);
        return false;
      }),
    );
    if (upToDate) return vpnCheckPhase(session, applied, clock);
  }

  // No outer group: each prepare step's log is its own group (GitHub groups do not nest).
  await clock.phase('prepare', async () => {
    reporter.info("Pipeline: prepare (its steps' logs follow).");
    await runStageWithLogs(ctx, id, 'prepare', 'success');
    reporter.info('prepare succeeded on every replica.');
  });
  await clock.phase('run', () =>
    reporter.group('Pipeline: run', async () => {
      await runStage(ctx, id, 'run', 'running');
      reporter.info('run is running on every replica.');
    }),
  );
  return vpnCheckPhase(session, applied, clock);
}

async function alreadyDeployed(ctx: WaitContext, id: number, commit: string): Promise<boolean> {
  const head = await onWorkspace(id, () => ctx.client.gitHead(id));
  if (!head.head.toLowerCase().startsWith(commit)) return false;
  const run = await onWorkspace(id, () => ctx.client.pipelineStatus(id, 'run'));
  return run.length > 0 && run.every((r) => r.state === 'running');
}

async function vpnCheckPhase(
  session: Session,
  applied: Applied,
  clock: Stopwatch,
): Promise<VpnCheckOutcome | undefined> {
  const { request, reporter, client, deps, deadline } = session;
  const target = request.vpnCheck;
  if (!target) return undefined;
  return clock.phase('vpnCheck', () =>
    reporter.group(`VPN check: ${target.label}`, () =>
      runVpnCheck(
        {
          client,
          reporter,
          deps,
          deadline,
          workspaceId: applied.workspace.id,
          replicas: request.replicas,
          vpnConfig: request.vpnConfig,
        },
        target,
      ),
    ),
  );
}

/** The app answers on every replica before the preview is called ready (health-check.ts). */
async function healthCheckPhase(
  session: Session,
  workspaceId: number,
  clock: Stopwatch,
): Promise<HealthCheckOutcome | undefined> {
  const { request, reporter, client, deps, deadline } = session;
  const target = request.healthCheck;
  if (!target) return undefined;
  return clock.phase('health', () =>
    reporter.group(`Health check: ${target.label}`, () =>
      runHealthCheck({ client, reporter, deps, deadline, workspaceId, replicas: request.replicas }, target),
    ),
  );
}

/**
 * The last look: the workspace still exists (a teardown may have raced us) and is the only one
 * of its name (should a race ever produce two, every run keeps the lowest id and removes its own).
 */
async function confirm(session: Session, team: Team, workspace: Workspace): Promise<Workspace> {
  const { client, reporter, request } = session;
  const sameName = (await client.listWorkspaces(team.id))
    .filter((w) => w.name === request.workspaceName)
    .sort((a, b) => a.id - b.id);
  const mine = sameName.find((w) => w.id === workspace.id);
  if (!mine)
    throw new WorkspaceGoneError(
      `Workspace ${workspace.id} was deleted while this deploy was running (${DELETED_BY}); nothing is left behind.`,
    );
  const keeper = sameName[0];
  if (keeper && keeper.id !== mine.id) {
    reporter.warning(
      `Two workspaces are named "${mine.name}" (ids ${keeper.id}, ${mine.id}): keeping ${keeper.id}, deleting ${mine.id}.`,
    );
    await client.deleteWorkspace(mine.id);
    return keeper;
  }
  return { ...mine, devDomain: mine.devDomain ?? workspace.devDomain };
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
