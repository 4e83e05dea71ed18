/**
 * One harness per CI platform for the suites that must hold on all three (races, concurrent runs,
 * inputs): the built entry run as a separate process with the variables that platform sets, the
 * platform's API double, and readers for what a run leaves (log, verdict, outputs, the note on the
 * change request). The suites are `describe.each(PLATFORMS)` with `usePlatform` for set-up.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { startEmulator, systemClock, type RunningEmulator } from '../../emulator/index.js';
import { CI_VARIABLE_OF, type BadField } from '../doubles/bad-inputs.js';
import { startBitbucketDouble } from '../doubles/bitbucket-double.js';
import { FAST_TIMING, filesUnder, jobDirectory, runCheckedEntry, userVariables } from '../doubles/fixture.js';
import { startGitHubDouble } from '../doubles/github-double.js';
import { validateGitHubCalls, warmUpGitHubValidation } from '../doubles/github-openapi.js';
import { startGitLabDouble } from '../doubles/gitlab-double.js';
import type { HttpDouble } from '../doubles/http-double.js';
import * as entries from '../doubles/run-entry.js';
import { assertNoSecretLeaks, describeRun } from '../github-action/fixture.js';
import { errorLines, GITHUB_TOKEN, runAction } from '../github-action/harness.js';
import { pullRequestPayload, pushPayload, schedulePayload } from '../github-action/payloads.js';

const { DEMO_PASSWORD, DEMO_TOKEN, GITLAB_PROJECT, BITBUCKET_REPO } = entries;

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
  /** Holds the note list until `count` runs asked for it (every run lists before any writes), where all runs list it. */
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
  changeRequest: (number: number) => string;
  workspace: (number: number) => string;
  /** How many characters of a commit the note shows. */
  shortSha: number;
  /** Where pushes go in the emulator's world (the repository the workspace clones). */
  cloneUrl: string;
  /** The platform's name for a core input field. */
  inputName: (field: BadField) => string;
  /** GitLab runs an MR's stop job in the pipeline of the environment's last deployment. */
  stopRunsInDeployPipeline: boolean;
  /** GitLab and Bitbucket read CI variables such as DEBUG; GitHub reads action inputs. */
  ciVariables: boolean;
  /** The secrets a deploy run is given: the Codesphere API token and the platform's tokens. */
  secrets: string[];
  /** The outputs holding the preview's URL, one holding the workspace's name or id, the warning when the URL is left out. */
  outputs: { url: string[]; kept: [string, 'name' | 'id']; leftOut: RegExp };
  start(emulator: RunningEmulator): Promise<Session>;
  /** Asserts the run stopped without a preview, saying `message` (a regular expression's source). */
  expectNoPreview(run: Run, message: string): void;
  expectNothingToDelete(run: Run, number: number): void;
  expectPruned(run: Run, names: string[]): void;
}

/** One job as a session asks for it: a change request's (`number`) or a branch's, its stop job, or prune. */
interface Job extends JobOptions {
  number?: number;
  branch?: string;
  stop?: boolean;
  prune?: boolean;
}

/** A platform's API double, as a session drives and reads it, and the platform's runner. */
interface PlatformApi {
  double: HttpDouble & { deletedBranches: Set<string> };
  setState(number: number, state: 'open' | 'closed' | 'merged'): void;
  notes(number: number): string[];
  deployments?: Session['deployments'];
  /** Contract problems beyond calls the double does not model (GitHub: against @octokit/openapi). */
  problems?(): unknown[];
  /** Runs one job as the platform's runner would and reads what it left. */
  run(job: Job): Promise<Run>;
}

type PlatformSpec = Omit<Platform, 'start'> & {
  startApi: (emulator: RunningEmulator) => Promise<PlatformApi>;
  /** Deleting a branch runs a job (GitHub's push, GitLab's stop job), or nothing (Bitbucket). */
  runsOnBranchDeletion: boolean;
  /** The paths of the open-change-request list and of a change request's notes (to gate). */
  listPath: string;
  notesPath: ((number: number) => string) | undefined;
};

/** A platform whose sessions drive the API double and runner that `startApi` gives. */
function platformOf(spec: PlatformSpec): Platform {
  const { startApi, runsOnBranchDeletion, listPath, notesPath, ...platform } = spec;
  const start = async (emulator: RunningEmulator): Promise<Session> => {
    const api = await startApi(emulator);
    const { double } = api;
    let release = (): void => {};
    return {
      open: (n) => api.setState(n, 'open'),
      close: (n) => api.setState(n, 'closed'),
      merge: (n) => api.setState(n, 'merged'),
      deploy: (number, options) => api.run({ ...options, number }),
      stop: (number, options) => api.run({ ...options, number, stop: true }),
      deployBranch: (branch) => api.run({ branch }),
      deleteBranch(branch) {
        double.deletedBranches.add(branch);
        return runsOnBranchDeletion ? api.run({ branch, stop: true }) : Promise.resolve(undefined);
      },
      prune: () => api.run({ prune: true }),
      holdOpenList() {
        double.delayNext({ method: 'GET', pathEnds: listPath }, new Promise<void>((go) => (release = go)));
        const arrived = () => double.calls.some((c) => c.method === 'GET' && c.path.endsWith(listPath));
        return { arrived, release: () => release() };
      },
      gateNoteList(n, count) {
        if (notesPath) double.gate({ method: 'GET', pathEnds: notesPath(n) }, count);
      },
      notes: (n) => api.notes(n),
      ...(api.deployments ? { deployments: api.deployments } : {}),
      async finish() {
        expect(double.unhandled, `${spec.name}: calls the double does not model`).toEqual([]);
        expect(api.problems?.() ?? [], `${spec.name}: calls against its API description`).toEqual([]);
        expect(emulator.contractViolations(), 'Codesphere calls against the OpenAPI contract').toEqual([]);
        await double.close();
      },
    };
  };
  return { ...platform, start };
}

const lines = (text: string) => text.split(/\r\n|\r|\n/);

const github = platformOf({
  name: 'GitHub Action',
  changeRequest: (n) => `Pull request #${n}`,
  workspace: (n) => `shop-#${n}`,
  shortSha: 7,
  cloneUrl: 'https://github.com/acme/shop.git',
  inputName: (field) => field,
  stopRunsInDeployPipeline: false,
  ciVariables: false,
  secrets: [DEMO_TOKEN, GITHUB_TOKEN],
  outputs: {
    url: ['deployment-url'],
    kept: ['workspace-name', 'name'],
    leftOut: /::warning::Not written to the step outputs \(GITHUB_OUTPUT\): deployment-url\. Its value holds/,
  },
  runsOnBranchDeletion: true,
  listPath: '/pulls',
  // No note gate: a GitHub run that sees a newer run's deployment skips the comment, so fewer
  // than all runs list it and a gate would only wait out its timeout.
  notesPath: undefined,
  async startApi(emulator) {
    warmUpGitHubValidation();
    const double = await startGitHubDouble({ token: undefined });
    const payload = ({ number, branch = 'main', stop, sha, prune }: Job) => {
      if (prune) return { eventName: 'schedule', payload: schedulePayload() };
      if (number === undefined) {
        const commit = stop ? '0'.repeat(40) : emulator.world.push(github.cloneUrl, branch);
        return { eventName: 'push', payload: pushPayload(branch, commit, { deleted: stop === true }) };
      }
      const action = stop ? 'closed' : 'synchronize';
      return {
        eventName: 'pull_request',
        payload: pullRequestPayload({ action, number, ...(sha ? { sha } : {}) }),
      };
    };
    return {
      double,
      setState: (n, state) => (state === 'open' ? double.openPull(n) : double.closePull(n)),
      notes: (n) => double.comments.filter((c) => c.issue === n).map((c) => c.body),
      deployments: (n) =>
        double.deployments
          .filter((d) => d.environment === `Codesphere Preview #${n}`)
          .map((d) => ({ sha: d.sha, state: d.statuses.at(-1)?.state })),
      problems: () => validateGitHubCalls(double.calls),
      async run(job) {
        const inputs = { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team', vpnConfig: 'office' };
        const extraEnv: Record<string, string> =
          job.order === undefined ? {} : { GITHUB_RUN_ID: String(5000 + job.order) };
        const run = await runAction({
          ...payload(job),
          githubApiUrl: double.url,
          inputs: { ...inputs, ...job.inputs },
          extraEnv,
        });
        assertNoSecretLeaks(run, double, [DEMO_PASSWORD, ...github.secrets]);
        const { code, outputs, stdout, stderr, visibleStdout: log, summary } = run;
        const [comments, statuses] = [JSON.stringify(double.comments), JSON.stringify(double.deployments)];
        return {
          code,
          outputs,
          log: `${log}\n${stderr}`,
          errors: errorLines(stdout),
          describe: describeRun(run),
          rawLines: lines(stdout + stderr),
          visible: {
            log,
            stderr,
            outputs: JSON.stringify(outputs),
            summary,
            comments,
            'deployment statuses': statuses,
          },
        };
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
});

// ------------------------------------------------------------------------------------------------
// GitLab image and Bitbucket pipe: the built entry in a job directory of its own per run.

const CI_NAMES = new Map<string, string>(Object.entries(CI_VARIABLE_OF));

/**
 * Runs a GitLab job or Bitbucket step of the built `entry` in a fresh directory, with the
 * platform's variables (`env`), the user's and the job's, and reads what it left before the
 * directory goes. `outputFile`: where the job writes its outputs as NAME=value lines.
 */
async function runCiJob(
  emulator: RunningEmulator,
  double: HttpDouble,
  job: Job,
  spec: { entry: string; outputFile: string; accessToken: string; secrets: string[] },
  env: (dir: string) => Record<string, string>,
): Promise<Run> {
  const directory = jobDirectory('platform-job');
  const { dir } = directory;
  try {
    const inputs = Object.entries(job.inputs ?? {}).flatMap(([field, value]): Array<[string, string]> =>
      value === undefined ? [] : [[CI_NAMES.get(field) ?? field, value]],
    );
    const variables: Record<string, string> = {
      ...env(dir),
      ...userVariables(emulator, spec.accessToken),
      ...Object.fromEntries(inputs),
      ...(job.prune ? { ACTION: 'prune' } : {}),
      ...job.variables,
    };
    const secrets = [DEMO_PASSWORD, ...spec.secrets];
    const run = await runCheckedEntry(spec.entry, variables, { dir, double, secrets });
    const file = path.join(dir, spec.outputFile);
    const assignments = existsSync(file) ? readFileSync(file, 'utf8').matchAll(/^([^=\n]+)=(.*)$/gm) : [];
    const files = Object.entries(filesUnder(dir)).map(([name, text]): [string, string] => [
      `file ${name}`,
      text,
    ]);
    const raw = run.stdout + run.stderr;
    const bodies = double.calls.map((call) => call.body);
    return {
      code: run.code,
      log: run.text,
      rawLines: lines(raw),
      outputs: Object.fromEntries([...assignments].map(([, name = '', value = '']) => [name, value])),
      errors: entries
        .plainText(raw)
        .split('\n')
        .filter((line) => line.startsWith('✖')),
      visible: { log: raw, ...Object.fromEntries(files), 'platform API bodies': JSON.stringify(bodies) },
      describe: `${entries.describeRun(run)}\n--- verdict\n${entries.lastLine(run)}`,
    };
  } finally {
    directory.remove();
  }
}

/** The CI platforms' verdict: the last line a reader sees. */
const ciVerdicts = (workspace: (n: number) => string) => {
  const verdict = (run: Run) => run.log.trim().split('\n').at(-1)?.trim() ?? '';
  return {
    expectNoPreview(run: Run, message: string) {
      expect(verdict(run), run.describe).toMatch(new RegExp(`^✔ No preview: ${message}`));
    },
    expectNothingToDelete(run: Run, n: number) {
      expect(verdict(run), run.describe).toBe(`✔ Nothing to delete: no workspace ${workspace(n)}`);
    },
    expectPruned(run: Run, names: string[]) {
      expect(verdict(run), run.describe).toMatch(new RegExp(`^✔ Pruned ${names.length} preview`));
    },
  };
};

const CI = { shortSha: 12, inputName: (field: BadField) => CI_VARIABLE_OF[field], ciVariables: true };

const gitlabWorkspace = (n: number) => `shop-!${n}`;
const gitlab = platformOf({
  ...CI,
  name: 'GitLab image',
  changeRequest: (n) => `Merge request !${n}`,
  workspace: gitlabWorkspace,
  cloneUrl: `${GITLAB_PROJECT.url}.git`,
  stopRunsInDeployPipeline: true,
  secrets: [DEMO_TOKEN, entries.GITLAB_ACCESS_TOKEN, entries.GITLAB_JOB_TOKEN],
  outputs: {
    url: ['DYNAMIC_ENVIRONMENT_URL', 'CODESPHERE_URL'],
    kept: ['CODESPHERE_WORKSPACE_NAME', 'name'],
    leftOut: /Not written to the dotenv report: DYNAMIC_ENVIRONMENT_URL, CODESPHERE_URL\./,
  },
  runsOnBranchDeletion: true,
  listPath: '/merge_requests',
  notesPath: (n) => `/merge_requests/${n}/notes`,
  async startApi(emulator) {
    const accessToken = entries.GITLAB_ACCESS_TOKEN;
    const { id: projectId, path: projectPath } = GITLAB_PROJECT;
    const double = await startGitLabDouble({ token: accessToken, projectId, projectPath });
    const states = { open: 'opened', closed: 'closed', merged: 'merged' } as const;
    const spec = {
      entry: entries.gitlabEntry,
      outputFile: 'deploy.env',
      accessToken,
      secrets: gitlab.secrets,
    };
    return {
      double,
      setState: (n, state) => double.setState(n, states[state]),
      notes: (n) => double.userNotes(n).map((note) => note.body),
      run: (job) =>
        runCiJob(emulator, double, job, spec, (dir) => {
          const { number, branch = 'main', stop, sha, order } = job;
          const pipelineId = order === undefined ? undefined : 80000 + order;
          const where = number === undefined ? { branch } : { mergeRequestIid: number };
          return entries.gitlabJobEnv(
            { ...where, stop, sha, pipelineId, apiV4Url: `${double.url}/api/v4` },
            dir,
          );
        }),
    };
  },
  ...ciVerdicts(gitlabWorkspace),
});

const bitbucketWorkspace = (n: number) => `shop-pr-${n}`;
const bitbucket = platformOf({
  ...CI,
  name: 'Bitbucket pipe',
  changeRequest: (n) => `Pull request #${n}`,
  workspace: bitbucketWorkspace,
  cloneUrl: `https://bitbucket.org/${BITBUCKET_REPO.workspace}/${BITBUCKET_REPO.slug}.git`,
  stopRunsInDeployPipeline: false,
  secrets: [DEMO_TOKEN, entries.BITBUCKET_ACCESS_TOKEN, entries.BITBUCKET_OIDC_TOKEN],
  outputs: {
    url: ['CODESPHERE_URL'],
    kept: ['CODESPHERE_WORKSPACE_ID', 'id'],
    leftOut: /Not written to the output variables: CODESPHERE_URL\./,
  },
  runsOnBranchDeletion: false, // Bitbucket runs no pipeline when a branch is deleted.
  listPath: '/pullrequests',
  notesPath: (n) => `/pullrequests/${n}/comments`,
  async startApi(emulator) {
    const accessToken = entries.BITBUCKET_ACCESS_TOKEN;
    const { workspace, slug: repoSlug } = BITBUCKET_REPO;
    const double = await startBitbucketDouble({ token: accessToken, workspace, repoSlug });
    const states = { open: 'OPEN', closed: 'DECLINED', merged: 'MERGED' } as const;
    const outputFile = 'pipelines-variables.env';
    const spec = { entry: entries.bitbucketEntry, outputFile, accessToken, secrets: bitbucket.secrets };
    return {
      double,
      setState: (n, state) => double.setState(n, states[state]),
      // Bitbucket keeps a deleted comment that has replies in its thread, flagged `deleted`.
      notes: (n) => (double.comments.get(n) ?? []).filter((c) => !c.deleted).map((c) => c.content.raw),
      run: (job) =>
        runCiJob(emulator, double, job, spec, (dir) => {
          const { number, branch = 'main', stop, sha, order } = job;
          const buildNumber = order === undefined ? undefined : 400 + order;
          const where = number === undefined ? { branch } : { pullRequestId: number };
          return {
            ...entries.bitbucketStepEnv({ ...where, commit: sha, buildNumber, apiUrl: double.url }, dir),
            BITBUCKET_PIPELINES_VARIABLES_PATH: path.join(dir, outputFile),
            ...(stop ? { ACTION: 'teardown' } : {}),
          };
        }),
    };
  },
  ...ciVerdicts(bitbucketWorkspace),
});

export const PLATFORMS: Platform[] = [github, gitlab, bitbucket];

// ------------------------------------------------------------------------------------------------
// Set-up and the emulator

/**
 * Emulator timing for the platform suites, which test no phase of a deploy (its wait for the
 * workspace, the pipeline or the tunnel): every phase is over when first asked, about 0.4 s less
 * per deploy run than FAST_TIMING.
 */
const NO_WAIT = { provisioningMs: 0, stageQueueMs: 0, stageMs: 0, tunnelConnectMs: 0, tunnelRestartMs: 0 };

/**
 * A latency no test waits out: a request delayed by exactly this long is held until the test
 * calls `releaseHeld()`, so "the create lands after the close run" is an order the test sets, not
 * a race against a timer.
 */
export const HELD_MS = 3_600_000;

/** The emulator of the platform suites: `NO_WAIT` timing; `releaseHeld()` lets held requests go on. */
export type SuiteEmulator = RunningEmulator & { releaseHeld(): void };

/**
 * Registers a suite's hooks: one emulator for the suite, reset before each test with a fresh
 * session on the platform, whose `finish` checks run after it. Read the returned `emulator` and
 * `session` inside tests and hooks only.
 */
export function usePlatform(platform: Platform): {
  readonly emulator: SuiteEmulator;
  readonly session: Session;
} {
  let emulator: SuiteEmulator | undefined;
  let session: Session | undefined;
  const held: Array<() => void> = [];
  const sleep = (ms: number) =>
    ms === HELD_MS ? new Promise<void>((resolve) => held.push(resolve)) : systemClock.sleep(ms);
  beforeAll(async () => {
    const timing = { ...FAST_TIMING, ...NO_WAIT };
    const started = await startEmulator({ timing, notice: () => {}, clock: { ...systemClock, sleep } });
    emulator = Object.assign(started, { releaseHeld: () => held.splice(0).forEach((resume) => resume()) });
  });
  afterAll(() => emulator?.close());
  beforeEach(async () => {
    await emulator?.reset();
    if (emulator) session = await platform.start(emulator);
  });
  afterEach(() => session?.finish());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("read before usePlatform's hooks ran");
    return value;
  };
  return {
    get emulator() {
      return started(emulator);
    },
    get session() {
      return started(session);
    },
  };
}
