/**
 * The emulator's options, how they resolve to defaults, and the seeding of a fresh world.
 * Nothing here reads the environment: the CLI (cli.ts) turns EMULATOR_SEED and EMULATOR_CONTRACT
 * into options, the tests' setup file (test/contract/record-contract.setup.ts) sets the validator.
 */
import { systemClock, type Clock } from './clock.js';
import type { DriverChoice } from './driver-choice.js';
import type { ContractMode, ContractValidator } from './recording.js';
import { loadSeed, timingSchema, type Seed, type SeedInput, type Timing } from './seed.js';
import type { World } from './state.js';

export interface EmulatorOptions {
  /** Path to a YAML seed, or a seed object; default emulator/seeds/default.yaml. */
  seed?: string | SeedInput;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 'simulated'. */
  driver?: DriverChoice;
  /** Overrides the seed's latencies, e.g. { provisioningMs: 50, stageMs: 30 }. */
  timing?: Partial<Timing>;
  /**
   * Checks every /api exchange against the API contract and records violations in the request
   * log (GET /_emulator/contract-violations). Default: the one set by setDefaultValidator (the
   * vitest setup file sets test/contract's), else none.
   */
  validate?: ContractValidator;
  /** 'off' ignores any validator; 'record' demands one (throws without). Default: 'record' when there is one. */
  contract?: ContractMode;
  /** Where notices (the strongSwan fallback, tunnel driver failures) go; default console.warn. */
  notice?: (message: string) => void;
  /**
   * The emulator's time (clock.ts): provisioning, stages, log streaming, simulated tunnels,
   * sign-in expiry, latency and the request log. Default: real time. Tests pass a VirtualClock.
   */
  clock?: Clock;
}

let defaultValidator: ContractValidator | undefined;

/**
 * Sets the validator emulators use when their options name none (undefined: none). The vitest
 * setup file calls it once per test file, so every suite's emulator records contract violations
 * without each test passing it.
 */
export function setDefaultValidator(validate: ContractValidator | undefined): void {
  defaultValidator = validate;
}

export interface ResolvedOptions {
  seed: Seed;
  /** The timing the emulator starts with and returns to on reset. */
  baseTiming: () => Timing;
  clock: Clock;
  notice: (message: string) => void;
  validate: ContractValidator | undefined;
}

/** Fills in the defaults; throws when the seed is invalid or 'record' has no validator. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  const seed = loadSeed(options.seed);
  const validate = options.contract === 'off' ? undefined : (options.validate ?? defaultValidator);
  if (options.contract === 'record' && !validate) {
    throw new Error("emulator: contract 'record' needs a validator (options.validate)");
  }
  return {
    seed,
    baseTiming: () => timingSchema.parse({ ...seed.timing, ...options.timing }),
    clock: options.clock ?? systemClock,
    notice: options.notice ?? ((message: string) => console.warn(message)),
    validate,
  };
}

/** Workspaces declared in the seed (e.g. stale previews for prune tests), created as the API would. */
export function seedWorkspaces(world: World): void {
  const now = world.now();
  for (const spec of world.seed.workspaces) {
    const team = [...world.teams.values()].find((t) => t.name === spec.team);
    if (!team) continue;
    const owner =
      world.seed.users.find((u) => u.email === spec.owner) ??
      world.seed.users.find((u) => team.members.has(u.id));
    const branch = spec.gitUrl ? (spec.branch ?? 'main') : null;
    const workspace = {
      id: world.nextWorkspaceId++,
      teamId: team.id,
      name: spec.name,
      planId: spec.planId,
      isPrivateRepo: false,
      replicas: spec.replicas,
      dataCenterId: team.defaultDataCenterId,
      userId: owner?.id ?? 0,
      gitUrl: spec.gitUrl ?? null,
      initialBranch: spec.branch ?? null,
      sourceWorkspaceId: null,
      welcomeMessage: null,
      vpnConfig: spec.vpnConfig ?? null,
      restricted: false,
      collectTraces: false,
      persistentLogs: false,
      createdAt: new Date(now).toISOString(),
      // A seeded 'running' workspace started provisioning long ago.
      provisioningFrom: spec.running ? 0 : now,
      env: new Map<string, string>(),
      git: spec.gitUrl && branch ? { branch, commit: world.remoteHead(spec.gitUrl, branch) } : null,
      pipeline: {},
      failStages: new Set<never>(),
      landscapeDeployed: false,
      replicaFailures: [],
    };
    world.workspaces.set(workspace.id, workspace);
    world.connectVpn(workspace, false);
  }
}
