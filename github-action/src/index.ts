import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { run as runStep } from './main.js';
import type { Toolkit } from './reporter.js';

export type { Toolkit } from './reporter.js';

/**
 * Runs the step with `toolkit` (the bundled @actions/core when absent; local-action.mjs passes
 * @github/local-action's stubs). Resolves to the exit code, also set as process.exitCode on failure.
 */
export async function run(toolkit?: Toolkit): Promise<number> {
  const code = await runStep({ toolkit });
  if (code !== 0) process.exitCode = code;
  return code;
}

// Started by the runner (`node dist/index.js`), not imported: run, then end the process.
if (isMainModule()) {
  await run();
  // stdout and stderr are asynchronous pipes on a runner: exit() would drop what they still hold
  // (the ::error:: line among it), so wait until both have written it, or 5 s for a stuck reader.
  await Promise.all([process.stdout, process.stderr].map((stream) => drained(stream, 5_000)));
  // A connection to a GitHub API that never answered may still be open (the toolkit's fetch does not
  // close it on abort) and must not keep the step alive past its budget.
  process.exit();
}

/** Resolves once `stream` has written everything queued before this call, or after `ms` milliseconds. */
function drained(stream: NodeJS.WriteStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stream.write('', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Whether this file is the one node was started with (process.argv[1]): with its symlinks resolved,
 * as node loads it, or as given, as node loads it under --preserve-symlinks-main (NODE_OPTIONS may
 * hold it), where a miss would end the step green without running it.
 */
function isMainModule(): boolean {
  const main = process.argv[1];
  if (main === undefined || !existsSync(main)) return false;
  return [realpathSync(main), resolve(main)].some((file) => pathToFileURL(file).href === import.meta.url);
}
