#!/usr/bin/env node
// The `codesphere-deploy` bin (cli/dist/index.js). All logic is in main.ts so tests import it without side effects.
import { readFileSync } from 'node:fs';
import * as core from '../../shared/index.js';
import { runGatewayCli } from '../../shared/gateway/cli.js';
import { settle } from '../../shared/ci/index.js';
import { run } from './main.js';
import { runEmulator } from './emulator.js';

const step = run(process.argv.slice(2), process.env, {
  core,
  clock: core.systemClock,
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTty: process.stderr.isTTY === true,
  cwd: process.cwd(),
  readFile: (path) => readFileSync(path, 'utf8'),
  emulator: runEmulator,
  gateway: (argv) =>
    runGatewayCli(argv, {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      readFile: (path) => readFileSync(path, 'utf8'),
    }),
});
void settle(step, process.stderr, '--debug').then((code) => (process.exitCode = code));
