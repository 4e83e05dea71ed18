/**
 * The emulator's world: what the seed declared plus everything the API has changed since. Time-based
 * behaviour (provisioning, pipeline stages) is stored as timestamps and evaluated when read, so
 * state is always consistent with the clock without timers, and 1,000 workspaces cost nothing idle.
 */
import type { ExecuteRecord, ProbeFault } from './probe-faults.js';
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import type { Seed, Timing } from './seed.js';
import type { GatewaySpec, TunnelDriver, VpnConfig } from './tunnels/driver.js';
import { Problem } from './problem.js';
import { SignInStore } from './sign-in-store.js';
import { failingStep, scriptFor, stepWindow, type StepScript } from './logs.js';
import {
  failuresFor,
  isLandscape,
  landscapeStageStatus,
  readCiFile,
  repositoryOf,
  tunnelCount,
  type Landscape,
  type ReplicaFailure,
} from './landscape.js';

export const STAGES = ['prepare', 'test', 'run'] as const;
export type Stage = (typeof STAGES)[number];
export type StageState = 'waiting' | 'running' | 'success' | 'failure' | 'aborted';

export interface User {
  id: number;
  email: string;
  password: string;
}

export interface Team {
  id: number;
  name: string;
  description: string | null;
  defaultDataCenterId: number;
  /** userId -> role (0 admin, 1 member). */
  members: Map<number, 0 | 1>;
  vpnConfigs: Map<string, VpnConfig>;
}

export interface StageRun {
  startedAt: number;
  stoppedAt?: number;
  fails: boolean;
  replicas: number;
  profile?: string;
  /** What each step prints and whether it fails (see logs.ts); the stage fails with its failing step. */
  steps: StepScript[];
  /** Landscapes: the service replicas this run fails on (the others succeed); absent: all alike. */
  replicaFailures?: ReplicaFailure[];
}

export interface Workspace {
  id: number;
  teamId: number;
  name: string;
  planId: number;
  isPrivateRepo: boolean;
  replicas: number;
  baseImage?: string;
  dataCenterId: number;
  userId: number;
  gitUrl: string | null;
  initialBranch: string | null;
  sourceWorkspaceId: number | null;
  welcomeMessage: string | null;
  vpnConfig: string | null;
  restricted: boolean;
  collectTraces: boolean;
  persistentLogs: boolean;
  createdAt: string;
  storageMib?: number | null;
  sharedVaultName?: string | null;
  /** When provisioning began (epoch ms); running once timing.provisioningMs has passed since. */
  provisioningFrom: number;
  env: Map<string, string>;
  /** The checked-out branch and commit; null without a git repository. */
  git: { branch: string; commit: string } | null;
  pipeline: Partial<Record<Stage, StageRun>>;
  /** Stages this workspace's pipeline fails (set through /_emulator/ or the seed). */
  failStages: Set<Stage>;
  landscapeDeployed: boolean;
  /** The deployed landscape (landscape.ts): services, replicas, managed services. */
  landscape?: Landscape;
  /** Failure knobs set through /_emulator/ for this workspace's service replicas. */
  replicaFailures: ReplicaFailure[];
}

export class World {
  readonly users = new Map<number, User>();
  /** The seed's API tokens -> userId (they never expire). */
  readonly tokens = new Map<string, number>();
  /** Sign-in sessions and access tokens, which expire (sign-in-store.ts). */
  readonly signIns: SignInStore;
  readonly teams = new Map<number, Team>();
  readonly workspaces = new Map<number, Workspace>();
  /** Remote repositories: gitUrl -> branch -> head commit (advanced by /_emulator/ "pushes"). */
  readonly remotes = new Map<string, Map<string, string>>();
  readonly failStages = new Set<Stage>();
  /** Probe knobs per replica (probe-faults.ts; PUT /_emulator/probe-faults). */
  probeFaults: ProbeFault[] = [];
  /** Every execute received, in order (GET /_emulator/executions). */
  readonly executions: ExecuteRecord[] = [];
  /** Tunnel driver operations that failed (shown in /_emulator/state). */
  readonly driverErrors: string[] = [];
  private readonly pending = new Set<Promise<void>>();
  nextWorkspaceId: number;
  private pushCounter = 0;

  constructor(
    readonly seed: Seed,
    readonly timing: Timing,
    readonly driver: TunnelDriver,
    /** Where driver failures are reported (the emulator's `notice`). */
    private readonly warn: (message: string) => void = (message) => console.warn(message),
    /** The emulator's clock (clock.ts): every timestamp and wait of the world goes through it. */
    readonly clock: Clock = systemClock,
  ) {
    this.signIns = new SignInStore(timing, this.now);
    for (const user of seed.users) {
      this.users.set(user.id, { id: user.id, email: user.email, password: user.password });
      for (const token of user.apiTokens) this.tokens.set(token, user.id);
    }
    const userIdByEmail = new Map(seed.users.map((u) => [u.email, u.id]));
    for (const team of seed.teams) {
      this.teams.set(team.id, {
        id: team.id,
        name: team.name,
        description: team.description,
        defaultDataCenterId: team.defaultDataCenterId,
        members: new Map(team.members.map((m) => [userIdByEmail.get(m.email) ?? -1, m.role])),
        vpnConfigs: new Map(team.vpnConfigs.map((c) => [c.name, { ...c }])),
      });
    }
    for (const stage of seed.pipeline.failStages) this.failStages.add(stage);
    this.nextWorkspaceId = seed.workspaceIdStart;
  }

  /** The world's time, epoch ms (the clock's). */
  readonly now = (): number => this.clock.now();

  get plans() {
    return this.seed.plans;
  }

  get dataCenters() {
    return this.seed.dataCenters;
  }

  gatewayFor(config: VpnConfig): GatewaySpec | undefined {
    return this.seed.gateways.find((g) => g.publicIp === config.peerIp);
  }

  visibleTeams(userId: number): Team[] {
    return [...this.teams.values()].filter((team) => team.members.has(userId));
  }

  /** The team if the user is a member; undefined both when it does not exist and when it is not theirs. */
  visibleTeam(userId: number, teamId: number): Team | undefined {
    const team = this.teams.get(teamId);
    return team?.members.has(userId) ? team : undefined;
  }

  /** The workspace if it exists in one of the user's teams, else a 404 (never reveal others' ids). */
  workspaceFor(userId: number, workspaceId: number): Workspace {
    const workspace = this.workspaces.get(workspaceId);
    if (!workspace || !this.visibleTeam(userId, workspace.teamId)) {
      throw new Problem(404, `Workspace ${workspaceId} not found.`);
    }
    return workspace;
  }

  isRunning(workspace: Workspace): boolean {
    // Evaluated against the current timing, so a test can stretch or shrink provisioning in flight.
    return this.now() >= workspace.provisioningFrom + this.timing.provisioningMs;
  }

  requireRunning(workspace: Workspace): void {
    if (!this.isRunning(workspace)) throw new Problem(400, 'Workspace is not running');
  }

  devDomain(workspace: Workspace): string {
    const host = this.dataCenters.find((dc) => dc.id === workspace.dataCenterId)?.host ?? 'codesphere.local';
    return `${workspace.id}-3000.${host}`;
  }

  /** The head of a remote branch; unseen branches get a deterministic first commit. */
  remoteHead(gitUrl: string, branch: string): string {
    let branches = this.remotes.get(gitUrl);
    if (!branches) {
      branches = new Map();
      this.remotes.set(gitUrl, branches);
    }
    let head = branches.get(branch);
    if (!head) {
      head = sha1(`${gitUrl}#${branch}#initial`);
      branches.set(branch, head);
    }
    return head;
  }

  /** Emulates a `git push`: the remote branch moves to `commit` (or a fresh one). */
  push(gitUrl: string, branch: string, commit?: string): string {
    this.remoteHead(gitUrl, branch);
    const next = commit ?? sha1(`${gitUrl}#${branch}#push-${++this.pushCounter}-${this.now()}`);
    this.remotes.get(gitUrl)?.set(branch, next);
    return next;
  }

  startStage(workspace: Workspace, stage: Stage, profile?: string): void {
    const repository = repositoryOf(this, workspace);
    // A landscape reads the profile's file: 400 for a profile the repository does not have.
    if (repository) readCiFile(repository, profile);
    if (repository && stage === 'run' && !workspace.landscape)
      throw new Problem(
        400,
        'The landscape is not deployed: POST /workspaces/{id}/landscape/deploy before starting the run stage.',
      );
    const knobs = repository ? failuresFor(this, workspace, stage) : [];
    const forced = this.failStages.has(stage) || workspace.failStages.has(stage) || knobs.length > 0;
    const steps = scriptFor(this.seed, workspace, stage, forced);
    const run: StageRun = {
      startedAt: this.now(),
      fails: failingStep(steps) !== undefined,
      replicas: workspace.replicas,
      steps,
    };
    if (knobs.length > 0 && !this.failStages.has(stage) && !workspace.failStages.has(stage))
      run.replicaFailures = knobs;
    if (profile !== undefined) run.profile = profile;
    workspace.pipeline[stage] = run;
  }

  stopStage(workspace: Workspace, stage: Stage): void {
    const run = workspace.pipeline[stage];
    if (run && run.stoppedAt === undefined && ['waiting', 'running'].includes(this.stageState(stage, run))) {
      run.stoppedAt = this.now();
    }
  }

  /** waiting -> running -> success|failure; `run` stays running unless it fails; stopped -> aborted. */
  stageState(stage: Stage, run: StageRun | undefined): StageState {
    if (!run) return 'waiting';
    const at = run.stoppedAt ?? this.now();
    const runningFrom = run.startedAt + this.timing.stageQueueMs;
    // A failing step ends the stage when it ends; later steps never run.
    const failAt = failingStep(run.steps);
    const finishes =
      failAt === undefined ? runningFrom + this.timing.stageMs : stepWindow(this, run, failAt).to;
    let state: StageState;
    if (at < runningFrom) state = 'waiting';
    else if (at < finishes) state = 'running';
    else if (run.fails) state = 'failure';
    else state = stage === 'run' ? 'running' : 'success';
    if (run.stoppedAt !== undefined && (state === 'waiting' || state === 'running')) return 'aborted';
    return state;
  }

  /** The spec's pipelineStatus body: one entry per replica (a landscape: per service × replica). */
  stageStatus(workspace: Workspace, stage: Stage) {
    if (isLandscape(this, workspace)) return landscapeStageStatus(this, workspace, stage);
    const run = workspace.pipeline[stage];
    const replicas = run?.replicas ?? workspace.replicas;
    const entry = this.stageStatusOf(stage, run);
    return Array.from({ length: replicas }, (_, replica) => ({
      ...entry,
      replica: String(replica),
      server: 'codesphere-ide',
    }));
  }

  /** One pipelineStatus entry's state, timestamps and steps for a run (without replica and server). */
  stageStatusOf(stage: Stage, run: StageRun | undefined) {
    const state = this.stageState(stage, run);
    const iso = (ms: number) => new Date(ms).toISOString();
    const timestamps: { startedAt?: string; finishedAt?: string } = {};
    if (run && state !== 'waiting') timestamps.startedAt = iso(run.startedAt + this.timing.stageQueueMs);
    if (run && (state === 'success' || state === 'failure')) {
      const failAt = failingStep(run.steps);
      timestamps.finishedAt = iso(
        failAt === undefined
          ? run.startedAt + this.timing.stageQueueMs + this.timing.stageMs
          : stepWindow(this, run, failAt).to,
      );
    }
    if (run?.stoppedAt !== undefined && state === 'aborted') timestamps.finishedAt = iso(run.stoppedAt);
    return {
      state,
      ...timestamps,
      steps: run ? run.steps.map((_, index) => this.stepStatus(stage, run, index)) : [],
    };
  }

  /** One step's entry in pipelineStatus: waiting before its window, running in it, then its outcome. */
  stepStatus(stage: Stage, run: StageRun, index: number) {
    const { from, to } = stepWindow(this, run, index);
    const failAt = failingStep(run.steps);
    const at = run.stoppedAt ?? this.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    if ((failAt !== undefined && index > failAt) || at < from)
      return { state: (run.stoppedAt !== undefined ? 'aborted' : 'waiting') as StageState };
    if (at < to)
      return {
        state: (run.stoppedAt !== undefined ? 'aborted' : 'running') as StageState,
        startedAt: iso(from),
        ...(run.stoppedAt !== undefined ? { finishedAt: iso(run.stoppedAt) } : {}),
      };
    if (failAt === index)
      return { state: 'failure' as StageState, startedAt: iso(from), finishedAt: iso(to) };
    // The run stage's last step is the server: it keeps running.
    if (stage === 'run' && index === run.steps.length - 1)
      return { state: 'running' as StageState, startedAt: iso(from) };
    return { state: 'success' as StageState, startedAt: iso(from), finishedAt: iso(to) };
  }

  /**
   * Runs a driver operation in the background, as the platform does: the API answers at once and
   * the tunnel states say how it goes. (A real driver takes seconds to start daemons; the
   * simulated one records its state synchronously before its promise even settles.) Failures are
   * kept in `driverErrors` and reported, never lost as unhandled rejections.
   */
  track(operation: Promise<void>, what: string): void {
    const tracked = operation.catch((error: unknown) => {
      const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
      this.driverErrors.push(message);
      this.warn(`emulator: tunnel driver failed: ${message}`);
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Waits for every driver operation started so far (close and reset use it). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Attaches, re-attaches (restart) or detaches the workspace's tunnels to match its vpnConfig. */
  connectVpn(workspace: Workspace, restart: boolean): void {
    const id = workspace.id;
    if (!workspace.vpnConfig) {
      this.disconnectVpn(id);
      return;
    }
    const config = this.teams.get(workspace.teamId)?.vpnConfigs.get(workspace.vpnConfig);
    if (!config) return;
    const gateway = this.gatewayFor(config);
    // A deployed landscape opens one tunnel per replica of every service (landscape.ts tunnelIndex).
    const tunnels = tunnelCount(workspace) ?? workspace.replicas;
    this.track(
      restart
        ? this.driver.restart(id, tunnels, config, gateway)
        : this.driver.connect(id, tunnels, config, gateway),
      `${restart ? 'restart' : 'connect'} workspace ${id} (${config.name})`,
    );
  }

  disconnectVpn(workspaceId: number): void {
    this.track(this.driver.disconnect(workspaceId), `disconnect workspace ${workspaceId}`);
  }

  /** A VPN config changed: every workspace attached to it restarts its tunnels. */
  restartConfigUsers(teamId: number, configName: string): number[] {
    const affected = [...this.workspaces.values()].filter(
      (w) => w.teamId === teamId && w.vpnConfig === configName,
    );
    for (const workspace of affected) this.connectVpn(workspace, true);
    return affected.map((w) => w.id);
  }
}

export function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
