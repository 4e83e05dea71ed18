/**
 * Landscapes through the built adapters on all three platforms (the GitHub Action, the GitLab
 * image, the Bitbucket pipe), each against the emulator and its platform's double: the profile on
 * every landscape and stage call, the scale per service, the services grid in the comment or note
 * and the `services` output, a failing test stage that stops the pipeline before run, a failed
 * replica named, each bad `replicas` value refused before any create, and the managed service
 * gone after teardown.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startBitbucketDouble, type BitbucketDouble } from '../doubles/bitbucket-double.js';
import { jobDirectory, runCheckedEntry, startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import { startGitLabDouble, type GitLabDouble } from '../doubles/gitlab-double.js';
import {
  BITBUCKET_ACCESS_TOKEN,
  BITBUCKET_OIDC_TOKEN,
  BITBUCKET_REPO,
  bitbucketEntry,
  bitbucketStepEnv,
  DEMO_TOKEN,
  GITLAB_ACCESS_TOKEN,
  GITLAB_JOB_TOKEN,
  GITLAB_PROJECT,
  gitlabEntry,
  gitlabJobEnv,
} from '../doubles/run-entry.js';
import { runAction } from '../github-action/harness.js';
import { pullRequestPayload } from '../github-action/payloads.js';

/** The landscape inputs in the core's words; each platform spells them its own way. */
interface Inputs {
  branch: string;
  profile?: string;
  stages?: string;
  replicas?: string;
  healthPath?: string;
  vpnCheck?: string;
}

interface Outcome {
  code: number | null;
  /** What a reader of the job log sees. */
  text: string;
  /** The change request's comment or note. */
  note: string;
  /** The services output (GitHub) or CODESPHERE_SERVICES (dotenv report, output variables). */
  services: string | undefined;
}

interface Platform {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  deploy(inputs: Inputs): Promise<Outcome>;
  teardown(inputs: Inputs): Promise<Outcome>;
  /** How an input error names `replicas` on this platform. */
  replicasName: string;
  /** Starts this platform's own emulator (the platforms' suites run side by side) and returns it. */
  open(): Promise<RunningEmulator>;
}

const UPPER: Record<keyof Omit<Inputs, 'branch'>, string> = {
  profile: 'PROFILE',
  stages: 'STAGES',
  replicas: 'REPLICAS',
  healthPath: 'HEALTH_PATH',
  vpnCheck: 'VPN_CHECK',
};

function ciVariables(inputs: Inputs): Record<string, string> {
  const out: Record<string, string> = { PLAN: 'Pro' };
  for (const [key, name] of Object.entries(UPPER)) {
    const value = inputs[key as keyof typeof UPPER];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function dotenvValue(text: string, name: string): string | undefined {
  return text
    .split('\n')
    .find((line) => line.startsWith(`${name}=`))
    ?.slice(name.length + 1);
}

function gitlabPlatform(): Platform {
  let emulator: RunningEmulator;
  let gitlab: GitLabDouble;
  let job: { dir: string; remove(): void };
  const run = async (inputs: Inputs, stop: boolean): Promise<Outcome> => {
    const env = {
      ...gitlabJobEnv(
        { mergeRequestIid: 12, branch: inputs.branch, apiV4Url: `${gitlab.url}/api/v4`, stop },
        job.dir,
      ),
      ...userVariables(emulator, GITLAB_ACCESS_TOKEN, ciVariables(inputs)),
    };
    const result = await runCheckedEntry(gitlabEntry, env, {
      dir: job.dir,
      double: gitlab,
      secrets: [DEMO_TOKEN, GITLAB_ACCESS_TOKEN, GITLAB_JOB_TOKEN],
    });
    const reportFile = path.join(job.dir, 'deploy.env');
    const report = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
    return {
      code: result.code,
      text: result.text,
      note: gitlab.userNotes(12)[0]?.body ?? '',
      services: dotenvValue(report, 'CODESPHERE_SERVICES'),
    };
  };
  return {
    name: 'GitLab',
    replicasName: 'REPLICAS',
    async open() {
      emulator = await startFixtureEmulator();
      return emulator;
    },
    async start() {
      gitlab = await startGitLabDouble({
        token: GITLAB_ACCESS_TOKEN,
        projectId: GITLAB_PROJECT.id,
        projectPath: GITLAB_PROJECT.path,
        mergeRequests: [{ iid: 12, state: 'opened' }],
      });
      job = jobDirectory('gitlab-landscape');
    },
    async stop() {
      expect(gitlab.unhandled).toEqual([]);
      await gitlab.close();
      job.remove();
    },
    deploy: (inputs) => run(inputs, false),
    teardown: (inputs) => run(inputs, true),
  };
}

function bitbucketPlatform(): Platform {
  let emulator: RunningEmulator;
  let bitbucket: BitbucketDouble;
  let step: { dir: string; remove(): void };
  let variablesFile: string;
  const run = async (inputs: Inputs, action: 'deploy' | 'teardown'): Promise<Outcome> => {
    const env = {
      ...bitbucketStepEnv({ pullRequestId: 7, branch: inputs.branch, apiUrl: bitbucket.url }, step.dir),
      BITBUCKET_PIPELINES_VARIABLES_PATH: variablesFile,
      ...userVariables(emulator, BITBUCKET_ACCESS_TOKEN, { ...ciVariables(inputs), ACTION: action }),
    };
    const result = await runCheckedEntry(bitbucketEntry, env, {
      dir: step.dir,
      double: bitbucket,
      secrets: [DEMO_TOKEN, BITBUCKET_ACCESS_TOKEN, BITBUCKET_OIDC_TOKEN],
    });
    const comments = (bitbucket.comments.get(7) ?? []).filter((c) => !c.deleted);
    return {
      code: result.code,
      text: result.text,
      note: comments[0]?.content.raw ?? '',
      services: dotenvValue(readFileSync(variablesFile, 'utf8'), 'CODESPHERE_SERVICES'),
    };
  };
  return {
    name: 'Bitbucket',
    replicasName: 'REPLICAS',
    async open() {
      emulator = await startFixtureEmulator();
      return emulator;
    },
    async start() {
      bitbucket = await startBitbucketDouble({
        token: BITBUCKET_ACCESS_TOKEN,
        workspace: BITBUCKET_REPO.workspace,
        repoSlug: BITBUCKET_REPO.slug,
        pullRequests: [{ id: 7, state: 'OPEN' }],
      });
      step = jobDirectory('bitbucket-landscape');
      variablesFile = path.join(step.dir, 'pipelines-variables.env');
      writeFileSync(variablesFile, '');
    },
    async stop() {
      expect(bitbucket.unhandled).toEqual([]);
      await bitbucket.close();
      step.remove();
    },
    deploy: (inputs) => run(inputs, 'deploy'),
    teardown: (inputs) => run(inputs, 'teardown'),
  };
}

function githubPlatform(): Platform {
  let emulator: RunningEmulator;
  let github: GitHubDouble;
  const run = async (inputs: Inputs, action: 'opened' | 'closed'): Promise<Outcome> => {
    const { branch, ...rest } = inputs;
    const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const result = await runAction({
      eventName: 'pull_request',
      payload: pullRequestPayload({ action, number: 31, branch }),
      githubApiUrl: github.url,
      inputs: {
        apiUrl: emulator.url,
        apiToken: DEMO_TOKEN,
        team: 'My Team',
        plan: 'Pro',
        vpnConfig: 'office',
        ...(action === 'opened' ? { stages: 'prepare,run' } : {}),
        ...given,
      },
    });
    return {
      code: result.code,
      text: `${result.stdout}\n${result.stderr}`,
      note: github.comments.find((c) => c.issue === 31)?.body ?? '',
      services: result.outputs['services'],
    };
  };
  return {
    name: 'GitHub',
    replicasName: 'replicas',
    async open() {
      emulator = await startFixtureEmulator();
      return emulator;
    },
    async start() {
      github = await startGitHubDouble({ token: undefined });
      github.openPull(31);
    },
    async stop() {
      expect(github.unhandled).toEqual([]);
      await github.close();
    },
    deploy: (inputs) => run(inputs, 'opened'),
    teardown: (inputs) => run(inputs, 'closed'),
  };
}

// The platforms run side by side, each on its own emulator and double: a run is mostly waiting
// (polls, stages, the teardown's race checks), so the three overlap. One platform's tests run in turn.
describe.concurrent.each([gitlabPlatform(), bitbucketPlatform(), githubPlatform()])(
  '$name: landscapes',
  { timeout: 60_000 },
  (platform) => {
    let emulator: RunningEmulator;
    beforeAll(async () => {
      emulator = await platform.open();
    });
    afterAll(async () => {
      const violations = emulator.contractViolations();
      await emulator.close();
      expect(violations, 'Codesphere calls against the OpenAPI contract').toEqual([]);
    });
    const stageAndLandscapeCalls = () =>
      emulator
        .requestLog()
        .filter((e) => /\/(pipeline\/\w+\/start|landscape\/)/.test(e.path))
        .map((e) => `${e.method} ${e.path.replace(/^\/api\/workspaces\/\d+/, '')}`);

    describe.sequential('one test after another', () => {
      beforeEach(async () => {
        await emulator.reset();
        await platform.start();
      });
      afterEach(async () => {
        await platform.stop();
      });

      it('deploys with the profile, scales per service, reports the grid and services, and teardown leaves nothing', async () => {
        const inputs: Inputs = {
          branch: 'landscape',
          profile: 'preview',
          stages: 'prepare,test,run',
          replicas: 'web=2,api=1',
          healthPath: 'web=/healthz,api=/ready',
          vpnCheck: '10.250.0.5',
        };
        const run = await platform.deploy(inputs);
        expect(run.code, run.text).toBe(0);
        expect(stageAndLandscapeCalls()).toEqual([
          'POST /pipeline/prepare/start/preview',
          'POST /pipeline/test/start/preview',
          'POST /landscape/deploy/preview',
          'PATCH /landscape/scale',
          'POST /pipeline/run/start/preview',
        ]);
        const workspace = emulator.state().workspaces[0];
        expect(workspace?.landscape?.services.map((s) => [s.name, s.replicas])).toEqual([
          ['web', 2],
          ['api', 1],
          ['db', 1],
        ]);
        // One tunnel per replica of every app service: 2 web + 1 api.
        expect(workspace?.tunnels).toHaveLength(3);

        expect(run.note).toContain(
          '| Service | Replicas | State | URL | Health per replica | VPN per replica |',
        );
        expect(run.note).toMatch(
          /\| web \| 2 \| running \| https:\/\/\d+-3000\.2\.codesphere\.com \| 0: HTTP 200 · 1: HTTP 200 \| 0: ✓ 10\.250\.0\.5 reachable · 1: ✓ 10\.250\.0\.5 reachable \|/,
        );
        expect(run.note).toMatch(
          /\| api \| 1 \| running \| https:\/\/\d+-3000\.2\.codesphere\.com\/api \| 0: HTTP 200 \|/,
        );
        expect(run.note).toContain('| db (managed) | 1 | running | — | — | — |');
        expect(JSON.parse(run.services ?? '{}')).toMatchObject({
          web: { replicas: 2, state: 'running' },
          api: { replicas: 1, state: 'running' },
          db: { replicas: 1, state: 'running', url: '' },
        });

        expect(emulator.state().managedServices).toHaveLength(1);
        const down = await platform.teardown(inputs);
        expect(down.code, down.text).toBe(0);
        expect(emulator.state().workspaces).toEqual([]);
        expect(emulator.state().managedServices).toEqual([]);
      });

      it('stops at a failing test stage: the landscape is never deployed and run never starts', async () => {
        const run = await platform.deploy({ branch: 'landscape-test-fails', stages: 'prepare,test,run' });
        expect(run.code, run.text).toBe(1);
        expect(run.text).toContain('test stage failed on api replica 0');
        expect(run.note).toContain('test stage failed on api replica 0');
        expect(stageAndLandscapeCalls()).toEqual([
          'POST /pipeline/prepare/start',
          'POST /pipeline/test/start',
        ]);
      });

      it('names the failed replica of the run stage', async () => {
        const run = await platform.deploy({ branch: 'landscape-run-fails' });
        expect(run.code, run.text).toBe(1);
        expect(run.text).toContain('run stage failed on web replica 1');
      });

      it.each([
        ['web=0', 'out of range'],
        ['web=two', 'is not a whole number'],
        ['=2', 'empty service name'],
        ['web=1,web=2', 'listed twice'],
      ])('refuses replicas %s before any create, naming the input', async (replicas, why) => {
        const run = await platform.deploy({ branch: 'landscape', replicas });
        expect(run.code, run.text).toBe(1);
        expect(run.text).toContain(platform.replicasName);
        expect(run.text).toContain(why);
        expect(
          emulator.requestLog().filter((e) => e.method === 'POST' && e.path.startsWith('/api/')),
        ).toEqual([]);
      });

      it('refuses a service the landscape does not have, naming the input and the services', async () => {
        const run = await platform.deploy({ branch: 'landscape', replicas: 'web=1,worker=2' });
        expect(run.code, run.text).toBe(1);
        expect(run.text).toMatch(/names "worker", which the landscape does not have; its services: web, api/);
        expect(stageAndLandscapeCalls()).not.toContain('PATCH /landscape/scale');
      });
    });
  },
);
