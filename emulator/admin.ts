/**
 * `/_emulator/`: not part of Codesphere's API. Inspection (state, request log, contract
 * violations), control (reset, timing, faults, git pushes, pipeline failures) and the dashboard's
 * job of creating and changing VPN configs. No auth: it only ever listens on 127.0.0.1.
 */
import { probeFaultsSchema } from './probe-faults.js';
import { z } from 'zod';
import { workspaceBody, type Reply } from './api.js';
import { faultSchema, type FaultBook } from './faults.js';
import { managedServicesOf } from './landscape.js';
import { Problem, parseOr400 } from './problem.js';
import { Router } from './router.js';
import { timingPatchSchema, type Timing } from './seed.js';
import { STAGES, type Team, type Workspace, type World } from './state.js';
import type { VpnConfig } from './tunnels/driver.js';
import { validateVpnConfig, vpnConfigSchema } from './vpn.js';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  /** Path and query as requested (headers are never recorded: they carry tokens). */
  path: string;
  /** HTTP status sent, or 0 when the connection was destroyed without a response. */
  status: number;
  durationMs: number;
  /** The client closed the connection before its request was complete (status 0; not an error). */
  aborted?: true;
  /** The fault that shaped this response, if any. */
  fault?: string;
  /** Contract violations of this exchange (contract mode 'record'). */
  violations?: string[];
}

export interface AdminContext {
  world: () => World;
  faults: FaultBook;
  log: () => RequestLogEntry[];
  clearLog: () => void;
  setTiming: (timing: Partial<Timing>) => Timing;
  reset: () => Promise<void>;
  contractMode: () => 'record' | 'off';
}

interface AdminRequest {
  ctx: AdminContext;
  params: Record<string, string>;
  body: unknown;
}
type AdminHandler = (req: AdminRequest) => Reply | Promise<Reply>;

/** A VPN config as shown outside: the PSK never leaves the emulator. */
export function publicVpnConfig(config: VpnConfig) {
  return { ...config, psk: '***' };
}

export function inspectWorkspace(world: World, w: Workspace) {
  return {
    ...workspaceBody(world, w),
    isRunning: world.isRunning(w),
    env: Object.fromEntries(w.env),
    git: w.git,
    pipeline: Object.fromEntries(
      STAGES.map((stage) => [stage, w.pipeline[stage] ? world.stageStatus(w, stage) : null]),
    ),
    failStages: [...w.failStages],
    landscapeDeployed: w.landscapeDeployed,
    landscape: w.landscape ?? null,
    tunnels: world.driver.tunnels(w.id),
  };
}

export function inspectState(world: World, faults: FaultBook) {
  return {
    driver: world.driver.kind,
    driverErrors: world.driverErrors,
    timing: world.timing,
    failStages: [...world.failStages],
    /** Live sign-in credentials (expired ones are purged first): counts only, never the values. */
    signIns: (() => {
      world.signIns.purge();
      return { sessions: world.signIns.sessions.size, accessTokens: world.signIns.accessTokens.size };
    })(),
    teams: [...world.teams.values()].map((team) => ({
      id: team.id,
      name: team.name,
      vpnConfigs: [...team.vpnConfigs.values()].map(publicVpnConfig),
    })),
    workspaces: [...world.workspaces.values()].map((w) => inspectWorkspace(world, w)),
    managedServices: managedServicesOf(world),
    faults: faults.list(),
  };
}

function teamParam(world: World, raw: string | undefined): Team {
  const text = raw ?? '';
  const team = /^\d+$/.test(text)
    ? world.teams.get(Number(text))
    : [...world.teams.values()].find((t) => t.name === text);
  if (!team) throw new Problem(404, `Team '${text}' not found (give its id or name).`);
  return team;
}

function workspaceParam(world: World, raw: string | undefined): Workspace {
  const workspace = world.workspaces.get(Number(raw));
  if (!workspace) throw new Problem(404, `Workspace ${raw ?? ''} not found.`);
  return workspace;
}

function vpnOr400(input: unknown): VpnConfig {
  const result = validateVpnConfig(input);
  if ('problems' in result) throw new Problem(400, `Invalid VPN config: ${result.problems.join('; ')}`);
  return result.config;
}

const pushSchema = z.object({
  branch: z.string().min(1).optional(),
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/)
    .optional(),
});
const failSchema = z.object({ stages: z.array(z.enum(STAGES)) });
const replicaFailSchema = z.object({
  failures: z.array(
    z.object({ stage: z.enum(STAGES), service: z.string().min(1), replica: z.int().min(0).optional() }),
  ),
});

export function createAdminRouter(): Router<AdminHandler> {
  const router = new Router<AdminHandler>();
  router
    .add('GET', '/_emulator/state', ({ ctx }) => ({
      status: 200,
      body: inspectState(ctx.world(), ctx.faults),
    }))
    .add('GET', '/_emulator/health', ({ ctx }) => {
      const memory = process.memoryUsage();
      return {
        status: 200,
        body: {
          ok: true,
          uptimeMs: Math.round(process.uptime() * 1000),
          workspaces: ctx.world().workspaces.size,
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
        },
      };
    })
    .add('GET', '/_emulator/workspaces/{workspaceId}', ({ ctx, params }) => {
      const world = ctx.world();
      return { status: 200, body: inspectWorkspace(world, workspaceParam(world, params.workspaceId)) };
    })
    .add('GET', '/_emulator/requests', ({ ctx }) => ({ status: 200, body: ctx.log() }))
    .add('DELETE', '/_emulator/requests', ({ ctx }) => {
      ctx.clearLog();
      return { status: 200, body: { cleared: true } };
    })
    .add('GET', '/_emulator/contract-violations', ({ ctx }) => {
      const violations = ctx
        .log()
        .filter((e) => e.violations?.length)
        .map((e) => ({
          seq: e.seq,
          method: e.method,
          path: e.path,
          status: e.status,
          violations: e.violations,
        }));
      return { status: 200, body: { mode: ctx.contractMode(), count: violations.length, violations } };
    })
    .add('POST', '/_emulator/reset', async ({ ctx }) => {
      await ctx.reset();
      return { status: 200, body: { reset: true } };
    })
    .add('GET', '/_emulator/timing', ({ ctx }) => ({ status: 200, body: ctx.world().timing }))
    .add('PATCH', '/_emulator/timing', ({ ctx, body }) => ({
      status: 200,
      body: ctx.setTiming(parseOr400(timingPatchSchema, body, 'timing')),
    }))
    .add('GET', '/_emulator/faults', ({ ctx }) => ({ status: 200, body: ctx.faults.list() }))
    .add('POST', '/_emulator/faults', ({ ctx, body }) => {
      const list = Array.isArray(body) ? body : [body];
      const armed = list.map((item) => ctx.faults.arm(parseOr400(faultSchema, item, 'fault')));
      return { status: 200, body: Array.isArray(body) ? armed : armed[0] };
    })
    .add('DELETE', '/_emulator/faults', ({ ctx }) => {
      ctx.faults.clear();
      return { status: 200, body: { cleared: true } };
    })
    .add('GET', '/_emulator/teams/{teamId}/vpn-configs', ({ ctx, params }) => ({
      status: 200,
      body: [...teamParam(ctx.world(), params.teamId).vpnConfigs.values()].map(publicVpnConfig),
    }))
    .add('GET', '/_emulator/teams/{teamId}/vpn-configs/{name}', ({ ctx, params }) => {
      const config = teamParam(ctx.world(), params.teamId).vpnConfigs.get(params.name ?? '');
      if (!config) throw new Problem(404, `VPN config '${params.name ?? ''}' not found.`);
      return { status: 200, body: publicVpnConfig(config) };
    })
    .add('POST', '/_emulator/teams/{teamId}/vpn-configs', ({ ctx, params, body }) => {
      const team = teamParam(ctx.world(), params.teamId);
      const config = vpnOr400(body);
      if (team.vpnConfigs.has(config.name))
        throw new Problem(409, `VPN config '${config.name}' already exists in ${team.name}.`);
      team.vpnConfigs.set(config.name, config);
      return { status: 201, body: publicVpnConfig(config) };
    })
    .add('PUT', '/_emulator/teams/{teamId}/vpn-configs/{name}', ({ ctx, params, body }) =>
      changeConfig(ctx, params, body, false),
    )
    .add('PATCH', '/_emulator/teams/{teamId}/vpn-configs/{name}', ({ ctx, params, body }) =>
      changeConfig(ctx, params, body, true),
    )
    .add('DELETE', '/_emulator/teams/{teamId}/vpn-configs/{name}', ({ ctx, params }) => {
      const world = ctx.world();
      const team = teamParam(world, params.teamId);
      const name = params.name ?? '';
      if (!team.vpnConfigs.has(name)) throw new Problem(404, `VPN config '${name}' not found.`);
      const users = [...world.workspaces.values()].filter(
        (w) => w.teamId === team.id && w.vpnConfig === name,
      );
      if (users.length > 0) {
        throw new Problem(
          409,
          `VPN config '${name}' is used by workspace(s) ${users.map((w) => w.id).join(', ')}; detach them first.`,
        );
      }
      team.vpnConfigs.delete(name);
      return { status: 200, body: { deleted: name } };
    })
    .add('POST', '/_emulator/workspaces/{workspaceId}/git/push', ({ ctx, params, body }) => {
      const world = ctx.world();
      const workspace = workspaceParam(world, params.workspaceId);
      if (!workspace.gitUrl || !workspace.git)
        throw new Problem(400, `Workspace ${workspace.id} has no git repository.`);
      const push = parseOr400(pushSchema, body ?? {}, 'push');
      const branch = push.branch ?? workspace.git.branch;
      return {
        status: 200,
        body: { gitUrl: workspace.gitUrl, branch, commit: world.push(workspace.gitUrl, branch, push.commit) },
      };
    })
    .add('POST', '/_emulator/git/push', ({ ctx, body }) => {
      const push = parseOr400(
        pushSchema.extend({ gitUrl: z.string().min(1), branch: z.string().min(1) }),
        body,
        'push',
      );
      return {
        status: 200,
        body: { ...push, commit: ctx.world().push(push.gitUrl, push.branch, push.commit) },
      };
    })
    .add('PUT', '/_emulator/probe-faults', ({ ctx, body }) => {
      const world = ctx.world();
      world.probeFaults = parseOr400(probeFaultsSchema, body, 'probe faults').faults;
      return { status: 200, body: { faults: world.probeFaults } };
    })
    .add('GET', '/_emulator/executions', ({ ctx }) => ({ status: 200, body: ctx.world().executions }))
    .add('PUT', '/_emulator/pipeline-failures', ({ ctx, body }) => {
      const world = ctx.world();
      world.failStages.clear();
      for (const stage of parseOr400(failSchema, body, 'pipeline failures').stages)
        world.failStages.add(stage);
      return { status: 200, body: { stages: [...world.failStages] } };
    })
    .add('PUT', '/_emulator/workspaces/{workspaceId}/pipeline-failures', ({ ctx, params, body }) => {
      const workspace = workspaceParam(ctx.world(), params.workspaceId);
      workspace.failStages = new Set(parseOr400(failSchema, body, 'pipeline failures').stages);
      return { status: 200, body: { stages: [...workspace.failStages] } };
    })
    .add('PUT', '/_emulator/workspaces/{workspaceId}/replica-failures', ({ ctx, params, body }) => {
      // A landscape's knobs: the stage fails on this service (replica), the others succeed.
      const workspace = workspaceParam(ctx.world(), params.workspaceId);
      workspace.replicaFailures = parseOr400(replicaFailSchema, body, 'replica failures').failures;
      return { status: 200, body: { failures: workspace.replicaFailures } };
    });
  return router;
}

/** PUT replaces, PATCH merges; either way every connected workspace restarts its tunnels. */
function changeConfig(
  ctx: AdminContext,
  params: Record<string, string>,
  body: unknown,
  merge: boolean,
): Reply {
  const world = ctx.world();
  const team = teamParam(world, params.teamId);
  const name = params.name ?? '';
  const existing = team.vpnConfigs.get(name);
  if (!existing) throw new Problem(404, `VPN config '${name}' not found.`);
  const patch = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  if (patch.name !== undefined && patch.name !== name)
    throw new Problem(400, 'Invalid VPN config: name: cannot be changed');
  const config = vpnOr400(merge ? { ...existing, ...patch, name } : { ...patch, name });
  team.vpnConfigs.set(name, config);
  const restarted = world.restartConfigUsers(team.id, name);
  return { status: 200, body: { ...publicVpnConfig(config), restartedWorkspaces: restarted } };
}

// Keep the shape referenced so a schema change fails typecheck here too.
export type VpnConfigBody = z.input<typeof vpnConfigSchema>;
