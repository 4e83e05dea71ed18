/**
 * Input and output hygiene of the built Bitbucket pipe (issue 10, cases 2, 3, 4 and the property
 * of "Done when"), run as Bitbucket runs it against the emulator and the Bitbucket API double.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { asCiVariables, badInput, CI_VARIABLE_OF, leakIn, PROPERTY_SEED } from '../doubles/bad-inputs.js';
import { filesUnder, jobDirectory, startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  DEMO_TOKEN,
  describeRun,
  plainText,
  runEntry,
  type EntryRun,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN];

let emulator: RunningEmulator;
let bitbucket: BitbucketDouble;
let job: { dir: string; remove(): void };
let variablesFile: string;

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  bitbucket = await startBitbucketDouble({
    token: BITBUCKET_ACCESS_TOKEN,
    workspace: BITBUCKET_REPO.workspace,
    repoSlug: BITBUCKET_REPO.slug,
    pullRequests: [{ id: 7, state: 'OPEN' as const }],
  });
  job = jobDirectory('bitbucket-inputs');
  variablesFile = path.join(job.dir, 'pipelines-variables.env');
  writeFileSync(variablesFile, '');
});
afterEach(async () => {
  await bitbucket.close();
  job.remove();
});

const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');

function runJob(variables: Record<string, string>): Promise<EntryRun> {
  const env = {
    ...bitbucketStepEnv({ pullRequestId: 7, apiUrl: bitbucket.url }, job.dir),
    BITBUCKET_PIPELINES_VARIABLES_PATH: variablesFile,
    ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN),
    ...variables,
  };
  return runEntry(bitbucketEntry, env, job.dir);
}

function everything(run: EntryRun): Record<string, string> {
  return {
    log: run.stdout + run.stderr,
    ...Object.fromEntries(Object.entries(filesUnder(job.dir)).map(([name, text]) => [`file ${name}`, text])),
    notes: JSON.stringify(bitbucket.calls.map((call) => call.body)),
  };
}

function readOutputVariables(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(variablesFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const verdicts = (run: EntryRun) =>
  plainText(run.stdout + run.stderr)
    .split('\n')
    .filter((line) => line.startsWith('✖'));

describe('issue 10 on the Bitbucket pipe', () => {
  it('case 3: PASSENGER_PORT=3000 leaves the output variables and the PR comment intact', async () => {
    const run = await runJob({ ENV: 'PASSENGER_PORT=3000\nDB_PASSWORD=s3cr3t-passw0rd-value' });
    expect(run.code, describeRun(run)).toBe(0);
    const w = emulator.state().workspaces.find((x) => x.name === 'shop-pr-7');
    const url = `https://${w?.devDomain ?? ''}`;
    expect(readOutputVariables()).toMatchObject({ CODESPHERE_URL: url });
    expect(JSON.stringify(bitbucket.calls.map((call) => call.body))).toContain(url);
    expect(leakIn(everything(run), [...SECRETS, 's3cr3t-passw0rd-value'])).toBeUndefined();
  });

  it('case 3: an output variable holding a secret is left out, never redacted, with a warning', async () => {
    const run = await runJob({ ENV: 'APP_SECRET=codesphere.com' });
    expect(run.code, describeRun(run)).toBe(0);
    const variables = readOutputVariables();
    expect(variables.CODESPHERE_URL).toBeUndefined();
    expect(variables.CODESPHERE_WORKSPACE_ID).toMatch(/^\d+$/);
    expect(JSON.stringify(variables)).not.toContain('***');
    expect(plainText(run.stdout + run.stderr)).toContain(
      'Not written to the output variables: CODESPHERE_URL.',
    );
  });

  it('case 2: a PEM key pasted without quotes is named by line and quoted nowhere (log, PR comment)', async () => {
    const key = 'Zk9xQ+r/7TqLwPmS3cV8==';
    const run = await runJob({
      ENV: `TLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n${key}\n-----END PRIVATE KEY-----`,
    });
    expect(run.code, describeRun(run)).toBe(1);
    expect(verdicts(run)).toHaveLength(1);
    expect(verdicts(run)[0]).toContain('Invalid input "ENV"');
    expect(plainText(run.stdout + run.stderr)).toContain('line 3: the text before "=" is not a valid name');
    expect(JSON.stringify(everything(run))).not.toContain('Zk9xQ');
    expect(leakIn(everything(run), ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'])).toBeUndefined();
    expect(creates()).toEqual([]);
  });

  it('case 4: WIN_PATH="C:\\\\new\\\\table" reaches the workspace as C:\\new\\table', async () => {
    const run = await runJob({ ENV: 'WIN_PATH="C:\\\\new\\\\table"' });
    expect(run.code, describeRun(run)).toBe(0);
    const w = [...emulator.world.workspaces.values()].find((x) => x.name === 'shop-pr-7');
    expect(w?.env.get('WIN_PATH')).toBe('C:\\new\\table');
  });
});

describe('property: random bad input on every job variable (issue 10, Done when)', () => {
  it(
    'exit 1, one ✖ naming the variable, nothing created, no fragment of any secret anywhere',
    { timeout: 600_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(badInput(SECRETS), async (input) => {
          const run = await runJob(asCiVariables(input));
          const variable = CI_VARIABLE_OF[input.field];
          expect(run.code, describeRun(run)).toBe(1);
          expect(verdicts(run), describeRun(run)).toHaveLength(1);
          expect(verdicts(run)[0], describeRun(run)).toContain(`"${variable}"`);
          expect(leakIn(everything(run), [...SECRETS, input.envSecret]), describeRun(run)).toBeUndefined();
          expect(creates()).toEqual([]);
          expect(emulator.state().workspaces).toHaveLength(0);
        }),
        { seed: PROPERTY_SEED, numRuns: 15, endOnFailure: true },
      );
    },
  );
});
