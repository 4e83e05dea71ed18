// GitLab CI entry (/app/server runs this bundle). All logic is in main.ts so tests import it without side effects.
import * as core from '../../shared/index.js';
import { settle } from '../../shared/ci/index.js';
import { run } from './main.js';

const job = run(process.env, {
  core,
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  clock: core.systemClock,
});
void settle(job, process.stderr, 'DEBUG=true').then((code) => (process.exitCode = code));
