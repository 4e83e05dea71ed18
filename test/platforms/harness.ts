/**
 * One harness per CI platform for the suites that must hold on all three (races, concurrent runs,
 * inputs): the built entry run as a separate process with the variables that platform sets, the
 * platform's API double (opening, closing and merging change requests, deleting branches), and
 * readers for what a run leaves: its log, its verdict, its outputs and the note on the change
 * request. The suites are `describe.each(PLATFORMS)` over these.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { systemClock, type Clock, type RunningEmulator } from '../../emulator/index.js';
import { startEmulator } from '../../emulator/index.js';
import { CI_VARIABLE_OF, type BadField } from '../doubles/bad-inputs.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import {
  expectCleanCalls,
  FAST_TIMING,
  filesUnder,
  jobDirectory,
  runCheckedEntry,
  userVariables,
} from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  DEMO_PASSWORD,
  DEMO_TOKEN,
  describeRun,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
  lastLine,
  plainText,
  type EntryRun,
} from '../doubles/run-entry.js';
import { assertNoSecretLeaks } from '../github-action/fixture.js';
import { errorLines, GITHUB_TOKEN, runAction, type ActionRun } from '../github-action/harness.js';
import { pullRequestPayload, pushPayload, schedulePayload } from '../github-action/payloads.js';

/** What a finished run left, read the same way on every platform. */
export interface Run {
  code: number | null;
  /** The log as a reader sees it (GitHub: stdout without `::add-mask::` lines, then stderr). */
  log: string;
  /** The raw stdout and stderr, split at CR and LF as a log viewer splits them. */
  rawLines: string[];
  /** GITHUB_OUTPUT, the GitLab dotenv report, or Bitbucket's output-variables file. */
  outputs: Record<string, string>;
  /** The error verdicts: `::error::` lines on GitHub, `✖` lines elsewhere. */
  errors: string[];
  /** Everything a user or a later job can see, by place: log, outputs, files, notes, statuses. */
  visible: Record<string, string>;
  /** Exit code and full log, for failure messages. */
  describe: string;
}

/** A run of a change request's job: which commit, its place in the run order, which inputs. */
export interface JobOptions {
  sha?: string;
  /** Larger is newer: GITHUB_RUN_ID, CI_PIPELINE_ID or BITBUCKET_BUILD_NUMBER grows with it. */
  order?: number;
  /** Core field names (team, plan, vpnConfig, env, ...), set as the platform's input or variable. */
  inputs?: Partial<Record<BadField, string>>;
  /** Platform variables set as given (GitLab and Bitbucket only). */
  variables?: Record<string, string>;
}

/** A started platform: its API double and runs against it. Fresh for every test. */
export interface Session {
  open(number: number): void;
  close(number: number): void;
  merge(number: number): void;
  deploy(number: number, options?: JobOptions): Promise<Run>;
  /** The close run: GitHub's `closed` event, GitLab's stop job, Bitbucket's teardown step. */
  stop(number: number, options?: JobOptions): Promise<Run>;
  deployBranch(branch: string): Promise<Run>;
  /** Deletes a branch and runs what the platform runs then (nothing on Bitbucket). */
  deleteBranch(branch: string): Promise<Run | undefined>;
  prune(): Promise<Run>;
  /** Answers the open-change-request list only once `release` is called. */
  holdOpenList(): { arrived(): boolean; release(): void };
  /** Holds the note list until `count` runs asked for it (where the double can; GitHub's cannot). */
  gateNoteList(number: number, count: number): void;
  /** The bodies of the notes a reader sees on the change request. */
  notes(number: number): string[];
  /** The deployments of the change request's environment with their latest state (GitHub only). */
  deployments?(number: number): Array<{ sha: string; state: string | undefined }>;
  /** After each test: the double saw only calls it models, every API call kept its contract. */
  finish(): Promise<void>;
}

export interface Platform {
  name: string;
  /** How messages name a change request: "Pull request #7", "Merge request !7". */
  changeRequest(number: number): string;
  workspace(number: number): string;
  /** How many characters of a commit the note shows. */
  shortSha: number;
  /** Where pushes go in the emulator's world (the repository the workspace clones). */
  cloneUrl: string;
  /** The platform's name for a core input field. */
  inputName(field: BadField): string;
  /** GitLab runs an MR's stop job in the pipeline of the environment's last deployment. */
  stopRunsInDeployPipeline: boolean;
  /** GitLab and Bitbucket read CI variables such as DEBUG; GitHub reads action inputs. */
  ciVariables: boolean;
  start(emulator: RunningEmulator): Promise<Session>;
  /** Asserts the run stopped without a preview, saying `message` (a regular expression's source). */
  expectNoPreview(run: Run, message: string): void;
  expectNothingToDelete(run: Run, number: number): void;
  expectPruned(run: Run, names: string[]): void;
}

const latest = (text: string) => text.split(/\r\n|\r|\n/);

// ------------------------------------------------------------------------------------------------
// GitHub Action

const GITHUB_SECRETS = [DEMO_TOKEN, DEMO_PASSWORD, GITHUB_TOKEN];

function fromAction(run: ActionRun, github: GitHubDouble): Run {
  return {
    code: run.code,
    log: `${run.visibleStdout}\n${run.stderr}`,
    rawLines: latest(run.stdout + run.stderr),
    outputs: run.outputs,
    errors: errorLines(run.stdout),
    visible: {
      log: run.visibleStdout,
      stderr: run.stderr,
      outputs: JSON.stringify(run.outputs),
      summary: run.summary,
      comments: JSON.stringify(github.comments),
      'deployment statuses': JSON.stringify(github.deployments),
    },
    describe: `exit ${String(run.code)}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
  };
}

const github: Platform = {
  name: 'GitHub Action',
  changeRequest: (n) => `Pull request #${n}`,
  workspace: (n) => `shop-#${n}`,
  shortSha: 7,
  cloneUrl: 'https://github.com/acme/shop.git',
  inputName: (field) => field,
  stopRunsInDeployPipeline: false,
  ciVariables: false,
  async start(emulator) {
    warmUpGitHubValidation();
    const double = await startGitHubDouble({ token: undefined });
    const run = async (options: Parameters<typeof runAction>[0], order?: number) => {
      const extraEnv: Record<string, string> =
        order === undefined ? {} : { GITHUB_RUN_ID: String(5000 + order), GITHUB_RUN_ATTEMPT: '1' };
      const result = await runAction({ ...options, githubApiUrl: double.url, extraEnv });
      assertNoSecretLeaks(result, double, GITHUB_SECRETS);
      return fromAction(result, double);
    };
    const inputs = (options: JobOptions = {}) => ({
      apiUrl: emulator.url,
      apiToken: DEMO_TOKEN,
      team: 'My Team',
      vpnConfig: 'office',
      ...options.inputs,
    });
    const pullRequest = (
      action: 'opened' | 'synchronize' | 'closed',
      number: number,
      options: JobOptions = {},
    ) =>
      run(
        {
          eventName: 'pull_request',
          payload: pullRequestPayload({ action, number, ...(options.sha ? { sha: options.sha } : {}) }),
          githubApiUrl: double.url,
          inputs: inputs(options),
        },
        options.order,
      );
    const branchPush = (branch: string, sha: string, deleted: boolean) =>
      run({
        eventName: 'push',
        payload: pushPayload(branch, sha, { deleted }),
        githubApiUrl: double.url,
        inputs: inputs(),
      });
    const branchCommits = new Map<string, string>();
    return {
      open: (n) => double.openPull(n),
      close: (n) => double.closePull(n),
      merge: (n) => double.closePull(n),
      deploy: (n, options) => pullRequest('synchronize', n, options),
      stop: (n, options) => pullRequest('closed', n, options),
      deployBranch(branch) {
        const commit = emulator.world.push(github.cloneUrl, branch);
        branchCommits.set(branch, commit);
        return branchPush(branch, commit, false);
      },
      deleteBranch(branch) {
        double.deletedBranches.add(branch);
        return branchPush(branch, branchCommits.get(branch) ?? '0'.repeat(40), true);
      },
      prune: () =>
        run({
          eventName: 'schedule',
          payload: schedulePayload(),
          githubApiUrl: double.url,
          inputs: inputs(),
        }),
      holdOpenList() {
        let release = (): void => {};
        double.listDelay = new Promise<void>((resolve) => (release = resolve));
        const arrived = () => double.calls.some((c) => c.method === 'GET' && c.path.endsWith('/pulls'));
        return { arrived, release };
      },
      gateNoteList: () => {},
      notes: (n) => double.comments.filter((c) => c.issue === n).map((c) => c.body),
      deployments: (n) =>
        double.deployments
          .filter((d) => d.environment === `Codesphere Preview #${n}`)
          .map((d) => ({ sha: d.sha, state: d.statuses.at(-1)?.state })),
      async finish() {
        expect(double.unhandled, 'GitHub calls the double does not know').toEqual([]);
        expect(validateGitHubCalls(double.calls), 'GitHub calls against @octokit/openapi').toEqual([]);
        expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
        await double.close();
      },
    };
  },
  expectNoPreview(run, message) {
    expect(run.outputs['result'], run.describe).toBe('cancelled');
    expect(run.log).toMatch(new RegExp(`^::notice::${message}`, 'm'));
  },
  expectNothingToDelete(run) {
    expect(run.outputs['result'], run.describe).toBe('nothing-to-delete');
  },
  expectPruned(run, names) {
    expect(JSON.parse(run.outputs['pruned'] ?? '[]'), run.describe).toEqual(names);
  },
};

// ------------------------------------------------------------------------------------------------
// GitLab image and Bitbucket pipe: the built entry in a job directory of its own per run.

interface CiDouble {
  calls: GitLabDouble['calls'];
  unhandled: unknown[];
  close(): Promise<void>;
}

const CI_VARIABLE_NAMES = new Map<string, string>(Object.entries(CI_VARIABLE_OF));

/** Runs one CI job in a fresh directory and reads what it left before the directory goes. */
async function runCiJob(
  emulator: RunningEmulator,
  double: CiDouble,
  spec: {
    entry: string;
    env: (dir: string) => Record<string, string>;
    accessToken: string;
    secrets: string[];
    outputFile: string;
    options: JobOptions;
  },
): Promise<Run> {
  const job = jobDirectory('platform-job');
  try {
    const fields = Object.entries(spec.options.inputs ?? {}).map(([field, value]): [string, string] => [
      CI_VARIABLE_NAMES.get(field) ?? field,
      value,
    ]);
    const env = {
      ...spec.env(job.dir),
      ...userVariables(emulator, spec.accessToken),
      ...Object.fromEntries(fields),
      ...spec.options.variables,
    };
    const run: EntryRun = await runCheckedEntry(spec.entry, env, {
      dir: job.dir,
      double,
      secrets: spec.secrets,
    });
    const outputFile = path.join(job.dir, spec.outputFile);
    return {
      code: run.code,
      log: run.text,
      rawLines: latest(run.stdout + run.stderr),
      outputs: existsSync(outputFile) ? readAssignments(readFileSync(outputFile, 'utf8')) : {},
      errors: plainText(run.stdout + run.stderr)
        .split('\n')
        .filter((line) => line.startsWith('✖')),
      visible: {
        log: run.stdout + run.stderr,
        ...Object.fromEntries(
          Object.entries(filesUnder(job.dir)).map(([name, text]) => [`file ${name}`, text]),
        ),
        'platform API bodies': JSON.stringify(double.calls.map((call) => call.body)),
      },
      describe: `${describeRun(run)}\n--- verdict\n${lastLine(run)}`,
    };
  } finally {
    job.remove();
  }
}

/** `NAME=value` lines (the dotenv report, Bitbucket's output variables). */
function readAssignments(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const verdictOf = (run: Run) =>
  run.log
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .at(-1) ?? '';

const ciExpectations = (platform: { workspace(n: number): string }) => ({
  expectNoPreview(run: Run, message: string) {
    expect(verdictOf(run), run.describe).toMatch(new RegExp(`^✔ No preview: ${message}`));
  },
  expectNothingToDelete(run: Run, number: number) {
    expect(verdictOf(run), run.describe).toBe(
      `✔ Nothing to delete: no workspace ${platform.workspace(number)}`,
    );
  },
  expectPruned(run: Run, names: string[]) {
    expect(verdictOf(run), run.describe).toMatch(new RegExp(`^✔ Pruned ${names.length} preview`));
  },
});

const gitlab: Platform = {
  name: 'GitLab image',
  changeRequest: (n) => `Merge request !${n}`,
  workspace: (n) => `shop-!${n}`,
  shortSha: 12,
  cloneUrl: `${GITLAB_PROJECT.url}.git`,
  inputName: (field) => CI_VARIABLE_OF[field],
  stopRunsInDeployPipeline: true,
  ciVariables: true,
  async start(emulator) {
    const double = await startGitLabDouble({
      token: GITLAB_ACCESS_TOKEN,
      projectId: GITLAB_PROJECT.id,
      projectPath: GITLAB_PROJECT.path,
    });
    const job = (shape: Omit<Parameters<typeof gitlabJobEnv>[0], 'apiV4Url'>, options: JobOptions = {}) =>
      runCiJob(emulator, double, {
        entry: gitlabEntry,
        env: (dir) =>
          gitlabJobEnv(
            {
              ...shape,
              apiV4Url: `${double.url}/api/v4`,
              ...(options.sha ? { sha: options.sha } : {}),
              ...(options.order === undefined ? {} : { pipelineId: 80000 + options.order }),
            },
            dir,
          ),
        accessToken: GITLAB_ACCESS_TOKEN,
        secrets: [DEMO_TOKEN, DEMO_PASSWORD, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN],
        outputFile: 'deploy.env',
        options,
      });
    return {
      open: (n) => double.setState(n, 'opened'),
      close: (n) => double.setState(n, 'closed'),
      merge: (n) => double.setState(n, 'merged'),
      deploy: (n, options) => job({ mergeRequestIid: n }, options),
      stop: (n, options) => job({ mergeRequestIid: n, stop: true }, options),
      deployBranch: (branch) => job({ branch }),
      deleteBranch(branch) {
        double.deletedBranches.add(branch);
        return job({ branch, stop: true });
      },
      prune: () => job({ branch: 'main' }, { variables: { ACTION: 'prune' } }),
      holdOpenList() {
        let release = (): void => {};
        double.delayNext(
          { method: 'GET', pathIncludes: '/merge_requests' },
          new Promise<void>((resolve) => (release = resolve)),
        );
        return { arrived: () => double.calls.some((c) => c.path.endsWith('/merge_requests')), release };
      },
      gateNoteList: (n, count) =>
        double.gate({ method: 'GET', pathIncludes: `/merge_requests/${n}/notes` }, count),
      notes: (n) => double.userNotes(n).map((note) => note.body),
      async finish() {
        expectCleanCalls(emulator, double, 'GitLab');
        await double.close();
      },
    };
  },
  ...ciExpectations({ workspace: (n) => `shop-!${n}` }),
};

const bitbucket: Platform = {
  name: 'Bitbucket pipe',
  changeRequest: (n) => `Pull request #${n}`,
  workspace: (n) => `shop-pr-${n}`,
  shortSha: 12,
  cloneUrl: `https://bitbucket.org/${BITBUCKET_REPO.workspace}/${BITBUCKET_REPO.slug}.git`,
  inputName: (field) => CI_VARIABLE_OF[field],
  stopRunsInDeployPipeline: false,
  ciVariables: true,
  async start(emulator) {
    const double: BitbucketDouble = await startBitbucketDouble({
      token: BITBUCKET_ACCESS_TOKEN,
      workspace: BITBUCKET_REPO.workspace,
      repoSlug: BITBUCKET_REPO.slug,
    });
    const step = (shape: { pullRequestId?: number; branch?: string }, options: JobOptions = {}) =>
      runCiJob(emulator, double, {
        entry: bitbucketEntry,
        env: (dir) => ({
          ...bitbucketStepEnv(
            {
              ...shape,
              apiUrl: double.url,
              ...(options.sha ? { commit: options.sha } : {}),
              ...(options.order === undefined ? {} : { buildNumber: 400 + options.order }),
            },
            dir,
          ),
          BITBUCKET_PIPELINES_VARIABLES_PATH: path.join(dir, 'pipelines-variables.env'),
        }),
        accessToken: BITBUCKET_ACCESS_TOKEN,
        secrets: [DEMO_TOKEN, DEMO_PASSWORD, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN],
        outputFile: 'pipelines-variables.env',
        options,
      });
    return {
      open: (n) => double.setState(n, 'OPEN'),
      close: (n) => double.setState(n, 'DECLINED'),
      merge: (n) => double.setState(n, 'MERGED'),
      deploy: (n, options) => step({ pullRequestId: n }, options),
      stop: (n, options) =>
        step({ pullRequestId: n }, { ...options, variables: { ...options?.variables, ACTION: 'teardown' } }),
      deployBranch: (branch) => step({ branch }),
      deleteBranch(branch) {
        // Bitbucket runs no pipeline when a branch is deleted.
        double.deletedBranches.add(branch);
        return Promise.resolve(undefined);
      },
      prune: () => step({ branch: 'main' }, { variables: { ACTION: 'prune' } }),
      holdOpenList() {
        let release = (): void => {};
        double.delayNext(
          { method: 'GET', pathIncludes: '/pullrequests' },
          new Promise<void>((resolve) => (release = resolve)),
        );
        return { arrived: () => double.calls.some((c) => c.path.endsWith('/pullrequests')), release };
      },
      gateNoteList: (n, count) =>
        double.gate({ method: 'GET', pathIncludes: `/pullrequests/${n}/comments` }, count),
      // Bitbucket keeps a deleted comment that has replies in its thread, flagged `deleted`.
      notes: (n) => (double.comments.get(n) ?? []).filter((c) => !c.deleted).map((c) => c.content.raw),
      async finish() {
        expectCleanCalls(emulator, double, 'Bitbucket');
        await double.close();
      },
    };
  },
  ...ciExpectations({ workspace: (n) => `shop-pr-${n}` }),
};

export const PLATFORMS: Platform[] = [github, gitlab, bitbucket];

/**
 * The secrets a deploy run is given on each platform: the Codesphere API token and the platform's
 * tokens (the runs sign in with the token, so the demo password is no secret of theirs).
 */
export const SECRETS_OF: Record<string, string[]> = {
  [github.name]: [DEMO_TOKEN, GITHUB_TOKEN],
  [gitlab.name]: [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN],
  [bitbucket.name]: [DEMO_TOKEN, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN],
};

// ------------------------------------------------------------------------------------------------
// The emulator

/**
 * A latency no test waits out: a request delayed by exactly this long is held until the test
 * releases it (see `startHoldingEmulator`), so "the create lands after the close run" is an order
 * the test sets, not a race against a timer.
 */
export const HELD_MS = 3_600_000;

/** The emulator with fast timing, whose requests armed with a `HELD_MS` latency wait for `release()`. */
export async function startHoldingEmulator(): Promise<{ emulator: RunningEmulator; release: () => void }> {
  const held: Array<() => void> = [];
  const clock: Clock = {
    now: () => systemClock.now(),
    sleep: (ms) =>
      ms === HELD_MS ? new Promise<void>((resolve) => held.push(resolve)) : systemClock.sleep(ms),
  };
  const emulator = await startEmulator({ timing: FAST_TIMING, notice: () => {}, clock });
  return { emulator, release: () => held.splice(0).forEach((resume) => resume()) };
}
