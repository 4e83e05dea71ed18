/**
 * The CLI in process (cli/src/main.ts `run`) with the real core, on a VirtualClock it shares with
 * the emulator, so polls, the teardown's race checks and budgets take no real time.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { VirtualClock } from '../../emulator/index.js';
import { run, type RunDeps } from '../../cli/src/main.js';
import * as core from '../../shared/index.js';
import { onVirtualTime } from '../core/helpers.js';

/** One CLI run: its exit code and what it wrote to stdout and stderr. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `codesphere-deploy <argv>` with `env` as its whole environment, files read from `cwd`. */
export async function runCli(
  argv: string[],
  env: Record<string, string>,
  { clock, cwd }: { clock: VirtualClock; cwd: string },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const deps: RunDeps = {
    core,
    clock,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stderrIsTty: false,
    cwd,
    readFile: (file) => readFileSync(path.resolve(cwd, file), 'utf8'),
    emulator: () => Promise.resolve(0),
    gateway: () => 0,
  };
  const code = await onVirtualTime(clock, run(argv, env, deps));
  return { code, stdout, stderr };
}
