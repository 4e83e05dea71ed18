/**
 * The adapters' bad-input property for longer than `npm test` runs it:
 * random bad input in one field, secrets everywhere, against the built bundles, the emulator and
 * the platform doubles. Prints runs per second per adapter and every counterexample (asserts
 * nothing; a failing run is printed, not thrown). BENCH_RUNS (default 60 per adapter) and FC_SEED
 * (default: the clock) choose the length and the seed; a printed seed replays a run.
 *
 *   npx tsx test/bench/inputs.bench.ts
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { startGitHubDouble } from '../doubles/github-double.js';
import { DEMO_TOKEN, errorLines, GITHUB_TOKEN, runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';
import { asCiVariables, badInput, CI_VARIABLE_OF, leakIn, type BadInput } from '../doubles/bad-inputs.js';
import { startBitbucketDouble } from '../doubles/bitbucket-double.js';
import { startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  plainText,
  runEntry,
} from '../doubles/run-entry.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

function filesText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

type Check = (input: BadInput, n: number) => Promise<string | undefined>;

async function bench(name: string, secrets: string[], check: Check): Promise<void> {
  const started = performance.now();
  let runs = 0;
  const details = await fc.check(
    fc.asyncProperty(badInput(secrets), async (input) => {
      runs += 1;
      const problem = await check(input, runs);
      if (problem !== undefined) throw new Error(problem);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name}: ${runs} runs in ${seconds.toFixed(1)} s, ${(runs / seconds).toFixed(2)} runs/s (seed ${SEED})`,
  );
  if (details.failed) {
    console.log(`  counterexample: ${JSON.stringify(details.counterexample)}`);
    console.log(`  ${String((details.errorInstance as Error | undefined)?.message ?? '').slice(0, 2000)}`);
  }
}

const emulator = await startFixtureEmulator();
const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces');
const nothingCreated = () =>
  creates().length > 0 || emulator.state().workspaces.length > 0 ? 'a workspace was created' : undefined;

try {
  const github = await startGitHubDouble({ token: undefined });
  await bench('GitHub Action', [DEMO_TOKEN, GITHUB_TOKEN], async (input, n) => {
    await emulator.reset();
    const run = await runAction({
      eventName: 'pull_request',
      payload: pullRequestPayload({ action: 'opened', number: n, sha: n.toString(16).padStart(40, 'c') }),
      githubApiUrl: github.url,
      inputs: {
        apiUrl: emulator.url,
        apiToken: DEMO_TOKEN,
        team: 'My Team',
        vpnConfig: 'office',
        ...input.values,
      },
    });
    const errors = errorLines(run.stdout);
    if (run.code !== 1) return `exit ${String(run.code)}`;
    if (errors.length !== 1 || !errors[0]?.includes(`"${input.field}"`))
      return `errors: ${errors.join(' | ')}`;
    return (
      nothingCreated() ??
      leakIn(
        {
          log: run.visibleStdout,
          stderr: run.stderr,
          outputs: JSON.stringify(run.outputs),
          summary: run.summary,
          comments: JSON.stringify(github.comments),
        },
        [DEMO_TOKEN, GITHUB_TOKEN, input.envSecret],
      )
    );
  });
  await github.close();

  const ciCheck =
    (
      secrets: string[],
      env: (dir: string) => Record<string, string>,
      entry: string,
      calls: () => unknown[],
    ): Check =>
    async (input) => {
      await emulator.reset();
      const dir = mkdtempSync(path.join(tmpdir(), 'inputs-bench-'));
      try {
        writeFileSync(path.join(dir, 'pipelines-variables.env'), '');
        const run = await runEntry(entry, { ...env(dir), ...asCiVariables(input) }, dir);
        const verdicts = plainText(run.stdout + run.stderr)
          .split('\n')
          .filter((line) => line.startsWith('✖'));
        if (run.code !== 1) return `exit ${String(run.code)}`;
        if (verdicts.length !== 1 || !verdicts[0]?.includes(`"${CI_VARIABLE_OF[input.field]}"`))
          return `verdicts: ${verdicts.join(' | ')}`;
        return (
          nothingCreated() ??
          leakIn({ log: run.stdout + run.stderr, files: filesText(dir), notes: JSON.stringify(calls()) }, [
            ...secrets,
            input.envSecret,
          ])
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

  const gitlab = await startGitLabDouble({
    token: GITLAB_ACCESS_TOKEN,
    projectId: GITLAB_PROJECT.id,
    projectPath: GITLAB_PROJECT.path,
    mergeRequests: [{ iid: 12, state: 'opened' as const }],
  });
  const gitlabSecrets = [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN];
  await bench(
    'GitLab image',
    gitlabSecrets,
    ciCheck(
      gitlabSecrets,
      (dir) => ({
        ...gitlabJobEnv({ mergeRequestIid: 12, apiV4Url: `${gitlab.url}/api/v4` }, dir),
        ...userVariables(emulator, GITLAB_ACCESS_TOKEN),
      }),
      gitlabEntry,
      () => gitlab.calls.map((call) => call.body),
    ),
  );
  await gitlab.close();

  const bitbucket = await startBitbucketDouble({
    token: BITBUCKET_ACCESS_TOKEN,
    workspace: BITBUCKET_REPO.workspace,
    repoSlug: BITBUCKET_REPO.slug,
    pullRequests: [{ id: 7, state: 'OPEN' as const }],
  });
  const bitbucketSecrets = [DEMO_TOKEN, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN];
  await bench(
    'Bitbucket pipe',
    bitbucketSecrets,
    ciCheck(
      bitbucketSecrets,
      (dir) => ({
        ...bitbucketStepEnv({ pullRequestId: 7, apiUrl: bitbucket.url }, dir),
        BITBUCKET_PIPELINES_VARIABLES_PATH: path.join(dir, 'pipelines-variables.env'),
        ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN),
      }),
      bitbucketEntry,
      () => bitbucket.calls.map((call) => call.body),
    ),
  );
  await bitbucket.close();
} finally {
  await emulator.close();
}
