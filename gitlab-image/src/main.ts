/**
 * The GitLab CI entry: GitLab's predefined variables and the job's variables in, one core call,
 * GitLab features out (a dotenv report for the environment URL, one MR note, a clear last line).
 *
 * `run` takes the environment and its collaborators as arguments (danger-js style), so tests call
 * it with literals and fakes; `index.ts` passes `process.env` and the real core. It never throws:
 * every failure, whatever was thrown, becomes one `✖` line and exit code 1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DeployResult, type JobInput, parseBoolean, VERSION } from '../../shared/index.js';
import {
  type CiJob,
  CiVariableError,
  ConsoleReporter,
  type CoreApi,
  type Env,
  formatOutputLines,
  platformSecrets,
  readVariable,
  runCiJob,
  secretFreeOutputs,
  type TextSink,
  withheldWarning,
} from '../../shared/ci/index.js';
import { GitLabApi, NOTE_STYLE } from './gitlab-api.js';
import {
  GITLAB_SECRET_VARIABLES,
  gitlabDerivedSecrets,
  readGitLabContext,
  type GitLabContext,
} from './gitlab-context.js';

export type { CoreApi };

export const USER_AGENT = `codesphere-deploy-gitlab/${VERSION}`;

export interface RunDeps {
  core: CoreApi;
  stdout: TextSink;
  stderr: TextSink;
  /** The job's working directory (CI_PROJECT_DIR when GitLab starts the script). */
  cwd: string;
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The core's names for what GitLab supplies, for error messages in the user's terms. */
const GITLAB_FIELDS = {
  repository: 'CI_PROJECT_PATH',
  gitUrl: 'CI_PROJECT_URL',
  branch: 'CI_COMMIT_REF_NAME',
  commit: 'CI_COMMIT_SHA',
  changeNumber: 'CI_MERGE_REQUEST_IID',
} as const;

/** Where the dotenv report goes unless DOTENV_PATH says otherwise; the README's `artifacts:` names it. */
export const DEFAULT_DOTENV_PATH = 'deploy.env';

/** DEBUG by the one boolean rule; a malformed value is off here and reported by readCiVariables. */
function looseFlag(value: string | undefined): boolean {
  return parseBoolean(value) === true;
}

export async function run(env: Env, deps: RunDeps): Promise<number> {
  const reporter = new ConsoleReporter({
    stdout: deps.stdout,
    stderr: deps.stderr,
    sections: 'gitlab',
    color: readVariable(env, 'NO_COLOR') === undefined,
    // Read leniently here so a malformed DEBUG still gets its own error message below.
    debug: looseFlag(env.DEBUG),
    now: deps.now,
  });
  return runCiJob(env, reporter, {
    core: deps.core,
    userAgent: USER_AGENT,
    // Including the job token embedded in CI_REPOSITORY_URL, which GitLab itself does not mask in that form.
    ownSecrets: [...platformSecrets(env, GITLAB_SECRET_VARIABLES), ...gitlabDerivedSecrets(env)],
    fields: GITLAB_FIELDS,
    readJob: (settings, deadline): CiJob => {
      const context = readGitLabContext(env);
      const action = jobKind(env, settings.action, context);
      const api =
        settings.accessToken && context.apiV4Url
          ? new GitLabApi(
              { apiV4Url: context.apiV4Url, projectRef: context.projectRef, token: settings.accessToken },
              { sleep: deps.sleep, deadline },
            )
          : undefined;
      const input: JobInput = {
        ...settings.input,
        platform: 'gitlab',
        repository: context.projectPath,
        gitUrl: context.gitUrl,
        isPrivateRepo: context.isPrivateRepo,
        branch: context.branch,
        commit: context.commit,
        changeNumber: context.mergeRequestIid,
      };
      reporter.debug(
        `project ${context.projectPath}, branch ${context.branch}, ${
          context.mergeRequestIid === undefined ? 'no merge request' : `MR !${context.mergeRequestIid}`
        }, job ${action}`,
      );
      const iid = context.mergeRequestIid;
      return {
        action,
        input,
        note:
          iid !== undefined && api
            ? {
                noun: 'note',
                place: `!${iid}`,
                style: NOTE_STYLE,
                commit: context.commit,
                jobUrl: context.jobUrl,
                order: context.runOrder,
                store: api.mergeRequestNotes(iid),
                clock: { sleep: deps.sleep, now: deps.now ?? Date.now },
              }
            : undefined,
        writeOutputs: (result) => writeDotenvReport(result, env, deps.cwd, reporter),
        outputFiles: [{ variable: 'DOTENV_PATH', path: dotenvPath(env, deps.cwd), createsFolders: true }],
        changeRequests: api
          ? {
              state: (number) => api.mergeRequestState(number),
              branchExists: (name) => api.branchExists(name),
            }
          : undefined,
        openChangeRequests: () => {
          if (!api) {
            throw new CiVariableError(
              'CI_API_V4_URL',
              'ACTION prune needs the GitLab API: CI_API_V4_URL is not set (GitLab sets it in every job since 11.7).',
            );
          }
          return {
            noun: 'merge request',
            prefix: '!',
            repository: context.projectPath,
            list: () => api.listOpenMergeRequestIids(),
          };
        },
      };
    },
  });
}

/**
 * ACTION says what to do; a stop job (`environment: action: stop`) means teardown without it. A stop
 * job with ACTION set to something else is a contradiction we refuse rather than guess.
 */
function jobKind(env: Env, action: 'deploy' | 'teardown' | 'prune', context: GitLabContext): typeof action {
  if (!context.isStopJob) return action;
  if (readVariable(env, 'ACTION') !== undefined && action !== 'teardown') {
    throw new CiVariableError(
      'ACTION',
      `ACTION is "${action}" but this is an environment stop job (CI_ENVIRONMENT_ACTION=stop), which tears the preview down. Remove ACTION from the stop job or set it to teardown.`,
    );
  }
  return 'teardown';
}

/** The dotenv report (`artifacts: reports: dotenv`): the environment URL and the workspace, for later jobs. */
async function writeDotenvReport(
  result: DeployResult,
  env: Env,
  cwd: string,
  reporter: ConsoleReporter,
): Promise<void> {
  const file = dotenvPath(env, cwd);
  const report = {
    DYNAMIC_ENVIRONMENT_URL: result.url,
    CODESPHERE_URL: result.url,
    CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
    CODESPHERE_WORKSPACE_NAME: result.name,
    CODESPHERE_VPN_CONFIG: result.vpnConfig ?? '',
    ...(result.healthCheck ? { CODESPHERE_HEALTH_CHECK: result.healthCheck.ok ? 'ok' : 'failed' } : {}),
  };
  // Never redacted (GitLab reads the URL from here); a value holding a secret is left out instead.
  const { written, withheld } = secretFreeOutputs(report, (value) => reporter.holdsSecret(value));
  if (withheld.length > 0) reporter.warning(withheldWarning(withheld, 'the dotenv report'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, formatOutputLines(written), 'utf8');
  reporter.debug(`dotenv report written to ${file}`);
}

/** Where the dotenv report goes: DOTENV_PATH (relative to the job's folder), or deploy.env. */
function dotenvPath(env: Env, cwd: string): string {
  return path.resolve(cwd, readVariable(env, 'DOTENV_PATH')?.trim() ?? DEFAULT_DOTENV_PATH);
}
