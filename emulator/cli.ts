/**
 * `npm run emulator [-- --seed file.yaml] [--port 3170] [--driver simulated|strongswan|auto]`
 * Starts the emulator, prints its URL and the demo token, serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEmulator, type ContractValidator, type DriverChoice } from './index.js';

const DRIVERS: DriverChoice[] = ['simulated', 'strongswan', 'auto'];

/**
 * test/contract's validator, loaded only when asked for (it compiles the spec with ajv, which a
 * plain emulator start does not need); throws the spec-missing notice when the spec is absent.
 */
async function loadContractValidator(): Promise<ContractValidator> {
  const contract = await import('../test/contract/openapi.js');
  if (!contract.specAvailable) throw new Error(contract.specMissingNotice);
  return contract.validateExchange;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      port: { type: 'string', default: '3170' },
      driver: { type: 'string', default: 'simulated' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run emulator -- [--seed <file.yaml>] [--port <n>] [--driver simulated|strongswan|auto]',
    );
    console.log('env: EMULATOR_SEED (seed file), EMULATOR_CONTRACT (record|off)');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer 0-65535, got '${values.port}'`);
  }
  const driver = values.driver as DriverChoice;
  if (!DRIVERS.includes(driver))
    throw new Error(`--driver must be one of ${DRIVERS.join(', ')}, got '${values.driver}'`);
  const contract = process.env.EMULATOR_CONTRACT ?? 'off';
  if (contract !== 'record' && contract !== 'off')
    throw new Error(`EMULATOR_CONTRACT must be record or off, got '${contract}'`);
  const seed = values.seed ?? process.env.EMULATOR_SEED;
  const started = performance.now();
  const emulator = await startEmulator({
    port,
    driver,
    ...(seed ? { seed } : {}),
    contract,
    ...(contract === 'record' ? { validate: await loadContractValidator() } : {}),
  });
  const ms = Math.round(performance.now() - started);
  console.log(
    `Codesphere emulator listening on ${emulator.url} (started in ${ms} ms, ${emulator.driver.kind} tunnels)`,
  );
  console.log(`  Public API:   ${emulator.url}/api`);
  console.log(`  Inspection:   ${emulator.url}/_emulator/state`);
  console.log(`  Demo token:   ${emulator.apiToken}`);
  console.log(`  Try: curl -H "Authorization: Bearer ${emulator.apiToken}" ${emulator.url}/api/teams`);
  const stop = (signal: string) => {
    console.log(`\n${signal}: stopping the emulator`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`emulator: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
