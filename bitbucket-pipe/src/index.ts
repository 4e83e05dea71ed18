// Bitbucket pipe entry (the image's ENTRYPOINT runs this bundle). All logic is in main.ts so tests import it without side effects.
import * as core from '../../shared/index.js';
import { settle } from '../../shared/ci/index.js';
import { run } from './main.js';

// A pipe's log is one stream: stdout.
const step = run(process.env, {
  core,
  stdout: process.stdout,
  stderr: process.stderr,
  clock: core.systemClock,
});
void settle(step, process.stdout, 'DEBUG: "true"').then((code) => (process.exitCode = code));
