/**
 * Input and output hygiene of the built GitLab entry (issue 10, cases 2, 3, 4 and the property of
 * "Done when"), run as GitLab runs it against the emulator and the GitLab API double.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { asCiVariables, badInput, CI_VARIABLE_OF, leakIn, PROPERTY_SEED } from '../doubles/bad-inputs.js';
import { filesUnder, jobDirectory, startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  plainText,
  runEntry,
  type EntryRun,
} from '../doubles/run-entry.js';

const SECRETS = [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];

let emulator: RunningEmulator;
let gitlab: GitLabDouble;
let job: { dir: string; remove(): void };

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  gitlab = await startGitLabDouble({
    token: GITLAB_ACCESS_TOKEN,
    projectId: GITLAB_PROJECT.id,
    projectPath: GITLAB_PROJECT.path,
    mergeRequests: [12].map((iid) => ({ iid, state: 'opened' as const })),
  });
  job = jobDirectory('gitlab-inputs');
});
afterEach(async () => {
  await gitlab.close();
  job.remove();
});

const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');

function runJob(variables: Record<string, string>): Promise<EntryRun> {
  const env = {
    ...gitlabJobEnv({ mergeRequestIid: 12, apiV4Url: `${gitlab.url}/api/v4` }, job.dir),
    ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
    ...variables,
  };
  return runEntry(gitlabEntry, env, job.dir);
}

function everything(run: EntryRun): Record<string, string> {
  return {
    log: run.stdout + run.stderr,
    ...Object.fromEntries(Object.entries(filesUnder(job.dir)).map(([name, text]) => [`file ${name}`, text])),
    notes: JSON.stringify(gitlab.calls.map((call) => call.body)),
  };
}

function readDotenv(): Record<string, string> {
  const file = path.join(job.dir, 'deploy.env');
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const verdicts = (run: EntryRun) =>
  plainText(run.stdout + run.stderr)
    .split('\n')
    .filter((line) => line.startsWith('✖'));

describe('issue 10 on the GitLab image', () => {
  it('case 3: PASSENGER_PORT=3000 leaves the dotenv report intact', async () => {
    const run = await runJob({ ENV: 'PASSENGER_PORT=3000\nDB_PASSWORD=s3cr3t-passw0rd-value' });
    expect(run.code, describeRun(run)).toBe(0);
    const w = emulator.state().workspaces.find((x) => x.name === 'shop-!12');
    const url = `https://${w?.devDomain ?? ''}`;
    expect(readDotenv()).toMatchObject({ DYNAMIC_ENVIRONMENT_URL: url, CODESPHERE_URL: url });
    expect(JSON.stringify(gitlab.calls.map((call) => call.body))).toContain(url);
    expect(leakIn(everything(run), [...SECRETS, 's3cr3t-passw0rd-value'])).toBeUndefined();
  });

  it('case 3: a report value holding a secret is left out, never redacted, with a warning', async () => {
    const run = await runJob({ ENV: 'APP_SECRET=codesphere.com' });
    expect(run.code, describeRun(run)).toBe(0);
    const report = readDotenv();
    expect(report.DYNAMIC_ENVIRONMENT_URL).toBeUndefined();
    expect(report.CODESPHERE_WORKSPACE_NAME).toBe('shop-!12');
    expect(JSON.stringify(report)).not.toContain('***');
    expect(plainText(run.stdout + run.stderr)).toContain(
      'Not written to the dotenv report: DYNAMIC_ENVIRONMENT_URL, CODESPHERE_URL.',
    );
  });

  it('case 2: a PEM key pasted without quotes is named by line and quoted nowhere (log, MR note)', async () => {
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
    const w = [...emulator.world.workspaces.values()].find((x) => x.name === 'shop-!12');
    expect(w?.env.get('WIN_PATH')).toBe('C:\\new\\table');
  });

  it('case 7 on GitLab: a variable error quotes escape sequences and CR escaped, never raw into the log', async () => {
    // A raw ESC[2K + CR would erase the error line in GitLab's log and print another over it.
    const run = await runJob({ DEBUG: 'yes\u001b[2K\rJob succeeded' });
    expect(run.code, describeRun(run)).toBe(1);
    const log = run.stdout + run.stderr;
    expect(verdicts(run)[0]).toContain('Invalid input "DEBUG": got "yes\\u001b[2K\\rJob succeeded"');
    expect(log).not.toContain('\u001b[2K');
    expect(log).not.toContain('\r');
    expect(creates()).toEqual([]);
  });

  it('case 7 on GitLab: an invisible character (U+200B, U+200E) in a name is an input error, before any create', async () => {
    for (const [variable, value] of [
      ['VPN_CONFIG', 'office\u200b'],
      ['PLAN', '\u200eBoost'], // a left-to-right mark, as copied from a right-to-left page
    ] as const) {
      const run = await runJob({ [variable]: value });
      expect(run.code, describeRun(run)).toBe(1);
      expect(verdicts(run)[0], variable).toContain(`Invalid input "${variable}"`);
      expect(verdicts(run)[0], variable).toMatch(
        /control or invisible character \(U\+(200B|200E) at position \d+\)/,
      );
      expect(creates()).toEqual([]);
    }
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
