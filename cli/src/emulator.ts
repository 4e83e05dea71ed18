/**
 * `codesphere-deploy emulator [--port N] [--seed FILE]`: the local Codesphere API emulator from the
 * installed package, with the demo seed (emulator/seeds/default.yaml, shipped in the package) and
 * its documented token by default. Prints where it listens, serves until SIGINT or SIGTERM.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../emulator/index.js';

/** The demo seed beside the bundle (cli/dist/) or the source (cli/src/): both two levels down. */
export const DEMO_SEED = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../emulator/seeds/default.yaml',
);

/** Starts the emulator; resolves with the exit code once a signal has stopped it. */
export async function runEmulator(options: { port: number; seed: string | undefined }): Promise<number> {
  let emulator;
  try {
    emulator = await startEmulator({
      port: options.port,
      seed: options.seed ?? DEMO_SEED,
      driver: 'simulated',
    });
  } catch (error) {
    process.stderr.write(`✖ emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  const { url, apiToken } = emulator;
  process.stdout.write(
    [
      `Codesphere emulator listening on ${url}`,
      `  Public API:  ${url}/api`,
      `  Inspection:  ${url}/_emulator/state`,
      `  Demo token:  ${apiToken}`,
      `  Try:         CODESPHERE_API_URL=${url} CODESPHERE_API_TOKEN=${apiToken} codesphere-deploy deploy --team "My Team" --branch main --repo-url https://github.com/acme/shop.git`,
      '',
    ].join('\n'),
  );
  const running = emulator;
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`${signal}: stopping the emulator\n`);
      running.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
