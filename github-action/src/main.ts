/**
 * The GitHub Action: its context read once (github-context.ts), GitHub as a CiPlatform
 * (github-platform.ts), and the shared job runner, which masks, dispatches, reports and fails the
 * step exactly once. `run()` never throws; tests import it and pass their own `deps`.
 */
import { deploy, prune, systemClock, teardown, VERSION } from '../../shared/index.js';
import { runCiJob, type CoreApi } from '../../shared/ci/index.js';
import { readGitHubContext } from './github-context.js';
import { githubPlatform, type GitHubDeps } from './github-platform.js';
import type { RunnerEnv } from './inputs.js';

export interface RunDeps extends Partial<GitHubDeps> {
  /** The runner's environment (INPUT_*, GITHUB_*), read once. */
  env?: RunnerEnv;
  core?: CoreApi;
}

/** Runs the step; resolves to its exit code (also set by the failure annotation). */
export function run(deps: RunDeps = {}): Promise<number> {
  const platform = githubPlatform({
    core: deps.core ?? { deploy, teardown, prune },
    userAgent: deps.userAgent ?? `codesphere-deploy-github-action/${VERSION}`,
    octokit: deps.octokit,
    log: deps.log,
  });
  // The log goes through @actions/core (the platform's reporter), not these sinks.
  return runCiJob(readGitHubContext(deps.env ?? process.env), platform, {
    stdout: process.stdout,
    stderr: process.stderr,
    clock: systemClock,
  });
}
