/**
 * The GitLab CI entry: GitLab's predefined variables and the job's variables in, one core call,
 * GitLab features out (a dotenv report for the environment URL, one MR note, a clear last line).
 *
 * `run` takes the environment and its collaborators as arguments (danger-js style), so tests call
 * it with literals and fakes; `index.ts` passes `process.env` and the real core. The environment
 * is read once, by `readGitLabContext`; everything after works from that context. It never
 * throws: every failure, whatever was thrown, becomes one `✖` line and exit code 1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VERSION, type Clock } from '../../shared/index.js';
import {
  type CiPlatform,
  CiVariableError,
  type CoreApi,
  type Env,
  runCiJob,
  type TextSink,
  writeOutputLines,
  servicesOutput,
} from '../../shared/ci/index.js';
import { gitlabApi } from './gitlab-api.js';
import { readGitLabContext, type GitLabJob } from './gitlab-context.js';

export type { CoreApi };
export { DEFAULT_DOTENV_PATH } from './gitlab-context.js';

export const USER_AGENT = `codesphere-deploy-gitlab/${VERSION}`;

export interface RunDeps {
  core: CoreApi;
  stdout: TextSink;
  stderr: TextSink;
  /** The job's working directory (CI_PROJECT_DIR when GitLab starts the script). */
  cwd: string;
  /** Time for the run: pauses between retries and the job's budget (the core's Clock port). */
  clock: Clock;
}

export async function run(env: Env, deps: RunDeps): Promise<number> {
  const dotenvFile = (job: GitLabJob) => path.resolve(deps.cwd, job.dotenvPath);
  const gitlab: CiPlatform<GitLabJob> = {
    core: deps.core,
    userAgent: USER_AGENT,
    words: { changeRequest: 'merge request', prefix: '!', place: (iid) => `!${iid}`, note: 'note' },
    // GitLab renders an HTML comment invisibly.
    noteStyle: 'html-comment',
    sections: 'gitlab',
    // The core's names for what GitLab supplies, for error messages in the user's terms.
    fields: {
      repository: 'CI_PROJECT_PATH',
      gitUrl: 'CI_PROJECT_URL',
      branch: 'CI_COMMIT_REF_NAME',
      commit: 'CI_COMMIT_SHA',
      changeNumber: 'CI_MERGE_REQUEST_IID',
    },
    api: (job, deadline) =>
      job.accessToken && job.apiV4Url
        ? gitlabApi(
            { apiV4Url: job.apiV4Url, projectRef: job.projectRef, token: job.accessToken },
            { sleep: (ms: number) => deps.clock.sleep(ms), deadline },
          )
        : undefined,
    apiMissing: () =>
      new CiVariableError(
        'CI_API_V4_URL',
        'ACTION prune needs the GitLab API: CI_API_V4_URL is not set (GitLab sets it in every job since 11.7).',
      ),
    outputFiles: (job) =>
      job.action === 'deploy'
        ? [{ variable: 'DOTENV_PATH', path: dotenvFile(job), createsFolders: true }]
        : [],
    writeOutputs: async (job, outcome, reporter) => {
      if (outcome.kind !== 'deployed') return;
      const { result } = outcome;
      // The dotenv report (`artifacts: reports: dotenv`): the environment URL and the workspace, for later jobs.
      const file = dotenvFile(job);
      const report = {
        DYNAMIC_ENVIRONMENT_URL: result.url,
        CODESPHERE_URL: result.url,
        CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
        CODESPHERE_WORKSPACE_NAME: result.name,
        CODESPHERE_VPN_CONFIG: result.vpnConfig ?? '',
        ...(result.healthCheck ? { CODESPHERE_HEALTH_CHECK: 'ok' } : {}),
        ...(result.services ? { CODESPHERE_SERVICES: servicesOutput(result) ?? '' } : {}),
      };
      // Never redacted (GitLab reads the URL from here); a value holding a secret is left out instead.
      await writeOutputLines(report, reporter, 'the dotenv report', async (text) => {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, text, 'utf8');
      });
      reporter.debug(`dotenv report written to ${file}`);
    },
  };
  return runCiJob(readGitLabContext(env), gitlab, {
    stdout: deps.stdout,
    stderr: deps.stderr,
    clock: deps.clock,
  });
}
