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

/**
 * Set to true by an entry that imports this bundle and calls `run` itself (local-action.mjs).
 * Without it the bundle runs the step: telling "started" from "imported" by paths can miss (a
 * symlink, a flag, a path without .js), and a miss would end the step green having run nothing.
 */
export const CALLS_RUN_ITSELF = Symbol.for('codesphere-deploy.github-action.calls-run-itself');

// Started by the runner (`node dist/index.js`): run, then end the process.
if (Reflect.get(globalThis, CALLS_RUN_ITSELF) !== true) {
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
