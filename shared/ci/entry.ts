/**
 * What the GitLab and Bitbucket entries (`index.ts`, the bundles' first module) share: the
 * last-resort failure line. Each entry stays two statements: call `run()` from its main.ts with
 * the core's `systemClock`, set the exit code from `settle`.
 */
import type { TextSink } from './console-reporter.js';

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
