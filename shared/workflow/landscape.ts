/**
 * The pipeline of a preview, single-service or landscape (docs/landscapes.md): the requested
 * stages before run (prepare, test) each started with the CI profile; then, for a landscape, the
 * landscape deploy, the per-service scale and the run stage, ready when every service replica
 * (managed services included) is running; then health and VPN checks from every replica of every
 * app service. A single-service workspace runs prepare and run exactly as before.
 *
 * A landscape is told from the API: the input asks for one (a profile, per-service replicas or
 * health paths), or the pipeline status names more than one server. A managed service is a run
 * entry without steps (it runs none of ours); its URL and paths come from the profile's ci file,
 * read from inside the workspace (`cat ci.<profile>.yml`), when it can be read.
 */
import { z } from 'zod';
import type { StageReplica } from '../codesphere/schemas.js';
import { ApiError, ConfigError, errorMessage, StageFailedError, StageFailedWithLogError } from '../errors.js';
import type { DeployRequest, HealthCheckTarget } from '../request/schema.js';
import { runHealthCheck } from './health-check.js';
import { notFoundAsWorkspaceGone, runStage, type WaitContext } from './pipeline.js';
import type { Session } from './session.js';
import { ERROR_TAIL_LINES, runStageWithLogs, StepLog, DEFAULT_STEP_LINE_CAP } from './stage-logs.js';
import { requirePassed, runVpnCheck } from './vpn-check.js';

/** One replica's checks in the report: what the health and VPN checks found (absent: not asked). */
export interface ServiceReplicaChecks {
  replica: number;
  health?: string | undefined;
  vpn?: string | undefined;
}

/** One landscape service as a deploy reports it. */
export interface ServiceResult {
  name: string;
  replicas: number;
  /** running, success (a run that exited 0), or waiting for a managed service not yet up. */
  state: string;
  /** Path routing on the dev domain (`https://<devDomain><path>`); empty when it has none. */
  url: string;
  managed: boolean;
  checks: ServiceReplicaChecks[];
}

/** Phase timing (deploy.ts's stopwatch). */
export type Phase = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

const SINGLE_SERVER = 'codesphere-ide';

/** Whether the input asks for a landscape. */
export function wantsLandscape(request: DeployRequest): boolean {
  return (
    request.profile !== undefined ||
    request.serviceReplicas !== undefined ||
    request.serviceHealthPaths !== undefined
  );
}

/** Whether a pipeline status is a landscape's: more than one server, or one that is not the IDE's. */
export function isLandscapeStatus(entries: StageReplica[]): boolean {
  const servers = new Set(entries.map((e) => e.server));
  return servers.size > 1;
}

/** Turns Codesphere's 400 on a profile into an input error naming `profile` (its detail lists the profiles). */
async function profileErrors<T>(request: DeployRequest, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err: unknown) {
    if (err instanceof ApiError && err.status === 400 && request.profile !== undefined)
      throw new ConfigError(
        [
          {
            field: 'profile',
            message: `got "${request.profile}", which Codesphere refused for this repository: ${err.detail ?? err.message}`,
          },
        ],
        { cause: err },
      );
    throw err;
  }
}

/**
 * Runs the requested stages. Returns the run stage's last status for a landscape, undefined for a
 * single-service workspace. A failed stage throws (StageFailedError naming the stage, service and
 * replica) and nothing after it starts: no later stage, no landscape deploy.
 */
export async function runPipeline(
  session: Session,
  workspaceId: number,
  ctx: WaitContext,
  phase: Phase,
): Promise<StageReplica[] | undefined> {
  const { request, reporter, client } = session;
  const profile = request.profile;
  const withProfile = profile === undefined ? '' : ` with profile "${profile}" (ci.${profile}.yml)`;
  let landscape = wantsLandscape(request);
  let servers: string[] = [];
  for (const stage of request.stages) {
    if (stage === 'run') break;
    // No outer group: each step's log is its own group (GitHub groups do not nest).
    await phase(stage, async () => {
      reporter.info(`Pipeline: ${stage}${withProfile} (its steps' logs follow).`);
      const entries = await profileErrors(request, () =>
        runStageWithLogs(ctx, workspaceId, stage, 'success', { profile, landscape }),
      );
      landscape ||= isLandscapeStatus(entries);
      servers = [...new Set(entries.map((e) => e.server))];
      reporter.info(`${stage} succeeded on every ${landscape ? 'service replica' : 'replica'}.`);
    });
  }
  if (!landscape && request.stages[0] === 'run') {
    // No stage ran before run: the run stage's status (waiting) names the servers.
    const before = await notFoundAsWorkspaceGone(workspaceId, () =>
      client.pipelineStatus(workspaceId, 'run'),
    );
    landscape = isLandscapeStatus(before);
    servers = [...new Set(before.map((e) => e.server))];
  }
  if (!landscape) {
    await phase('run', () =>
      reporter.group('Pipeline: run', async () => {
        await runStage(ctx, workspaceId, 'run', 'running', undefined, { profile });
        reporter.info('run is running on every replica.');
      }),
    );
    return undefined;
  }
  await phase('landscape', () =>
    reporter.group(`Deploy the landscape${withProfile}`, async () => {
      await profileErrors(request, () =>
        notFoundAsWorkspaceGone(workspaceId, () => client.deployLandscape(workspaceId, profile)),
      );
      reporter.info(`Landscape deployed from ${profile === undefined ? 'ci.yml' : `ci.${profile}.yml`}.`);
      const scale = request.serviceReplicas;
      if (scale) {
        const known = servers.filter((s) => s !== SINGLE_SERVER);
        const unknown = Object.keys(scale).filter((name) => known.length > 0 && !known.includes(name));
        if (unknown.length > 0) throw unknownServices(unknown, known);
        try {
          await notFoundAsWorkspaceGone(workspaceId, () => client.scaleLandscape(workspaceId, scale));
        } catch (err: unknown) {
          if (err instanceof ApiError && err.status === 400)
            throw new ConfigError(
              [
                {
                  field: 'replicas',
                  message: `Codesphere refused the scale ${describeScale(scale)}: ${err.detail ?? err.message}`,
                },
              ],
              { cause: err },
            );
          throw err;
        }
        reporter.info(`Scaled ${describeScale(scale)}.`);
      }
    }),
  );
  return phase('run', () =>
    reporter.group('Pipeline: run', async () => {
      const entries = await runLandscapeRun(session, workspaceId, ctx);
      reporter.info(`run is running on every service replica: ${summarise(entries)}.`);
      return entries;
    }),
  );
}

function describeScale(scale: Record<string, number>): string {
  return Object.entries(scale)
    .map(([name, count]) => `${name}=${count}`)
    .join(', ');
}

function unknownServices(unknown: string[], known: string[]): ConfigError {
  return new ConfigError([
    {
      field: 'replicas',
      message: `names ${unknown.map((n) => `"${n}"`).join(', ')}, which the landscape does not have; its services: ${known.join(', ')}`,
    },
  ]);
}

function summarise(entries: StageReplica[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.server, (counts.get(e.server) ?? 0) + 1);
  return [...counts].map(([server, n]) => `${server} ×${n}`).join(', ');
}

/**
 * The landscape's run stage: started with the profile, followed per service (logs/run/0/server/{s},
 * bounded and masked through the reporter) until every entry runs; a failure quotes the failing
 * service's log tail.
 */
async function runLandscapeRun(
  session: Session,
  workspaceId: number,
  ctx: WaitContext,
): Promise<StageReplica[]> {
  const { request, reporter, client } = session;
  const abort = new AbortController();
  const logs = new Map<string, StepLog>();
  const followed = new Set<string>();
  const followers: Array<Promise<void>> = [];
  const follow = (server: string) => {
    if (followed.has(server)) return;
    followed.add(server);
    const log = new StepLog((line) => reporter.info(`│ ${server}: ${line}`), DEFAULT_STEP_LINE_CAP);
    logs.set(server, log);
    followers.push(
      client
        .followServerLogs(
          workspaceId,
          0,
          server,
          {
            onEntries: (entries) => log.add(entries),
            onProblem: (problem) =>
              reporter.debug(
                `The run log of ${server} is not available (${problem.status} ${problem.title}).`,
              ),
            onInvalid: () => undefined,
          },
          abort.signal,
        )
        .then(
          () => undefined,
          (error: unknown) =>
            reporter.debug(`Could not read the run log of ${server}: ${errorMessage(error)}`),
        ),
    );
  };
  let latest: StageReplica[] = [];
  try {
    return await runStage(
      ctx,
      workspaceId,
      'run',
      'running',
      (entries) => {
        latest = entries;
        // App services (with steps) that started: follow their log.
        for (const e of entries) if (e.steps.length > 0 && e.state !== 'waiting') follow(e.server);
      },
      { profile: request.profile, landscape: true },
    );
  } catch (failure: unknown) {
    if (!(failure instanceof StageFailedError)) throw failure;
    const failed = latest.find((e) => e.state === 'failure' || e.state === 'aborted');
    // Give the failing service's stream a moment to deliver its last lines.
    await ctx.deps.clock.sleep(Math.min(500, Math.max(0, ctx.deadline - ctx.deps.clock.now())));
    const log = failed ? logs.get(failed.server) : undefined;
    if (!failed || !log || log.total === 0) throw failure;
    const lines = log.tail(ERROR_TAIL_LINES);
    const quoted =
      `\nLast ${lines.length} of ${log.total} line(s) of the run log of ${failed.server}:\n` +
      lines.map((line) => `  ${line}`).join('\n');
    throw new StageFailedWithLogError(
      `${failure.message}${quoted}`,
      { stage: 'run', step: 0, totalLines: log.total, lines },
      quoted,
      { cause: failure },
    );
  } finally {
    abort.abort();
    await Promise.all(followers);
  }
}

const ciFileSchema = z.object({
  run: z.record(
    z.string(),
    z
      .object({
        provider: z.unknown().optional(),
        network: z.object({ paths: z.array(z.object({ path: z.string() })).optional() }).optional(),
      })
      .loose(),
  ),
});

/** Paths and managed services from the profile's ci file, read inside the workspace; undefined when unreadable. */
async function readCiFile(
  session: Session,
  workspaceId: number,
): Promise<z.output<typeof ciFileSchema> | undefined> {
  const name = session.request.profile === undefined ? 'ci.yml' : `ci.${session.request.profile}.yml`;
  // Loaded here, not at start-up: only a landscape reads its ci file (the bundles keep yaml in a chunk).
  const { parse: parseYaml } = await import('yaml');
  try {
    const result = await session.client.executeCommand(workspaceId, `cat ${name}`);
    if (result.error !== '') return undefined;
    const parsed = ciFileSchema.safeParse(parseYaml(result.output));
    return parsed.success ? parsed.data : undefined;
  } catch (err: unknown) {
    session.reporter.debug(`Could not read ${name}: ${errorMessage(err)}`);
    return undefined;
  }
}

/**
 * The services of a running landscape, each app service checked from every replica: the health
 * check (its `healthPath`, or the one path for all) and the VPN check. Throws the first failed
 * check (HealthCheckFailedError, VpnCheckFailedError naming the service replica).
 */
export async function checkServices(
  session: Session,
  workspaceId: number,
  devDomain: string,
  entries: StageReplica[],
  ctx: WaitContext,
): Promise<ServiceResult[]> {
  const { request, reporter } = session;
  const file = await readCiFile(session, workspaceId);
  const names = [...new Set(entries.map((e) => e.server))];
  const paths = request.serviceHealthPaths;
  if (paths) {
    const unknown = Object.keys(paths).filter((n) => !names.includes(n));
    if (unknown.length > 0)
      throw new ConfigError([
        {
          field: 'healthPath',
          message: `names ${unknown.map((n) => `"${n}"`).join(', ')}, which the landscape does not have; its services: ${names.join(', ')}`,
        },
      ]);
  }
  const services: ServiceResult[] = [];
  for (const name of names) {
    const mine = entries.filter((e) => e.server === name);
    const spec = file?.run[name];
    const managed = spec ? spec.provider !== undefined : mine.every((e) => e.steps.length === 0);
    const path = spec?.network?.paths?.[0]?.path;
    const url = path !== undefined && devDomain ? `https://${devDomain}${path === '/' ? '' : path}` : '';
    const state = mine.every((e) => e.state === 'running')
      ? 'running'
      : mine.every((e) => e.state === 'success' || e.state === 'running')
        ? 'success'
        : (mine[0]?.state ?? 'waiting');
    const checks: ServiceReplicaChecks[] = mine.map((_, replica) => ({ replica }));
    if (!managed) {
      const health: HealthCheckTarget | undefined = paths ? paths[name] : request.healthCheck;
      if (health) {
        const outcome = await reporter.group(`Health check: ${name} ${health.label}`, () =>
          runHealthCheck({ ...ctx, workspaceId, replicas: mine.length, server: name }, health),
        );
        for (const r of outcome.replicas) {
          const row = checks[r.replica];
          if (row) row.health = r.reason;
        }
      }
      const target = request.vpnCheck;
      if (target) {
        requirePassed(
          await reporter.group(`VPN check: ${name} → ${target.label}`, () =>
            runVpnCheck(
              { ...ctx, workspaceId, replicas: mine.length, vpnConfig: request.vpnConfig, server: name },
              target,
            ),
          ),
        );
        for (const row of checks) row.vpn = `${target.label} reachable`;
      }
    }
    services.push({ name, replicas: mine.length, state, url, managed, checks });
  }
  return services;
}
