import { run } from './main.js';

if ((await run()) !== 0) process.exitCode = 1;
// stdout and stderr are asynchronous pipes on a runner: exit() would drop what they still hold
// (the ::error:: line among it), so wait until both have written it, or 5 s for a stuck reader.
await Promise.all([process.stdout, process.stderr].map((stream) => drained(stream, 5_000)));
// A connection to a GitHub API that never answered may still be open (the toolkit's fetch does not
// close it on abort) and must not keep the step alive past its budget.
process.exit();

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
