/**
 * A step without `output-variables` gets no BITBUCKET_PIPELINES_VARIABLES_PATH: the built pipe
 * still deploys, and says in a warning that CODESPHERE_URL and CODESPHERE_WORKSPACE_ID are not
 * passed on, instead of dropping them silently.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { jobDirectory, startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { bitbucketEntry, bitbucketStepEnv, describeRun, lastLine, runEntry } from '../doubles/run-entry.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});

it('warns that the output variables are not passed on when BITBUCKET_PIPELINES_VARIABLES_PATH is absent', async () => {
  const step = jobDirectory('bitbucket-step');
  try {
    // No ACCESS_TOKEN: no PR comment, so no Bitbucket API is called.
    const env = {
      ...bitbucketStepEnv({ pullRequestId: 4, apiUrl: 'http://127.0.0.1:9' }, step.dir),
      ...userVariables(emulator, ''),
    };
    const run = await runEntry(bitbucketEntry, env, step.dir);
    expect(run.code, describeRun(run)).toBe(0);
    expect(lastLine(run)).toMatch(/^✔ Preview created/);
    expect(run.text).toMatch(
      /WARNING: BITBUCKET_PIPELINES_VARIABLES_PATH is not set, so CODESPHERE_URL and CODESPHERE_WORKSPACE_ID are not passed on/,
    );
    expect(run.text).toContain('output-variables');
  } finally {
    step.remove();
  }
});
