/**
 * Input and output hygiene of the built action (issue 10, cases 2, 3, 4, 7 and the property of
 * "Done when"), run as the runner runs it against the emulator and the GitHub API double.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { badInput, leakIn, PROPERTY_SEED, type BadInput } from '../doubles/bad-inputs.js';
import {
  describeRun,
  runPullRequest,
  startFixtureEmulator,
  startGitHubDouble,
  type GitHubDouble,
} from './fixture.js';
import { DEMO_TOKEN, errorLines, GITHUB_TOKEN, runAction, type ActionRun } from './harness.js';
import { pullRequestPayload } from './payloads.js';

let emulator: RunningEmulator;
let github: GitHubDouble;

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  github = await startGitHubDouble({ token: undefined });
});
afterEach(async () => {
  await github.close();
});

const sha = (n: number) => n.toString(16).padStart(40, 'c');
const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');

/** Lines the runner would read as workflow commands: it splits at CR, LF, CRLF and trims leading space. */
function commandLines(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((line) => /^[\s\u0085]*::/.test(line) || line.includes('##['));
}

/** Commands a value brought in: a line whose own command is the injected one (not the data of ours). */
function injectedCommands(stdout: string): string[] {
  return commandLines(stdout).filter(
    (line) => /^[\s\u0085]*::[^:]*::\s*INJECTED/.test(line) || line.includes('##['),
  );
}

function everythingVisible(run: ActionRun): Record<string, string> {
  return {
    log: run.visibleStdout,
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    comments: JSON.stringify(github.comments),
    'deployment statuses': JSON.stringify(github.deployments),
  };
}

describe('issue 10 on the GitHub Action', () => {
  it('case 7: a VPN config with a line break and a workflow command is an input error; nothing is injected or created', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { vpnConfig: 'office\n::warning::INJECTED' } },
      { action: 'opened', number: 31, sha: sha(31) },
    );
    expect(run.code, describeRun(run)).toBe(1);
    const errors = errorLines(run.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Invalid input "vpnConfig"');
    expect(errors[0]).toContain('U+000A');
    expect(run.stdout).not.toContain('createWorkspace failed');
    // Only the action's own commands: no ::warning:: the value brought in.
    expect(injectedCommands(run.stdout)).toEqual([]);
    expect(creates()).toEqual([]);
    expect(emulator.state().workspaces).toHaveLength(0);
  });

  it('case 7: a value in the log cannot start a workflow command (CR, %0A and ##[ forms)', async () => {
    const run = await runPullRequest(
      {
        emulator,
        github,
        inputs: { team: 'My Team\r::warning::CR', plan: 'Boost%0A::warning::PCT ##[warning]LEGACY' },
      },
      { action: 'opened', number: 32, sha: sha(32) },
    );
    expect(run.code, describeRun(run)).toBe(1);
    for (const line of commandLines(run.stdout)) {
      expect(line, line).toMatch(/^::(add-mask|error|debug|group|endgroup|notice)::/);
      expect(line).not.toContain('##[');
    }
    expect(creates()).toEqual([]);
  });

  it('case 2: a PEM key pasted without quotes is named by line, never quoted in log, comment, summary or status', async () => {
    const key = 'Zk9xQ+r/7TqLwPmS3cV8==';
    const env = `TLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n${key}\n-----END PRIVATE KEY-----`;
    const run = await runPullRequest(
      { emulator, github, inputs: { env } },
      { action: 'opened', number: 33, sha: sha(33) },
    );
    expect(run.code, describeRun(run)).toBe(1);
    expect(errorLines(run.stdout)[0]).toContain('line 3: the text before "=" is not a valid name');
    expect(leakIn(everythingVisible(run), [key, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'])).toBeUndefined();
    expect(JSON.stringify(everythingVisible(run))).not.toContain('Zk9xQ');
    expect(creates()).toEqual([]);
  });

  it('case 3: PASSENGER_PORT=3000 is no secret; outputs, comment and summary carry the real URL', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { env: 'PASSENGER_PORT=3000\nDB_PASSWORD=s3cr3t-passw0rd-value' } },
      { action: 'opened', number: 34, sha: sha(34) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    const w = emulator.state().workspaces.find((x) => x.name === 'shop-#34');
    const url = `https://${w?.devDomain ?? ''}`;
    expect(run.outputs['deployment-url']).toBe(url);
    expect(run.summary).toContain(url);
    expect(JSON.stringify(github.comments)).toContain(url);
    expect(JSON.stringify(run.outputs) + run.summary).not.toContain('***');
    expect(leakIn(everythingVisible(run), ['s3cr3t-passw0rd-value'])).toBeUndefined();
  });

  it('case 3: an output whose value holds a secret is not set (never redacted), with a warning naming it', async () => {
    const run = await runPullRequest(
      // The emulator's dev domains end in this: a secret that also occurs in the URL.
      { emulator, github, inputs: { env: 'APP_SECRET=codesphere.com' } },
      { action: 'opened', number: 35, sha: sha(35) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.outputs['deployment-url']).toBeUndefined();
    expect(run.outputs['workspace-name']).toBe('shop-#35');
    expect(JSON.stringify(run.outputs)).not.toContain('***');
    expect(run.stdout).toMatch(
      /::warning::Not written to the step outputs \(GITHUB_OUTPUT\): deployment-url\. Its value holds a masked secret/,
    );
  });

  it('case 4: WIN_PATH="C:\\\\new\\\\table" reaches the workspace as C:\\new\\table', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { env: 'WIN_PATH="C:\\\\new\\\\table"\nQUOTE="say \\"hi\\""' } },
      { action: 'opened', number: 36, sha: sha(36) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    const w = [...emulator.world.workspaces.values()].find((x) => x.name === 'shop-#36');
    expect(w?.env.get('WIN_PATH')).toBe('C:\\new\\table');
    expect(w?.env.get('QUOTE')).toBe('say "hi"');
  });
});

const INPUT_OF: Record<BadInput['field'], string> = {
  team: 'team',
  plan: 'plan',
  vpnConfig: 'vpnConfig',
  replicas: 'replicas',
  timeoutSeconds: 'timeoutSeconds',
  onDemand: 'onDemand',
  env: 'env',
  vpnCheck: 'vpnCheck',
  cloneDepth: 'cloneDepth',
  baseImage: 'baseImage',
};

/** One run of the property; returns a description of what broke, or undefined. */
async function checkBadInputOnAction(
  emulatorUrl: string,
  githubUrl: string,
  input: BadInput,
  number: number,
): Promise<{ run: ActionRun; problem: string | undefined }> {
  const run = await runAction({
    eventName: 'pull_request',
    payload: pullRequestPayload({ action: 'opened', number, sha: sha(number) }),
    githubApiUrl: githubUrl,
    inputs: {
      apiUrl: emulatorUrl,
      apiToken: DEMO_TOKEN,
      team: 'My Team',
      vpnConfig: 'office',
      ...input.values,
    },
  });
  const errors = errorLines(run.stdout);
  const name = INPUT_OF[input.field];
  const problem =
    run.code !== 1
      ? `exit ${String(run.code)}`
      : errors.length !== 1
        ? `${errors.length} ::error:: lines`
        : !errors[0]?.includes(`"${name}"`)
          ? `the error does not name ${name}: ${errors[0] ?? ''}`
          : injectedCommands(run.stdout).length > 0
            ? 'a workflow command was injected'
            : leakIn(
                {
                  log: run.visibleStdout,
                  stderr: run.stderr,
                  outputs: JSON.stringify(run.outputs),
                  summary: run.summary,
                },
                [DEMO_TOKEN, GITHUB_TOKEN, input.envSecret],
              );
  return { run, problem: problem === undefined ? undefined : `${problem}\n${describeRun(run)}` };
}

describe('property: random bad input on every action input (issue 10, Done when)', () => {
  it(
    'exit 1, one error naming the input, nothing created, no fragment of any secret anywhere',
    { timeout: 600_000 },
    async () => {
      let number = 100;
      await fc.assert(
        fc.asyncProperty(badInput([DEMO_TOKEN, GITHUB_TOKEN]), async (input) => {
          number += 1;
          const { problem } = await checkBadInputOnAction(emulator.url, github.url, input, number);
          expect(problem).toBeUndefined();
          const texts = {
            comments: JSON.stringify(github.comments),
            statuses: JSON.stringify(github.deployments),
          };
          expect(leakIn(texts, [DEMO_TOKEN, GITHUB_TOKEN, input.envSecret])).toBeUndefined();
          expect(creates()).toEqual([]);
          expect(emulator.state().workspaces).toHaveLength(0);
        }),
        { seed: PROPERTY_SEED, numRuns: 15, endOnFailure: true },
      );
    },
  );
});
