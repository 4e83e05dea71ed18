/**
 * The local Codesphere emulator: Public API under `/api`, the sign-in service under
 * `/auth-service`, inspection/faults/VPN administration under `/_emulator`. See README.md.
 *
 *   const emulator = await startEmulator({ timing: { provisioningMs: 50, stageMs: 30 } });
 *   // emulator.url is the apiUrl; the Public API is `${emulator.url}/api`
 *   await emulator.close();
 *
 * Parts: options.ts, clock.ts, server.ts, dispatch.ts, http-io.ts, recording.ts, admin.ts, api.ts.
 */
import { inspectState, type AdminContext, type RequestLogEntry } from './admin.js';
import { chooseDriver } from './driver-choice.js';
import { dispatch } from './dispatch.js';
import { FaultBook, type FaultInput } from './faults.js';
import { resolveOptions, seedWorkspaces, type EmulatorOptions } from './options.js';
import { RequestLog, type ContractMode } from './recording.js';
import { timingPatchSchema, type Timing } from './seed.js';
import { listen } from './server.js';
import { World } from './state.js';
import type { TunnelDriver } from './tunnels/driver.js';
import { createSimulatedDriver } from './tunnels/simulated.js';

export type { Seed, SeedInput, Timing } from './seed.js';
export type { RequestLogEntry } from './admin.js';
export type { FaultInput } from './faults.js';
export { World } from './state.js';
export type { DriverChoice } from './driver-choice.js';
export type { EmulatorOptions } from './options.js';
export { setDefaultValidator } from './options.js';
export type { ContractMode, ContractValidator, Exchange } from './recording.js';
export { systemClock, VirtualClock, type Clock } from './clock.js';

export interface RunningEmulator {
  /** The apiUrl, e.g. http://127.0.0.1:3170 (Public API at `${url}/api`). */
  url: string;
  port: number;
  /** The demo user's API token (first token of the seed's first user). */
  apiToken: string;
  /** Live state; replaced on reset, so read it through this getter each time. */
  readonly world: World;
  readonly driver: TunnelDriver;
  readonly faults: FaultBook;
  /** 'record' when a contract validator checks every /api exchange. */
  readonly contract: ContractMode;
  /** Arms a fault for the next matching request(s); same as POST /_emulator/faults. */
  arm(fault: FaultInput): void;
  setTiming(timing: Partial<Timing>): Timing;
  /** What GET /_emulator/state returns. */
  state(): ReturnType<typeof inspectState>;
  requestLog(): RequestLogEntry[];
  contractViolations(): RequestLogEntry[];
  /** Back to the seed: workspaces, tunnels, faults, request log and timing. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an emulator on 127.0.0.1. Throws when the seed is invalid, the port is taken, the
 * strongSwan driver was demanded but cannot run, or contract 'record' has no validator.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { seed, baseTiming, clock, notice, validate } = resolveOptions(options);
  const timing: Timing = baseTiming();
  const driver = await chooseDriver(
    options.driver ?? 'simulated',
    seed.gateways,
    () =>
      createSimulatedDriver(
        () => timing,
        () => clock.now(),
      ),
    notice,
  );
  const faults = new FaultBook();
  const log = new RequestLog(validate);

  const newWorld = () => {
    const created = new World(seed, timing, driver, notice, clock);
    seedWorkspaces(created);
    return created;
  };
  let world = newWorld();

  const setTiming = (patch: Partial<Timing>): Timing => Object.assign(timing, timingPatchSchema.parse(patch));
  const reset = async () => {
    await world.settle();
    for (const id of world.workspaces.keys()) await driver.disconnect(id);
    faults.clear();
    log.clear();
    Object.assign(timing, baseTiming());
    world = newWorld();
  };
  const admin: AdminContext = {
    world: () => world,
    faults,
    log: () => log.list(),
    clearLog: () => log.clear(),
    setTiming,
    reset,
    contractMode: () => log.mode,
  };

  const server = await listen(options.port ?? 0, (req, res) =>
    dispatch({ world: () => world, faults, log, timing, clock, admin }, req, res),
  );
  let closed = false;

  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    apiToken: seed.users[0]?.apiTokens[0] ?? '',
    get world() {
      return world;
    },
    driver,
    faults,
    contract: log.mode,
    arm: (fault) => {
      faults.arm(fault);
    },
    setTiming,
    state: () => inspectState(world, faults),
    requestLog: () => [...log.list()],
    contractViolations: () => log.violations(),
    reset,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await world.settle();
      await driver.close();
    },
  };
}
