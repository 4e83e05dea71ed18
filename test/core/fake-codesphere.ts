/**
 * An in-memory Codesphere for workflow tests: implements the CodesphereApi port
 * (shared/codesphere/api.ts) without HTTP, so a test runs deploy/teardown/prune in milliseconds and
 * asserts on what exists afterwards. It keeps teams, plans, VPN configs per team, workspaces with
 * their variables, git head and pipeline stages; it answers refusals the way the Public API does
 * (the status and detail texts the workflow reads: 404 for a missing workspace, 400 "already has a
 * workspace with the given name", 400 "VPN config '<name>' doesn't exist"). Time comes from a
 * Clock: with a VirtualClock, provisioning and stages that take minutes finish as soon as the
 * workflow's polls have slept that long, which costs no real time.
 *
 * What it does not model (the emulator, emulator/, does): HTTP, retries, latency, tunnels,
 * log streams beyond one line per step.
 */
import type { Clock } from '../../shared/clock.js';
import type {
  CodesphereApi,
  CodesphereApiFactory,
  CreateWorkspaceBody,
  EnvVarValue,
  PipelineStage,
  UpdateWorkspaceBody,
} from '../../shared/codesphere/api.js';
import type { LogEventHandlers, StreamEnd } from '../../shared/codesphere/log-stream.js';
import type {
  ExecuteResult,
  Plan,
  StageReplica,
  StageState,
  Team,
  Workspace,
} from '../../shared/codesphere/schemas.js';
import { ApiError } from '../../shared/errors.js';

/** Virtual time: `sleep` moves `now` forward at once and resolves; nothing waits for real. */
export class VirtualClock implements Clock {
  /** Every sleep asked for, in order (ms). */
  readonly sleeps: number[] = [];
  constructor(private t = Date.parse('2026-11-29T12:00:00Z')) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}

export type Operation = keyof CodesphereApi;

/** One call the workflow made, in order. */
export interface FakeCall {
  op: Operation;
  args: unknown[];
}

interface StageRun {
  startedAt: number;
}

interface Stored {
  workspace: Workspace;
  env: Map<string, string>;
  head: string;
  runningFrom: number;
  stages: Map<PipelineStage, StageRun>;
}

interface Fault {
  op: Operation;
  when: (args: unknown[]) => boolean;
  error: () => Error;
  /** Act first, then fail: a response lost on its way back. */
  afterActing: boolean;
}

export interface FakeOptions {
  clock: Clock;
  /** From create until the workspace runs (ms on the clock); 0: at once. */
  provisionMs?: number;
  /** From a stage's start until it is done (prepare: success; run: running) (ms); 0: at once. */
  stageMs?: number;
}

export const TEAM = { id: 101, name: 'My Team' } as const;

/** What a probe from inside a workspace reaches: host -> the VPN configs whose tunnel leads there. */
export type Reachability = Record<string, string[]>;

export class FakeCodesphere implements CodesphereApi {
  readonly teams: Team[] = [
    { id: TEAM.id, name: TEAM.name, defaultDataCenterId: 2 },
    { id: 102, name: 'Platform Team', defaultDataCenterId: 2 },
  ];
  readonly plans: Plan[] = [
    {
      id: 7,
      title: 'Micro',
      priceUsd: 5,
      deprecated: false,
      characteristics: { onDemand: false },
      maxReplicas: 3,
    },
    {
      id: 8,
      title: 'Boost',
      priceUsd: 20,
      deprecated: false,
      characteristics: { onDemand: false },
      maxReplicas: 3,
    },
    {
      id: 9,
      title: 'Pro',
      priceUsd: 50,
      deprecated: false,
      characteristics: { onDemand: false },
      maxReplicas: 5,
    },
  ];
  /** VPN config names per team id (the Public API cannot list them; create and PATCH check them). */
  readonly vpnConfigs = new Map<number, Set<string>>([[TEAM.id, new Set(['office', 'lab'])]]);
  /** host -> VPN configs that reach it (the VPN check's `ping`/`nc` succeed through those). */
  reach: Reachability = { '10.0.0.5': ['office', 'lab'] };
  /** The commit each branch's tip is at (git pull moves a workspace's head there). */
  readonly branchHeads = new Map<string, string>();
  /** Stages that end in failure, by workspace name and stage. */
  failingStages: Array<{ name: string | RegExp; stage: PipelineStage }> = [];
  readonly calls: FakeCall[] = [];

  private readonly workspaces = new Map<number, Stored>();
  private readonly faults: Fault[] = [];
  private nextId = 5000;
  private readonly clock: Clock;
  private readonly provisionMs: number;
  private readonly stageMs: number;

  constructor(options: FakeOptions) {
    this.clock = options.clock;
    this.provisionMs = options.provisionMs ?? 0;
    this.stageMs = options.stageMs ?? 0;
  }

  /** The factory a test passes as CoreDeps.codesphere: every job talks to this one fake. */
  readonly connect: CodesphereApiFactory = () => this;

  /** The workspaces that exist now, lowest id first (copies). */
  list(): Workspace[] {
    return [...this.workspaces.values()].map((s) => ({ ...s.workspace })).sort((a, b) => a.id - b.id);
  }

  /** Name and VPN config of every workspace: what a test usually asserts on. */
  summary(): string[] {
    return this.list().map((w) => `${w.name} ${w.vpnConfig ?? '(none)'}`);
  }

  envOf(id: number): Record<string, string> {
    return Object.fromEntries(this.stored(id, 'listEnvVars').env);
  }

  /** Calls of one operation (their arguments). */
  callsOf(op: Operation): unknown[][] {
    return this.calls.filter((c) => c.op === op).map((c) => c.args);
  }

  /**
   * The next call of `op` for which `when` holds fails with `error` (`times` calls in all).
   * `afterActing`: the operation takes effect first and only its answer is lost.
   */
  fail(
    op: Operation,
    error: () => Error,
    options: { when?: (args: unknown[]) => boolean; afterActing?: boolean; times?: number } = {},
  ): void {
    for (let i = 0; i < (options.times ?? 1); i++)
      this.faults.push({
        op,
        error,
        when: options.when ?? (() => true),
        afterActing: options.afterActing ?? false,
      });
  }

  // --- CodesphereApi ---------------------------------------------------------------------------

  listTeams(): Promise<Team[]> {
    return this.run('listTeams', [], () => this.teams.map((t) => ({ ...t })));
  }

  listPlans(): Promise<Plan[]> {
    return this.run('listPlans', [], () => this.plans.map((p) => ({ ...p })));
  }

  listWorkspaces(teamId: number): Promise<Workspace[]> {
    return this.run('listWorkspaces', [teamId], () => {
      if (!this.teams.some((t) => t.id === teamId))
        throw notFound('listWorkspaces', `Team ${teamId} not found`);
      return this.list().filter((w) => w.teamId === teamId);
    });
  }

  createWorkspace(body: CreateWorkspaceBody): Promise<Workspace> {
    return this.run('createWorkspace', [body], () => {
      if (!this.teams.some((t) => t.id === body.teamId))
        throw notFound('createWorkspace', `Team ${body.teamId} not found`);
      if (!this.plans.some((p) => p.id === body.planId))
        throw badRequest('createWorkspace', `Plan ${body.planId} does not exist`);
      this.checkName('createWorkspace', body.teamId, body.name);
      if (body.vpnConfig !== undefined) this.checkVpn('createWorkspace', body.teamId, body.vpnConfig);
      const id = this.nextId++;
      const now = this.clock.now();
      const workspace: Workspace = {
        id,
        teamId: body.teamId,
        name: body.name,
        planId: body.planId,
        isPrivateRepo: body.isPrivateRepo,
        replicas: body.replicas,
        ...(body.baseImage ? { baseImage: body.baseImage } : {}),
        dataCenterId: 2,
        gitUrl: body.gitUrl ?? null,
        initialBranch: body.initialBranch ?? null,
        vpnConfig: body.vpnConfig ?? null,
        restricted: body.restricted ?? false,
        devDomain: `${id}-3000.fake.codesphere.test`,
        createdAt: new Date(now).toISOString(),
      };
      this.workspaces.set(id, {
        workspace,
        env: new Map((body.env ?? []).map((v) => [v.name, v.value])),
        head: this.branchHeads.get(body.initialBranch ?? '') ?? '0'.repeat(40),
        runningFrom: now + this.provisionMs,
        stages: new Map(),
      });
      return { ...workspace };
    });
  }

  updateWorkspace(id: number, body: UpdateWorkspaceBody): Promise<void> {
    return this.run('updateWorkspace', [id, body], () => {
      const stored = this.stored(id, 'updateWorkspace');
      const ws = stored.workspace;
      if (body.name !== undefined && body.name !== ws.name)
        this.checkName('updateWorkspace', ws.teamId, body.name);
      if (body.vpnConfig) this.checkVpn('updateWorkspace', ws.teamId, body.vpnConfig);
      if (body.planId !== undefined && !this.plans.some((p) => p.id === body.planId))
        throw badRequest('updateWorkspace', `Plan ${body.planId} does not exist`);
      stored.workspace = {
        ...ws,
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.planId !== undefined ? { planId: body.planId } : {}),
        ...(body.replicas !== undefined ? { replicas: body.replicas } : {}),
        ...(body.baseImage !== undefined ? { baseImage: body.baseImage } : {}),
        ...(body.vpnConfig !== undefined ? { vpnConfig: body.vpnConfig } : {}),
        ...(body.restricted !== undefined ? { restricted: body.restricted } : {}),
      };
    });
  }

  deleteWorkspace(id: number): Promise<void> {
    return this.run('deleteWorkspace', [id], () => {
      this.stored(id, 'deleteWorkspace');
      this.workspaces.delete(id);
    });
  }

  getWorkspaceStatus(id: number): Promise<{ isRunning: boolean }> {
    return this.run('getWorkspaceStatus', [id], () => ({
      isRunning: this.clock.now() >= this.stored(id, 'getWorkspaceStatus').runningFrom,
    }));
  }

  listEnvVars(id: number): Promise<EnvVarValue[]> {
    return this.run('listEnvVars', [id], () =>
      [...this.stored(id, 'listEnvVars').env].map(([name, value]) => ({ name, value })),
    );
  }

  setEnvVars(id: number, vars: EnvVarValue[]): Promise<void> {
    return this.run('setEnvVars', [id, vars], () => {
      const { env } = this.stored(id, 'setEnvVar');
      for (const v of vars) env.set(v.name, v.value);
    });
  }

  deleteEnvVars(id: number, names: string[]): Promise<void> {
    return this.run('deleteEnvVars', [id, names], () => {
      const { env } = this.stored(id, 'deleteEnvVar');
      for (const name of names) env.delete(name);
    });
  }

  gitHead(id: number): Promise<{ head: string }> {
    return this.run('gitHead', [id], () => ({ head: this.stored(id, 'gitHead').head }));
  }

  gitPull(id: number, remote: string, branch: string): Promise<void> {
    return this.run('gitPull', [id, remote, branch], () => {
      const stored = this.stored(id, 'gitPull');
      stored.head = this.branchHeads.get(branch) ?? stored.head;
    });
  }

  startPipelineStage(id: number, stage: PipelineStage, profile?: string): Promise<void> {
    const args = profile === undefined ? [id, stage] : [id, stage, profile];
    return this.run('startPipelineStage', args, () => {
      this.stored(id, 'startPipelineStage').stages.set(stage, { startedAt: this.clock.now() });
    });
  }

  pipelineStatus(id: number, stage: PipelineStage): Promise<StageReplica[]> {
    return this.run('pipelineStatus', [id, stage], () => {
      const stored = this.stored(id, 'pipelineStatus');
      const run = stored.stages.get(stage);
      if (!run) return [];
      const done = this.clock.now() >= run.startedAt + this.stageMs;
      const fails = this.failingStages.some(
        (f) =>
          f.stage === stage &&
          (typeof f.name === 'string'
            ? f.name === stored.workspace.name
            : f.name.test(stored.workspace.name)),
      );
      const state: StageState = !done
        ? 'running'
        : fails
          ? 'failure'
          : stage === 'run'
            ? 'running'
            : 'success';
      return Array.from({ length: stored.workspace.replicas }, (_, r) => ({
        state,
        steps: [{ state }],
        replica: `replica-${r}`,
        server: 'app',
      }));
    });
  }

  executeCommand(id: number, command: string, env?: Record<string, string>): Promise<ExecuteResult> {
    return this.run('executeCommand', [id, command, env], () => {
      const { workspace } = this.stored(id, 'executeCommand');
      // `ping -c 3 -W 2 <host>` or `nc -z -w 3 <host> <port>`: the host is the first token that looks like one.
      const host = command.split(' ').find((t) => t in this.reach);
      const ok =
        host !== undefined &&
        workspace.vpnConfig !== null &&
        (this.reach[host] ?? []).includes(workspace.vpnConfig);
      return {
        command,
        workingDir: '/home/user/app',
        output: ok ? 'reachable' : 'unreachable',
        error: ok ? '' : 'exit status 1',
      };
    });
  }

  followLogs(
    workspaceId: number,
    stage: PipelineStage,
    step: number,
    handlers: LogEventHandlers,
    signal: AbortSignal,
    replica?: string,
  ): Promise<StreamEnd> {
    return this.run('followLogs', [workspaceId, stage, step, replica], () => {
      this.stored(workspaceId, 'logs');
      if (signal.aborted) return 'aborted';
      handlers.onEntries([
        {
          timestamp: new Date(this.clock.now()).toISOString(),
          kind: 'I',
          data: `${stage} step ${step + 1}: done`,
        },
      ]);
      return 'ended';
    });
  }

  /** Single-service workspaces only: a landscape deploy is what Codesphere refuses for them. */
  deployLandscape(id: number, profile?: string): Promise<void> {
    return this.run('deployLandscape', [id, profile], () => {
      this.stored(id, 'deployLandscape');
      throw new ApiError({
        operation: 'deployLandscape',
        kind: 'http',
        status: 400,
        detail: 'Workspace does not support Multi Server Deployments.',
      });
    });
  }

  scaleLandscape(id: number, replicas: Record<string, number>): Promise<void> {
    return this.run('scaleLandscape', [id, replicas], () => {
      this.stored(id, 'scaleLandscapeServices');
      throw new ApiError({
        operation: 'scaleLandscapeServices',
        kind: 'http',
        status: 400,
        detail: 'Workspace does not support Multi Server Deployments.',
      });
    });
  }

  followServerLogs(
    workspaceId: number,
    step: number,
    server: string,
    handlers: LogEventHandlers,
    signal: AbortSignal,
  ): Promise<StreamEnd> {
    return this.followLogs(workspaceId, 'run', step, handlers, signal, server);
  }

  // --- internals -------------------------------------------------------------------------------

  private async run<T>(op: Operation, args: unknown[], act: () => T): Promise<T> {
    this.calls.push({ op, args });
    // Like a network hop: the caller's code after `await` runs later, never synchronously.
    await Promise.resolve();
    const index = this.faults.findIndex((f) => f.op === op && f.when(args));
    const fault = index >= 0 ? this.faults.splice(index, 1)[0] : undefined;
    if (fault && !fault.afterActing) throw fault.error();
    const result = act();
    if (fault) throw fault.error();
    return result;
  }

  private stored(id: number, operation: string): Stored {
    const stored = this.workspaces.get(id);
    if (!stored) throw notFound(operation, `Workspace ${id} not found`);
    return stored;
  }

  private checkName(operation: string, teamId: number, name: string): void {
    if ([...this.workspaces.values()].some((s) => s.workspace.teamId === teamId && s.workspace.name === name))
      throw badRequest(operation, 'Team already has a workspace with the given name');
  }

  private checkVpn(operation: string, teamId: number, vpnConfig: string): void {
    if (!this.vpnConfigs.get(teamId)?.has(vpnConfig))
      throw badRequest(operation, `VPN config '${vpnConfig}' doesn't exist`);
  }
}

function notFound(operation: string, detail: string): ApiError {
  return new ApiError({ operation, kind: 'http', status: 404, title: 'Not Found', detail });
}

function badRequest(operation: string, detail: string): ApiError {
  return new ApiError({ operation, kind: 'http', status: 400, title: 'Bad Request', detail });
}

/** A create (or any call) whose answer never arrived. */
export function lostResponse(operation: string): () => ApiError {
  return () =>
    new ApiError(
      { operation, kind: 'network' },
      `Codesphere API call ${operation} got no response (ECONNRESET: socket hang up).`,
    );
}
