/**
 * The GitHub Action: its context read once (github-context.ts), GitHub as a CiPlatform
 * (github-platform.ts), and the shared job runner, which masks, dispatches, reports and fails the
 * step exactly once. `run()` never throws; tests import it and pass their own `deps`.
 * The toolkit (reporter.ts) is the bundled @actions/core unless one is passed (local-action.mjs).
 */
import { deploy, prune, systemClock, teardown, VERSION } from '../../shared/index.js';
import { runCiJob, type CoreApi } from '../../shared/ci/index.js';
import { readGitHubContext } from './github-context.js';
import { githubPlatform, type GitHubDeps } from './github-platform.js';
import { type RunnerEnv, withInputs } from './inputs.js';
import { CoreLog, type Toolkit } from './reporter.js';

export interface RunDeps extends Partial<GitHubDeps> {
  /** The runner's environment (INPUT_*, GITHUB_*), read once. */
  env?: RunnerEnv;
  core?: CoreApi;
  /**
   * A toolkit to use instead of the bundled @actions/core: inputs, outputs, summary and log go
   * through it. Without one, inputs are read from `env` by getInput's rule (no import on the start-up path).
   */
  toolkit?: Toolkit;
}

/** Runs the step; resolves to its exit code (also set by the failure annotation). */
export function run(deps: RunDeps = {}): Promise<number> {
  const { toolkit } = deps;
  const platform = githubPlatform({
    core: deps.core ?? { deploy, teardown, prune },
    userAgent: deps.userAgent ?? `codesphere-deploy-github-action/${VERSION}`,
    octokit: deps.octokit,
    log: deps.log ?? (toolkit ? new CoreLog(() => Promise.resolve(toolkit)) : undefined),
  });
  const env = deps.env ?? process.env;
  const context = readGitHubContext(toolkit ? withInputs(env, (name) => toolkit.getInput(name)) : env);
  // The log goes through the toolkit (the platform's reporter), not these sinks.
  return runCiJob(context, platform, { stdout: process.stdout, stderr: process.stderr, clock: systemClock });
}
