/**
 * Which tunnel driver the emulator runs. 'simulated' always works; 'strongswan' needs the real
 * driver (tunnels/strongswan/index.ts: Linux, root, strongSwan) and fails with the reason otherwise;
 * 'auto' takes strongSwan only where it can work (root, charon installed, module loads) and
 * otherwise falls back to the simulated driver with a notice. The environment checks are
 * injectable so the decision table is tested on any machine.
 */
import { existsSync } from 'node:fs';
import type { GatewaySpec, TunnelDriver } from './tunnels/driver.js';

export type DriverChoice = 'simulated' | 'strongswan' | 'auto';

export const CHARON_PATH = '/usr/lib/ipsec/charon';

type StrongswanFactory = (gateways: GatewaySpec[]) => Promise<TunnelDriver>;

export interface DriverEnvironment {
  isRoot(): boolean;
  hasCharon(): boolean;
  /** Loads `createStrongswanDriver` from tunnels/strongswan/index.js. */
  loadStrongswan(): Promise<StrongswanFactory>;
}

export const realEnvironment: DriverEnvironment = {
  isRoot: () => process.getuid?.() === 0,
  hasCharon: () => existsSync(CHARON_PATH),
  async loadStrongswan() {
    // A variable specifier: loaded only when asked for (it pulls in the gateway helper and VICI).
    const specifier = './tunnels/strongswan/index.js';
    const loaded = (await import(specifier)) as { createStrongswanDriver?: unknown };
    if (typeof loaded.createStrongswanDriver !== 'function') {
      throw new Error('tunnels/strongswan/index.js does not export createStrongswanDriver');
    }
    return loaded.createStrongswanDriver as StrongswanFactory;
  },
};

export async function chooseDriver(
  choice: DriverChoice,
  gateways: GatewaySpec[],
  simulated: () => TunnelDriver,
  notice: (message: string) => void,
  environment: DriverEnvironment = realEnvironment,
): Promise<TunnelDriver> {
  if (choice === 'simulated') return simulated();
  if (choice === 'auto' && (!environment.isRoot() || !environment.hasCharon())) {
    notice(`emulator: driver 'auto' uses the simulated driver (strongSwan needs root and ${CHARON_PATH}).`);
    return simulated();
  }
  try {
    const create = await environment.loadStrongswan();
    return await create(gateways);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (choice === 'strongswan') {
      throw new Error(`emulator: the strongSwan driver is unavailable: ${reason}`, { cause: error });
    }
    notice(`emulator: driver 'auto' falls back to the simulated driver: ${reason}`);
    return simulated();
  }
}
