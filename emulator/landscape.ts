/**
 * Landscapes (`ci.yml` with `schemaVersion: v0.2`): a repository of the seed carries `ci.yml` and
 * `ci.<profile>.yml`; each declares `prepare`, `test` and `run.<service>` (replicas, plan, network
 * paths), and managed services as `run.<name>.provider`. A landscape deploy reads the profile's
 * file and sets the workspace's services; scale changes their replicas; pipeline status answers
 * one entry per service × replica; a managed service runs after `timing.managedServiceMs`.
 * Failure knobs (the seed's `repositories[].fail`, or /_emulator/) fail one service replica of a stage.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { Problem } from './problem.js';
import type { Seed } from './seed.js';
import type { Stage, StageRun, StageState, Workspace, World } from './state.js';

/** The spec's `server` pattern (pipelineStatus): a service name must fit it. */
const SERVER_NAME = /^(?:[a-z]|[a-z][-a-z0-9]{0,30}[a-z0-9])$/;

const stepsSchema = z.object({ steps: z.array(z.object({ command: z.string() })).default([]) }).optional();

const serviceSchema = z.object({
  steps: z.array(z.object({ command: z.string() })).default([]),
  replicas: z.int().min(1).default(1),
  plan: z.union([z.int(), z.object({ id: z.int() })]).optional(),
  provider: z.object({ name: z.string().min(1), version: z.string().optional() }).optional(),
  network: z
    .object({
      ports: z.array(z.object({ port: z.int(), isPublic: z.boolean().optional() })).default([]),
      paths: z.array(z.object({ port: z.int(), path: z.string() })).default([]),
    })
    .optional(),
});

const ciFileSchema = z.object({
  schemaVersion: z.literal('v0.2'),
  prepare: stepsSchema,
  test: stepsSchema,
  run: z.record(z.string().regex(SERVER_NAME, 'must be a server name (a-z, 0-9, -)'), serviceSchema),
});

/** One service of a deployed landscape. */
export interface LandscapeService {
  name: string;
  replicas: number;
  /** The first network path (path routing on the dev domain), if it has one. */
  path?: string;
  /** A managed service (`provider`): its id and when it is ready (epoch ms). */
  managed?: { id: string; provider: string; readyAt: number };
}

export interface Landscape {
  profile?: string;
  deployedAt: number;
  services: LandscapeService[];
}

/** A failure knob: `stage` fails on `service`'s replica `replica` (every replica when absent). */
export interface ReplicaFailure {
  stage: Stage;
  service: string;
  replica?: number | undefined;
}

export type RepositorySeed = Seed['repositories'][number];

/** The seed repository a workspace checked out (by branch; undefined: a single-service repository). */
export function repositoryOf(world: World, workspace: Workspace): RepositorySeed | undefined {
  const branch = workspace.git?.branch;
  if (branch === undefined) return undefined;
  return world.seed.repositories.find((r) => r.branch === branch);
}

/** Whether the workspace's repository is a landscape (its ci.yml is v0.2 with services). */
export function isLandscape(world: World, workspace: Workspace): boolean {
  return repositoryOf(world, workspace) !== undefined;
}

function fileName(profile: string | undefined): string {
  return profile === undefined ? 'ci.yml' : `ci.${profile}.yml`;
}

/** Profiles a repository has: `ci.<profile>.yml` files. */
export function profilesOf(repository: RepositorySeed): string[] {
  return Object.keys(repository.files)
    .map((name) => /^ci\.(.+)\.yml$/.exec(name)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** Reads the profile's ci file: 400 (the problem body) for a profile the repository does not have. */
export function readCiFile(repository: RepositorySeed, profile: string | undefined) {
  const name = fileName(profile);
  const text = repository.files[name];
  if (text === undefined) {
    const profiles = profilesOf(repository);
    throw new Problem(
      400,
      `Profile '${profile ?? ''}' not found: the repository has no ${name}. Profiles: ${profiles.length > 0 ? profiles.join(', ') : '(none)'} (ci.yml without a profile).`,
    );
  }
  const parsed = ciFileSchema.safeParse(parseYaml(text));
  if (!parsed.success)
    throw new Problem(
      400,
      `${name} is not a valid v0.2 config: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

/** The services a ci file declares, managed ones ready `managedMs` after `now`. */
export function servicesOf(
  repository: RepositorySeed,
  profile: string | undefined,
  now: number,
  managedMs: number,
): LandscapeService[] {
  const file = readCiFile(repository, profile);
  return Object.entries(file.run).map(([name, spec]) => {
    const service: LandscapeService = { name, replicas: spec.provider ? 1 : spec.replicas };
    const path = spec.network?.paths[0]?.path;
    if (path !== undefined) service.path = path;
    if (spec.provider)
      service.managed = { id: randomUUID(), provider: spec.provider.name, readyAt: now + managedMs };
    return service;
  });
}

/** The app services (not managed) whose replicas run stages: the deployed landscape's, else the file's. */
export function appServices(
  world: World,
  workspace: Workspace,
  profile: string | undefined,
): LandscapeService[] {
  const repository = repositoryOf(world, workspace);
  if (!repository) return [];
  const services =
    workspace.landscape && workspace.landscape.profile === profile
      ? workspace.landscape.services
      : servicesOf(repository, profile, world.now(), 0);
  return services.filter((s) => !s.managed);
}

/** How many tunnels a landscape workspace opens: one per replica of every app service. */
export function tunnelCount(workspace: Workspace): number | undefined {
  if (!workspace.landscape) return undefined;
  return workspace.landscape.services.filter((s) => !s.managed).reduce((sum, s) => sum + s.replicas, 0);
}

/**
 * The tunnel index of a service replica: tunnels are numbered over the app services in order
 * (web 0..1, then api 2), so each service replica has its own tunnel in any driver.
 */
export function tunnelIndex(workspace: Workspace, server: string, replica: number): number {
  const services = (workspace.landscape?.services ?? []).filter((s) => !s.managed);
  let offset = 0;
  for (const service of services) {
    if (service.name === server) {
      if (!Number.isInteger(replica) || replica < 0 || replica >= service.replicas)
        throw new Problem(
          400,
          `Invalid request body: env.CODESPHERE_REPLICA: service '${server}' has replicas 0..${service.replicas - 1}, got '${replica}'`,
        );
      return offset + replica;
    }
    offset += service.replicas;
  }
  throw new Problem(
    400,
    `Invalid request body: env.CODESPHERE_SERVER: expected one of ${services.map((s) => s.name).join(', ') || '(no services: deploy the landscape first)'}, got '${server}'`,
  );
}

/** Deploys (syncs) the landscape of `profile`: its services, replicas as the file says, managed services anew. */
export function deployLandscape(world: World, workspace: Workspace, profile: string | undefined): void {
  const repository = repositoryOf(world, workspace);
  if (!repository) return;
  const services = servicesOf(repository, profile, world.now(), world.timing.managedServiceMs);
  // Managed services that stay keep their id and readiness (a redeploy does not recreate a database).
  for (const service of services) {
    const before = workspace.landscape?.services.find((s) => s.name === service.name && s.managed);
    if (before?.managed && service.managed) service.managed = before.managed;
  }
  const landscape: Landscape = { deployedAt: world.now(), services };
  if (profile !== undefined) landscape.profile = profile;
  workspace.landscape = landscape;
}

/** PATCH landscape/scale: the named services' replicas (unknown services and counts above the plan's limit are 400). */
export function scaleLandscape(world: World, workspace: Workspace, counts: Record<string, number>): void {
  if (!repositoryOf(world, workspace))
    throw new Problem(
      400,
      'Workspace does not support Multi Server Deployments (its ci.yml is not a v0.2 landscape).',
    );
  const landscape = workspace.landscape;
  if (!landscape)
    throw new Problem(400, 'The landscape is not deployed: deploy it before scaling its services.');
  const apps = landscape.services.filter((s) => !s.managed);
  const unknown = Object.keys(counts).filter((name) => !apps.some((s) => s.name === name));
  if (unknown.length > 0)
    throw new Problem(
      400,
      `Invalid request body: unknown service(s) ${unknown.map((n) => `'${n}'`).join(', ')}; the landscape has ${apps.map((s) => s.name).join(', ')}.`,
    );
  const plan = world.plans.find((p) => p.id === workspace.planId);
  for (const [name, count] of Object.entries(counts)) {
    if (plan && count > plan.maxReplicas)
      throw new Problem(
        400,
        `Plan ${plan.id} (${plan.title}) allows at most ${plan.maxReplicas} replica(s) per service, ${count} requested for '${name}'.`,
      );
  }
  for (const service of apps) service.replicas = counts[service.name] ?? service.replicas;
}

/** The failure knobs that match a stage run (seed repository knobs plus the workspace's own). */
export function failuresFor(world: World, workspace: Workspace, stage: Stage): ReplicaFailure[] {
  const fromSeed = (repositoryOf(world, workspace)?.fail ?? []).filter((f) => f.stage === stage);
  return [...fromSeed, ...workspace.replicaFailures.filter((f) => f.stage === stage)];
}

function fails(run: StageRun, service: string, replica: number): boolean {
  return (run.replicaFailures ?? []).some(
    (f) => f.service === service && (f.replica === undefined || f.replica === replica),
  );
}

/**
 * pipelineStatus of a landscape workspace: one entry per app service × replica, plus (for run)
 * one per managed service. An entry a knob names follows the failing timeline; the others the
 * normal one; app services wait in run until every managed service is ready.
 */
export function landscapeStageStatus(world: World, workspace: Workspace, stage: Stage) {
  const run = workspace.pipeline[stage];
  const services =
    stage === 'run' && workspace.landscape
      ? workspace.landscape.services
      : appServices(world, workspace, run?.profile ?? workspace.landscape?.profile);
  const iso = (ms: number) => new Date(ms).toISOString();
  const managedReadyAt = Math.max(0, ...services.map((s) => s.managed?.readyAt ?? 0));
  const clean: StageRun | undefined = run && {
    ...run,
    fails: false,
    steps: run.steps.map((s) => ({ ...s, fails: false })),
  };
  return services.flatMap((service) =>
    Array.from({ length: service.replicas }, (_, replica) => {
      if (service.managed) {
        const ready = world.now() >= service.managed.readyAt;
        const state: StageState = !run
          ? 'waiting'
          : run.stoppedAt !== undefined
            ? 'aborted'
            : ready
              ? 'running'
              : 'waiting';
        return {
          state,
          ...(ready && run ? { startedAt: iso(service.managed.readyAt) } : {}),
          steps: [],
          replica: String(replica),
          server: service.name,
        };
      }
      const failing =
        run !== undefined &&
        (run.replicaFailures && run.replicaFailures.length > 0
          ? fails(run, service.name, replica)
          : run.fails);
      const entry = world.stageStatusOf(stage, failing ? run : clean);
      const waitingForManaged = stage === 'run' && run !== undefined && world.now() < managedReadyAt;
      return {
        ...entry,
        ...(waitingForManaged && run.stoppedAt === undefined
          ? {
              state: 'waiting',
              steps: entry.steps.map(() => ({ state: 'waiting' })),
            }
          : {}),
        replica: String(replica),
        server: service.name,
      };
    }),
  );
}

/** Removes the landscape (teardown): its services and managed services stop and are gone. */
export function teardownLandscape(workspace: Workspace): void {
  delete workspace.landscape;
}

/** Every managed service that exists, for /_emulator/state (a deleted workspace's are gone with it). */
export function managedServicesOf(world: World) {
  return [...world.workspaces.values()].flatMap((w) =>
    (w.landscape?.services ?? [])
      .filter((s) => s.managed)
      .map((s) => ({
        id: s.managed?.id ?? '',
        name: s.name,
        provider: s.managed?.provider ?? '',
        workspaceId: w.id,
        ready: world.now() >= (s.managed?.readyAt ?? 0),
      })),
  );
}
