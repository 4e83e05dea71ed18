/**
 * The emulator's seed: the world it starts with (users, tokens, teams, plans, data centers, VPN
 * configs, gateways, timing). One zod schema validates both YAML files and objects passed in by
 * tests, so a typo in a seed fails at start with the field named, not later as odd behaviour.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeIssue, vpnConfigSchema } from './vpn.js';

export const DEFAULT_SEED_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'seeds',
  'default.yaml',
);

const ms = z.number().int().min(0);

export const timingSchema = z.object({
  /** From create until `status.isRunning` is true. */
  provisioningMs: ms.default(1500),
  /** A started pipeline stage is `waiting` this long before `running`. */
  stageQueueMs: ms.default(150),
  /** prepare/test are `running` this long before success or failure (`run` keeps running). */
  stageMs: ms.default(1500),
  /** A tunnel is `connecting` this long before it is up or down. */
  tunnelConnectMs: ms.default(600),
  /** A restarted tunnel is `restarting` this long before it connects again. */
  tunnelRestartMs: ms.default(400),
  /** Added to every Public API / sign-in response. */
  latencyMs: ms.default(0),
  /** A landscape's managed service (e.g. Postgres) is ready this long after the landscape deploy. */
  managedServiceMs: ms.default(300),
  /** A sign-in session can be turned into an access token this long (the service documents no lifetime). */
  sessionTtlMs: ms.default(10 * 60_000),
  /** A sign-in access token works this long; then 401 and it is dropped (API tokens never expire). */
  accessTokenTtlMs: ms.default(60 * 60_000),
});
export type Timing = z.output<typeof timingSchema>;

/** A change to some latencies (no defaults: absent keys stay as they are). */
export const timingPatchSchema = z.strictObject({
  provisioningMs: ms.optional(),
  stageQueueMs: ms.optional(),
  stageMs: ms.optional(),
  tunnelConnectMs: ms.optional(),
  tunnelRestartMs: ms.optional(),
  latencyMs: ms.optional(),
  managedServiceMs: ms.optional(),
  sessionTtlMs: ms.optional(),
  accessTokenTtlMs: ms.optional(),
});

const gatewaySchema = z.object({
  name: z.string().min(1),
  publicIp: z.string(),
  ikeVersion: z.enum(['ikev1', 'ikev2']),
  psk: z.string().min(1),
  ikeProposals: z.array(z.string()).min(1),
  espProposals: z.array(z.string()).min(1),
  pool: z.string(),
  subnets: z.array(z.string()).min(1),
  hosts: z.array(z.string()).default([]),
  reachable: z.boolean().optional(),
});

const seedWorkspaceSchema = z.object({
  team: z.string(),
  name: z.string().min(1),
  planId: z.int(),
  owner: z.string().optional(),
  replicas: z.int().min(1).default(1),
  gitUrl: z.string().optional(),
  branch: z.string().optional(),
  vpnConfig: z.string().optional(),
  /** Already provisioned when the emulator starts (default true). */
  running: z.boolean().default(true),
});

export const seedSchema = z.object({
  timing: timingSchema.default(timingSchema.parse({})),
  dataCenters: z
    .array(
      z.object({
        id: z.int().min(0),
        name: z.string(),
        city: z.string(),
        countryCode: z.string(),
        /** devDomain is `<workspaceId>-3000.<host>`. */
        host: z.string(),
      }),
    )
    .min(1),
  plans: z.array(
    z.object({
      id: z.int().min(0),
      title: z.string(),
      onDemand: z.boolean().default(false),
      deprecated: z.boolean().default(false),
      priceUsd: z.number().default(0),
      cpu: z.number().default(1),
      gpu: z.number().default(0),
      ramMb: z.int().default(2048),
      ssdMb: z.int().default(10240),
      tempStorageMb: z.int().default(0),
      maxReplicas: z.int().min(1).default(1),
    }),
  ),
  users: z.array(
    z.object({
      id: z.int(),
      email: z.string(),
      password: z.string(),
      apiTokens: z.array(z.string().min(1)).default([]),
    }),
  ),
  teams: z.array(
    z.object({
      id: z.int().min(0),
      name: z.string(),
      description: z.string().nullable().default(null),
      defaultDataCenterId: z.int().min(0),
      members: z.array(
        z.object({ email: z.string(), role: z.union([z.literal(0), z.literal(1)]).default(1) }),
      ),
      vpnConfigs: z.array(vpnConfigSchema).default([]),
    }),
  ),
  gateways: z.array(gatewaySchema).default([]),
  pipeline: z
    .object({
      failStages: z.array(z.enum(['prepare', 'test', 'run'])).default([]),
      /**
       * What the steps of a stage print, per branch (no branch: every branch without its own
       * entry). Lines may use `${NAME}` for a workspace env var; `generate` appends numbered lines
       * (`{n}` in `line`) for volume tests; `fails` makes the step, and so the stage, fail.
       */
      logs: z
        .array(
          z.object({
            branch: z.string().optional(),
            stage: z.enum(['prepare', 'test', 'run']),
            steps: z
              .array(
                z.object({
                  lines: z.array(z.string()).default([]),
                  generate: z
                    .object({ count: z.int().min(0).max(1_000_000), line: z.string().default('line {n}') })
                    .optional(),
                  fails: z.boolean().default(false),
                }),
              )
              .min(1),
          }),
        )
        .default([]),
      /**
       * The app the run stage serves, per branch (emulator/app.ts): it answers `status`
       * on port 3000 from `readyAfterMs` after run starts, or never listens (`never`).
       */
      apps: z
        .array(
          z.object({
            branch: z.string().optional(),
            readyAfterMs: ms.default(0),
            status: z.int().min(100).max(599).default(200),
            never: z.boolean().default(false),
          }),
        )
        .default([]),
    })
    .default({ failStages: [], logs: [], apps: [] }),
  /**
   * Repositories whose ci.yml is a v0.2 landscape (emulator/landscape.ts), per branch: `files`
   * holds `ci.yml` and `ci.<profile>.yml` as YAML text; `fail` makes a stage fail on one service
   * (and replica, or all of its replicas). Other branches are single-service repositories.
   */
  repositories: z
    .array(
      z.object({
        branch: z.string().min(1),
        files: z.record(z.string().regex(/^ci(\.[\w-]+(\.[\w-]+)*)?\.yml$/), z.string()),
        fail: z
          .array(
            z.object({
              stage: z.enum(['prepare', 'test', 'run']),
              service: z.string().min(1),
              replica: z.int().min(0).optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  workspaces: z.array(seedWorkspaceSchema).default([]),
  workspaceIdStart: z.int().min(1).default(60_001),
});

/** A seed as written (defaults optional). */
export type SeedInput = z.input<typeof seedSchema>;
/** A seed after validation and defaults. */
export type Seed = z.output<typeof seedSchema>;

export class SeedError extends Error {
  override name = 'SeedError';
}

/** Reads and validates a seed from a YAML file, or validates a seed object. */
export function loadSeed(source: string | SeedInput = DEFAULT_SEED_PATH): Seed {
  let raw: unknown = source;
  const where = typeof source === 'string' ? source : 'the seed object';
  if (typeof source === 'string') {
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      throw new SeedError(`Cannot read seed file ${source}: ${(error as Error).message}`, { cause: error });
    }
    try {
      raw = parseYaml(text);
    } catch (error) {
      throw new SeedError(`Seed file ${source} is not valid YAML: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const result = seedSchema.safeParse(raw);
  if (!result.success) {
    throw new SeedError(
      `Invalid seed (${where}): ${result.error.issues.slice(0, 5).map(describeIssue).join('; ')}`,
    );
  }
  checkReferences(result.data, where);
  return result.data;
}

/** Cross-references zod cannot see: members and workspaces must name existing users, teams, plans. */
function checkReferences(seed: Seed, where: string): void {
  const emails = new Set(seed.users.map((u) => u.email));
  const problems: string[] = [];
  for (const team of seed.teams) {
    for (const member of team.members) {
      if (!emails.has(member.email))
        problems.push(`team '${team.name}' member ${member.email} is not a user`);
    }
    if (!seed.dataCenters.some((dc) => dc.id === team.defaultDataCenterId)) {
      problems.push(
        `team '${team.name}' defaultDataCenterId ${team.defaultDataCenterId} is not a data center`,
      );
    }
  }
  for (const ws of seed.workspaces) {
    const team = seed.teams.find((t) => t.name === ws.team);
    if (!team) problems.push(`workspace '${ws.name}' team '${ws.team}' does not exist`);
    if (!seed.plans.some((p) => p.id === ws.planId))
      problems.push(`workspace '${ws.name}' plan ${ws.planId} does not exist`);
    if (ws.vpnConfig && team && !team.vpnConfigs.some((c) => c.name === ws.vpnConfig)) {
      problems.push(`workspace '${ws.name}' vpnConfig '${ws.vpnConfig}' does not exist in '${ws.team}'`);
    }
  }
  const tokens = seed.users.flatMap((u) => u.apiTokens);
  if (new Set(tokens).size !== tokens.length) problems.push('an API token is used twice');
  if (problems.length > 0) throw new SeedError(`Invalid seed (${where}): ${problems.join('; ')}`);
}
