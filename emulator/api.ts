/**
 * The Public API operations the suite uses, under `/api`, following codesphere-openapi.json:
 * paths, request bodies (validated, 400 naming the field), response bodies and only the status
 * codes each operation documents. Visibility: a token sees its user's teams only; other teams'
 * resources answer 404 where the spec lists it, else 400 (never 403: no operation documents it).
 */
import { z } from 'zod';
import { Problem, parseOr400 } from './problem.js';
import { Router } from './router.js';
import { STAGES, type Stage, type Team, type World, type Workspace } from './state.js';
import { runCommand } from './execute.js';
import { streamProblem, streamStep, type SentEvent } from './logs.js';
import {
  deployLandscape as deployServices,
  isLandscape,
  scaleLandscape,
  teardownLandscape,
  tunnelIndex,
} from './landscape.js';
import type { ServerResponse } from 'node:http';

export interface ApiContext {
  world: World;
  /** The live world (a reset replaces it): long-lived streams read it through this. */
  liveWorld?: () => World;
  userId: number;
  params: Record<string, string>;
  body: unknown;
}
export interface Reply {
  status: number;
  /** JSON body; undefined sends an empty 200 (the spec's body-less "Success."). */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * A `text/event-stream` answer (the log operations): the server sends 200 with SSE headers and
   * hands the response over; the events written come back for the contract check.
   */
  stream?: (res: ServerResponse) => Promise<SentEvent[]>;
}
export type ApiHandler = (ctx: ApiContext) => Reply | Promise<Reply>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const envVarSchema = z.object({
  name: z.string().regex(ENV_NAME, 'must match ^[A-Za-z_][A-Za-z0-9_.-]*$'),
  value: z.string(),
});

const createSchema = z.object({
  teamId: z.int().min(0),
  name: z.string().min(1, 'must not be empty'),
  planId: z.int().min(0),
  isPrivateRepo: z.boolean(),
  replicas: z.int().min(1),
  baseImage: z.string().optional(),
  gitUrl: z.string().optional(),
  initialBranch: z.string().optional(),
  cloneDepth: z.int().min(1).optional(),
  sourceWorkspaceId: z.int().min(0).optional(),
  welcomeMessage: z.string().optional(),
  vpnConfig: z.string().optional(),
  restricted: z.boolean().optional(),
  env: z.array(envVarSchema).optional(),
  storageMib: z.int().min(1).optional(),
  sharedVaultName: z.string().optional(),
});

const updateSchema = z.object({
  planId: z.int().min(0).optional(),
  baseImage: z.string().optional(),
  name: z.string().min(1, 'must not be empty').optional(),
  replicas: z.int().min(1).optional(),
  vpnConfig: z.string().nullable().optional(),
  restricted: z.boolean().optional(),
  storageMib: z.int().min(1).nullable().optional(),
  sharedVaultName: z.string().nullable().optional(),
});

const executeSchema = z.object({
  command: z.string().min(1, 'must not be empty'),
  workingDir: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});

function idParam(ctx: ApiContext, name: string): number {
  const raw = ctx.params[name] ?? '';
  // Within the safe integers: a longer run of digits would be rounded to another id (1e+23).
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new Problem(
      400,
      `Invalid path parameter ${name}: expected a non-negative integer up to ${Number.MAX_SAFE_INTEGER}, got '${raw}'`,
    );
  }
  return Number(raw);
}

function stageParam(ctx: ApiContext): Stage {
  const raw = ctx.params.stage ?? '';
  if (!(STAGES as readonly string[]).includes(raw)) {
    throw new Problem(
      400,
      `Invalid path parameter stage: expected one of ${STAGES.join(', ')}, got '${raw}'`,
    );
  }
  return raw as Stage;
}

/** The spec's profile pattern (`^[\w-]+(\.[\w-]+)*$`); undefined when the path has none. */
function profileParam(ctx: ApiContext): string | undefined {
  const raw = ctx.params.profile;
  if (raw === undefined) return undefined;
  if (!/^[\w-]+(\.[\w-]+)*$/.test(raw))
    throw new Problem(400, `Invalid path parameter profile: expected ^[\\w-]+(\\.[\\w-]+)*$, got '${raw}'`);
  return raw;
}

function workspace(ctx: ApiContext): Workspace {
  return ctx.world.workspaceFor(ctx.userId, idParam(ctx, 'workspaceId'));
}

function teamBody(team: Team, userId: number, withRole: boolean) {
  return {
    id: team.id,
    defaultDataCenterId: team.defaultDataCenterId,
    name: team.name,
    description: team.description,
    avatarId: null,
    avatarUrl: null,
    isFirst: false,
    ...(withRole ? { role: team.members.get(userId) ?? 1 } : {}),
  };
}

export function workspaceBody(world: World, w: Workspace) {
  return {
    teamId: w.teamId,
    name: w.name,
    planId: w.planId,
    isPrivateRepo: w.isPrivateRepo,
    replicas: w.replicas,
    id: w.id,
    ...(w.baseImage !== undefined ? { baseImage: w.baseImage } : {}),
    dataCenterId: w.dataCenterId,
    userId: w.userId,
    gitUrl: w.gitUrl,
    initialBranch: w.initialBranch,
    sourceWorkspaceId: w.sourceWorkspaceId,
    welcomeMessage: w.welcomeMessage,
    vpnConfig: w.vpnConfig,
    restricted: w.restricted,
    collectTraces: w.collectTraces,
    persistentLogs: w.persistentLogs,
    devDomain: world.devDomain(w),
    createdAt: w.createdAt,
  };
}

/** Plan checks shared by create and update: it must exist, not be deprecated, and allow the replicas. */
function checkPlan(world: World, planId: number, replicas: number): void {
  const plan = world.plans.find((p) => p.id === planId);
  if (!plan) {
    const available = world.plans
      .filter((p) => !p.deprecated)
      .map((p) => `${p.id} (${p.title}${p.onDemand ? ', on demand' : ''})`);
    throw new Problem(400, `Plan ${planId} does not exist. Available plans: ${available.join(', ')}`);
  }
  if (plan.deprecated)
    throw new Problem(
      400,
      `Plan ${planId} (${plan.title}) is deprecated and cannot be used for new or changed workspaces.`,
    );
  if (replicas > plan.maxReplicas) {
    throw new Problem(
      400,
      `Plan ${planId} (${plan.title}) allows at most ${plan.maxReplicas} replica(s), ${replicas} requested.`,
    );
  }
}

function checkNameFree(world: World, teamId: number, name: string, except?: number): void {
  for (const other of world.workspaces.values()) {
    if (other.teamId === teamId && other.name === name && other.id !== except) {
      throw new Problem(400, 'Team already has a workspace with the given name.');
    }
  }
}

function createWorkspace(ctx: ApiContext): Reply {
  const { world } = ctx;
  const body = parseOr400(createSchema, ctx.body, 'request body');
  const team = world.visibleTeam(ctx.userId, body.teamId);
  if (!team) throw new Problem(400, `Team ${body.teamId} does not exist or you are not a member of it.`);
  checkPlan(world, body.planId, body.replicas);
  checkNameFree(world, team.id, body.name);
  if (body.vpnConfig !== undefined && !team.vpnConfigs.has(body.vpnConfig)) {
    throw new Problem(400, `Failed to create workspace. VPN config '${body.vpnConfig}' doesn't exist.`);
  }
  if (body.sourceWorkspaceId !== undefined) world.workspaceFor(ctx.userId, body.sourceWorkspaceId);
  const now = world.now();
  const branch = body.gitUrl ? (body.initialBranch ?? 'main') : null;
  const created: Workspace = {
    id: world.nextWorkspaceId++,
    teamId: team.id,
    name: body.name,
    planId: body.planId,
    isPrivateRepo: body.isPrivateRepo,
    replicas: body.replicas,
    dataCenterId: team.defaultDataCenterId,
    userId: ctx.userId,
    gitUrl: body.gitUrl ?? null,
    initialBranch: body.initialBranch ?? null,
    sourceWorkspaceId: body.sourceWorkspaceId ?? null,
    welcomeMessage: body.welcomeMessage ?? null,
    vpnConfig: body.vpnConfig ?? null,
    restricted: body.restricted ?? false,
    collectTraces: false,
    persistentLogs: false,
    createdAt: new Date(now).toISOString(),
    provisioningFrom: now,
    env: new Map((body.env ?? []).map((v) => [v.name, v.value])),
    git: body.gitUrl && branch ? { branch, commit: world.remoteHead(body.gitUrl, branch) } : null,
    pipeline: {},
    failStages: new Set(),
    landscapeDeployed: false,
    replicaFailures: [],
  };
  if (body.baseImage !== undefined) created.baseImage = body.baseImage;
  if (body.storageMib !== undefined) created.storageMib = body.storageMib;
  if (body.sharedVaultName !== undefined) created.sharedVaultName = body.sharedVaultName;
  world.workspaces.set(created.id, created);
  world.connectVpn(created, false);
  return { status: 200, body: workspaceBody(world, created) };
}

function updateWorkspace(ctx: ApiContext): Reply {
  const { world } = ctx;
  const target = workspace(ctx);
  const body = parseOr400(updateSchema, ctx.body, 'request body');
  const team = world.teams.get(target.teamId);
  const replicas = body.replicas ?? target.replicas;
  if (body.planId !== undefined || body.replicas !== undefined)
    checkPlan(world, body.planId ?? target.planId, replicas);
  if (body.name !== undefined) checkNameFree(world, target.teamId, body.name, target.id);
  // An empty string detaches like null: the dashboard's "no VPN" choice.
  const vpnConfig = body.vpnConfig === undefined ? target.vpnConfig : body.vpnConfig || null;
  if (vpnConfig !== null && !team?.vpnConfigs.has(vpnConfig)) {
    throw new Problem(400, `Failed to update workspace. VPN config '${vpnConfig}' doesn't exist.`);
  }
  const vpnChanged = vpnConfig !== target.vpnConfig;
  const replicasChanged = replicas !== target.replicas;
  const hadVpn = target.vpnConfig !== null;
  if (body.planId !== undefined) target.planId = body.planId;
  if (body.baseImage !== undefined) target.baseImage = body.baseImage;
  if (body.name !== undefined) target.name = body.name;
  if (body.restricted !== undefined) target.restricted = body.restricted;
  if (body.storageMib !== undefined) target.storageMib = body.storageMib;
  if (body.sharedVaultName !== undefined) target.sharedVaultName = body.sharedVaultName;
  target.replicas = replicas;
  target.vpnConfig = vpnConfig;
  // Changing the VPN config (or the replica count) restarts the workspace's VPN service.
  if (vpnChanged || (replicasChanged && vpnConfig !== null)) world.connectVpn(target, hadVpn);
  return { status: 200 };
}

function deleteWorkspace(ctx: ApiContext): Reply {
  const target = workspace(ctx);
  ctx.world.disconnectVpn(target.id);
  ctx.world.workspaces.delete(target.id);
  return { status: 200 };
}

function requireGit(w: Workspace): { branch: string; commit: string } {
  if (!w.git || !w.gitUrl) throw new Problem(400, 'git error: the workspace has no git repository.');
  return w.git;
}

function gitPull(ctx: ApiContext): Reply {
  const target = workspace(ctx);
  ctx.world.requireRunning(target);
  const git = requireGit(target);
  const remote = ctx.params.remote ?? 'origin';
  if (remote !== 'origin')
    throw new Problem(400, `git error: remote '${remote}' does not exist (only 'origin').`);
  const branch = ctx.params.branch ?? git.branch;
  target.git = { branch, commit: ctx.world.remoteHead(target.gitUrl ?? '', branch) };
  return { status: 200 };
}

function startStage(ctx: ApiContext): Reply {
  const target = workspace(ctx);
  const stage = stageParam(ctx);
  const profile = profileParam(ctx);
  ctx.world.requireRunning(target);
  ctx.world.startStage(target, stage, profile);
  return { status: 200 };
}

async function execute(ctx: ApiContext): Promise<Reply> {
  const target = workspace(ctx);
  const body = parseOr400(executeSchema, ctx.body, 'request body');
  ctx.world.requireRunning(target);
  const replicaText = body.env?.CODESPHERE_REPLICA;
  const replica = replicaText === undefined ? 0 : Number(replicaText);
  const server = body.env?.CODESPHERE_SERVER;
  ctx.world.executions.push({
    workspaceId: target.id,
    workspaceName: target.name,
    server,
    replica,
    command: body.command,
    env: { ...body.env },
    at: ctx.world.now(),
  });
  const tunnel = tunnelOf(target, server, replica, replicaText);
  const result = await runCommand(ctx.world, target, tunnel, body.command, body.env ?? {});
  return {
    status: 200,
    body: {
      command: body.command,
      workingDir: body.workingDir ?? '/home/user/app',
      output: result.output,
      error: result.error,
    },
  };
}

/** The tunnel an execute runs through: a landscape service replica's own (landscape.ts tunnelIndex), else the replica's. */
function tunnelOf(
  target: Workspace,
  server: string | undefined,
  replica: number,
  replicaText: string | undefined,
): number {
  if (server !== undefined && target.landscape) return tunnelIndex(target, server, replica);
  if (!Number.isInteger(replica) || replica < 0 || replica >= target.replicas) {
    throw new Problem(
      400,
      `Invalid request body: env.CODESPHERE_REPLICA: expected a replica index 0..${target.replicas - 1}, got '${replicaText}'`,
    );
  }
  return replica;
}

/**
 * workspaces-logs and workspaces-replicaLogs. Every failure the spec lists for them (400, 401,
 * 404) is a `problem` event in a 200 stream, so the checks run inside the stream.
 */
function logs(ctx: ApiContext): Reply {
  return {
    status: 200,
    stream: async (res) => {
      let target: Workspace;
      let stage: Stage;
      let step: number;
      try {
        target = workspace(ctx);
        stage = ctx.params.replica === undefined && ctx.params.server === undefined ? stageParam(ctx) : 'run';
        step = idParam(ctx, 'step');
        ctx.world.requireRunning(target);
        const server = ctx.params.server;
        if (server !== undefined) {
          const services = target.landscape?.services.filter((s) => !s.managed) ?? [];
          if (!services.some((s) => s.name === server))
            throw new Problem(
              400,
              `Invalid path parameter server: expected one of ${services.map((s) => s.name).join(', ') || '(none: the landscape is not deployed)'}, got '${server}'`,
            );
        } else if (ctx.params.replica === undefined && stage === 'run' && isLandscape(ctx.world, target))
          throw new Problem(
            400,
            `Run stage logs of a Multi Server Deployment: use GET /workspaces/${target.id}/logs/run/${step}/server/{server}.`,
          );
        if (
          ctx.params.replica === undefined &&
          server === undefined &&
          stage === 'run' &&
          target.replicas > 1
        )
          throw new Problem(
            400,
            `Run stage logs of a workspace with ${target.replicas} replicas: use GET /workspaces/${target.id}/logs/run/${step}/replica/{replica}.`,
          );
        if (ctx.params.replica !== undefined) {
          const replica = ctx.params.replica;
          if (!/^\d+$/.test(replica) || Number(replica) >= target.replicas)
            throw new Problem(
              400,
              `Invalid path parameter replica: expected 0..${target.replicas - 1}, got '${replica}'`,
            );
        }
      } catch (error) {
        if (error instanceof Problem) return streamProblem(res, error.status, error.detail);
        throw error;
      }
      return streamStep(ctx.liveWorld ?? (() => ctx.world), res, target, stage, step);
    },
  };
}

/**
 * A landscape repository: syncs the profile's services (400 for an unknown profile), reopens the
 * tunnels (one per service replica); the run stage is started separately. A single-service
 * workspace: starts run, as the dashboard's deploy does.
 */
function deployLandscape(ctx: ApiContext): Reply {
  const target = workspace(ctx);
  const profile = profileParam(ctx);
  ctx.world.requireRunning(target);
  if (isLandscape(ctx.world, target)) {
    deployServices(ctx.world, target, profile);
    target.landscapeDeployed = true;
    if (target.vpnConfig) ctx.world.connectVpn(target, true);
    return { status: 200 };
  }
  target.landscapeDeployed = true;
  ctx.world.startStage(target, 'run', profile);
  return { status: 200 };
}

const scaleSchema = z.record(z.string().min(1), z.int().min(1));

function scale(ctx: ApiContext): Reply {
  const target = workspace(ctx);
  const body = parseOr400(scaleSchema, ctx.body, 'request body');
  ctx.world.requireRunning(target);
  scaleLandscape(ctx.world, target, body);
  if (target.vpnConfig) ctx.world.connectVpn(target, true);
  return { status: 200 };
}

export function createApiRouter(): Router<ApiHandler> {
  const router = new Router<ApiHandler>();
  router
    .add('GET', '/teams', (ctx) => ({
      status: 200,
      body: ctx.world.visibleTeams(ctx.userId).map((team) => teamBody(team, ctx.userId, true)),
    }))
    .add('GET', '/teams/{teamId}', (ctx) => {
      const teamId = idParam(ctx, 'teamId');
      const team = ctx.world.visibleTeam(ctx.userId, teamId);
      if (!team) throw new Problem(404, `Team ${teamId} not found.`);
      return { status: 200, body: teamBody(team, ctx.userId, false) };
    })
    .add('GET', '/metadata/workspace-plans', (ctx) => ({
      status: 200,
      body: ctx.world.plans.map((p) => ({
        id: p.id,
        priceUsd: p.priceUsd,
        title: p.title,
        deprecated: p.deprecated,
        characteristics: {
          id: p.id,
          CPU: p.cpu,
          GPU: p.gpu,
          RAM: p.ramMb,
          SSD: p.ssdMb,
          TempStorage: p.tempStorageMb,
          onDemand: p.onDemand,
        },
        maxReplicas: p.maxReplicas,
      })),
    }))
    .add('GET', '/metadata/datacenters', (ctx) => ({
      status: 200,
      body: ctx.world.dataCenters.map(({ id, name, city, countryCode }) => ({ id, name, city, countryCode })),
    }))
    .add('GET', '/workspaces/team/{teamId}', (ctx) => {
      const teamId = idParam(ctx, 'teamId');
      if (!ctx.world.visibleTeam(ctx.userId, teamId)) {
        throw new Problem(400, `Team ${teamId} does not exist or you are not a member of it.`);
      }
      const list = [...ctx.world.workspaces.values()].filter((w) => w.teamId === teamId);
      return { status: 200, body: list.map((w) => workspaceBody(ctx.world, w)) };
    })
    .add('POST', '/workspaces', createWorkspace)
    .add('GET', '/workspaces/{workspaceId}', (ctx) => ({
      status: 200,
      body: workspaceBody(ctx.world, workspace(ctx)),
    }))
    .add('PATCH', '/workspaces/{workspaceId}', updateWorkspace)
    .add('DELETE', '/workspaces/{workspaceId}', deleteWorkspace)
    .add('GET', '/workspaces/{workspaceId}/status', (ctx) => ({
      status: 200,
      body: { isRunning: ctx.world.isRunning(workspace(ctx)) },
    }))
    .add('GET', '/workspaces/{workspaceId}/env-vars', (ctx) => ({
      status: 200,
      body: [...workspace(ctx).env].map(([name, value]) => ({ name, value })),
    }))
    .add('PUT', '/workspaces/{workspaceId}/env-vars', (ctx) => {
      const target = workspace(ctx);
      const vars = parseOr400(z.array(envVarSchema), ctx.body, 'request body');
      for (const { name, value } of vars) target.env.set(name, value);
      return { status: 200 };
    })
    .add('DELETE', '/workspaces/{workspaceId}/env-vars', (ctx) => {
      const target = workspace(ctx);
      const names = parseOr400(
        z.array(z.string().regex(ENV_NAME, 'is not a valid variable name')),
        ctx.body,
        'request body',
      );
      for (const name of names) target.env.delete(name);
      return { status: 200 };
    })
    .add('GET', '/workspaces/{workspaceId}/git/head', (ctx) => {
      const target = workspace(ctx);
      ctx.world.requireRunning(target);
      return { status: 200, body: { head: requireGit(target).commit } };
    })
    .add('POST', '/workspaces/{workspaceId}/git/pull', gitPull)
    .add('POST', '/workspaces/{workspaceId}/git/pull/{remote}', gitPull)
    .add('POST', '/workspaces/{workspaceId}/git/pull/{remote}/{branch}', gitPull)
    .add('POST', '/workspaces/{workspaceId}/pipeline/{stage}/start', startStage)
    .add('POST', '/workspaces/{workspaceId}/pipeline/{stage}/start/{profile}', startStage)
    .add('POST', '/workspaces/{workspaceId}/pipeline/{stage}/stop', (ctx) => {
      const target = workspace(ctx);
      const stage = stageParam(ctx);
      ctx.world.requireRunning(target);
      ctx.world.stopStage(target, stage);
      return { status: 200 };
    })
    .add('GET', '/workspaces/{workspaceId}/pipeline/{stage}', (ctx) => {
      const target = workspace(ctx);
      const stage = stageParam(ctx);
      ctx.world.requireRunning(target);
      return { status: 200, body: ctx.world.stageStatus(target, stage) };
    })
    .add('POST', '/workspaces/{workspaceId}/execute', execute)
    .add('GET', '/workspaces/{workspaceId}/logs/{stage}/{step}', logs)
    .add('GET', '/workspaces/{workspaceId}/logs/run/{step}/replica/{replica}', logs)
    .add('POST', '/workspaces/{workspaceId}/landscape/deploy', deployLandscape)
    .add('POST', '/workspaces/{workspaceId}/landscape/deploy/{profile}', deployLandscape)
    .add('PATCH', '/workspaces/{workspaceId}/landscape/scale', scale)
    .add('GET', '/workspaces/{workspaceId}/logs/run/{step}/server/{server}', logs)
    .add('DELETE', '/workspaces/{workspaceId}/landscape/teardown', (ctx) => {
      const target = workspace(ctx);
      target.landscapeDeployed = false;
      ctx.world.stopStage(target, 'run');
      if (target.landscape) {
        teardownLandscape(target);
        if (target.vpnConfig) ctx.world.connectVpn(target, true);
      }
      return { status: 200 };
    });
  return router;
}
