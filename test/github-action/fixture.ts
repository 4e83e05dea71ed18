/**
 * One emulator per test file and a fresh GitHub API double per test, plus the assertions every
 * run must satisfy (no secret anywhere the user or a later step can see it).
 */
import { expect } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
// The emulator fixture is the same for every adapter's suite.
export { startFixtureEmulator, waitFor } from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import {
  DEMO_PASSWORD,
  DEMO_TOKEN,
  GITHUB_TOKEN,
  runAction,
  type ActionRun,
  type RunOptions,
} from './harness.js';
import { pullRequestPayload, type PullRequestOptions } from './payloads.js';

export const SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITHUB_TOKEN];

export { startGitHubDouble, type GitHubDouble };

export interface PrRun {
  emulator: RunningEmulator;
  github: GitHubDouble;
  inputs?: Record<string, string>;
  extra?: Partial<RunOptions>;
}

/** Runs the action for a pull_request event with the demo team's defaults. */
export async function runPullRequest(
  { emulator, github, inputs = {}, extra = {} }: PrRun,
  pr: PullRequestOptions,
): Promise<ActionRun> {
  const run = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload(pr),
    githubApiUrl: github.url,
    inputs: {
      apiUrl: emulator.url,
      apiToken: DEMO_TOKEN,
      team: 'My Team',
      vpnConfig: 'office',
      ...inputs,
    },
    ...extra,
  });
  assertNoSecretLeaks(run, github);
  return run;
}

/** Secrets may appear only in `::add-mask::` commands: never in the log, outputs, summary or comment. */
export function assertNoSecretLeaks(run: ActionRun, github: GitHubDouble, secrets: string[] = SECRETS): void {
  const places: Record<string, string> = {
    stdout: run.visibleStdout,
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    comments: JSON.stringify(github.comments),
    'deployment statuses': JSON.stringify(github.deployments),
  };
  for (const [place, text] of Object.entries(places)) {
    for (const secret of secrets) {
      expect(text.includes(secret), `secret leaked into ${place}`).toBe(false);
    }
  }
}

/** The run's log, for failure messages. */
export function describeRun(run: ActionRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}
