/**
 * What the GitLab and Bitbucket entries (`index.ts`, the bundles' first module) share: a sleep
 * on the real timer and the last-resort failure line. Each entry stays two statements: call
 * `run()` from its main.ts, set the exit code from `settle`.
 */
import type { TextSink } from './console-reporter.js';

/**
 * Waits `ms` milliseconds on the real timer: the one sleep of the CI adapters' entries, which tests
 * replace with their own (until the core's Clock port, `systemClock`, provides it).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The job's exit code: what `run` resolves to, or 1 when it rejects. `run()` reports its own
 * failures, so a rejection means the reporter itself broke: the line printed then carries nothing
 * that could hold a secret, only how to get details (`debugHint`, in the platform's YAML words).
 */
export async function settle(run: Promise<number>, sink: TextSink, debugHint: string): Promise<number> {
  try {
    return await run;
  } catch {
    sink.write(`✖ codesphere-deploy failed unexpectedly (rerun with ${debugHint} for details).\n`);
    return 1;
  }
}
