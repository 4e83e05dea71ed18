/**
 * The Bitbucket pipe's entry: `BITBUCKET_*` and the pipe's variables in, one core call, pipe-style
 * output out (phases, the URL, a final `✔` or `✖` line), `CODESPHERE_URL` and
 * `CODESPHERE_WORKSPACE_ID` appended to `$BITBUCKET_PIPELINES_VARIABLES_PATH` for
 * `output-variables`, and one PR comment when ACCESS_TOKEN is given.
 *
 * `run` takes the environment and its collaborators as arguments, so tests call it with literals
 * and fakes; `index.ts` passes `process.env` and the real core. It never throws: every failure,
 * whatever was thrown, becomes one `✖` line and exit code 1.
 */
import { appendFile } from 'node:fs/promises';
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
  urlCredentials,
  withheldWarning,
} from '../../shared/ci/index.js';
import { BitbucketApi, NOTE_STYLE } from './bitbucket-api.js';
import { BITBUCKET_SECRET_VARIABLES, readBitbucketContext } from './bitbucket-context.js';

export type { CoreApi };

export const USER_AGENT = `codesphere-deploy-bitbucket/${VERSION}`;

/** Variables only the pipe reads, beyond the common ones (shared/ci/variables.ts); pipe.yml lists both. */
export const PIPE_VARIABLES = ['ACCESS_TOKEN_USERNAME'] as const;

export interface RunDeps {
  core: CoreApi;
  stdout: TextSink;
  stderr: TextSink;
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The core's names for what Bitbucket supplies, for error messages in the user's terms. */
const BITBUCKET_FIELDS = {
  repository: 'BITBUCKET_REPO_FULL_NAME',
  gitUrl: 'BITBUCKET_GIT_HTTP_ORIGIN',
  branch: 'BITBUCKET_BRANCH',
  commit: 'BITBUCKET_COMMIT',
  changeNumber: 'BITBUCKET_PR_ID',
} as const;

export async function run(env: Env, deps: RunDeps): Promise<number> {
  const reporter = new ConsoleReporter({
    stdout: deps.stdout,
    // Pipes write everything to one log; keeping one stream keeps its order.
    stderr: deps.stdout,
    sections: 'headers',
    color: readVariable(env, 'NO_COLOR') === undefined,
    // The one boolean rule; a malformed DEBUG is off here and reported by readCiVariables.
    debug: parseBoolean(env.DEBUG) === true,
  });
  return runCiJob(env, reporter, {
    core: deps.core,
    userAgent: USER_AGENT,
    ownSecrets: [
      ...platformSecrets(env, BITBUCKET_SECRET_VARIABLES),
      ...urlCredentials(readVariable(env, 'BITBUCKET_GIT_HTTP_ORIGIN')),
    ],
    fields: BITBUCKET_FIELDS,
    readJob: (settings, deadline): CiJob => {
      const context = readBitbucketContext(env);
      const api = settings.accessToken
        ? new BitbucketApi(
            {
              apiUrl: context.apiUrl,
              workspace: context.workspace,
              repoSlug: context.repoSlug,
              token: settings.accessToken,
              username: readVariable(env, 'ACCESS_TOKEN_USERNAME')?.trim(),
            },
            { sleep: deps.sleep, deadline },
          )
        : undefined;
      const input: JobInput = {
        ...settings.input,
        platform: 'bitbucket',
        repository: context.fullName,
        gitUrl: context.gitUrl,
        isPrivateRepo: context.isPrivateRepo,
        // Tag pipelines have no branch; the core says so if the job needs one.
        branch: context.branch ?? '',
        commit: context.commit,
        changeNumber: context.pullRequestId,
      };
      reporter.debug(
        `repository ${context.fullName}, branch ${context.branch ?? '(none)'}, ${
          context.pullRequestId === undefined ? 'no pull request' : `PR #${context.pullRequestId}`
        }, job ${settings.action}`,
      );
      const id = context.pullRequestId;
      return {
        action: settings.action,
        input,
        note:
          id !== undefined && api
            ? {
                noun: 'comment',
                place: `PR #${id}`,
                style: NOTE_STYLE,
                commit: context.commit,
                jobUrl: context.pipelineUrl,
                order: context.runOrder,
                store: api.pullRequestComments(id),
                clock: { sleep: deps.sleep, now: deps.now ?? Date.now },
              }
            : undefined,
        writeOutputs: (result) => writeOutputVariables(result, env, reporter),
        outputFiles: [
          {
            variable: 'BITBUCKET_PIPELINES_VARIABLES_PATH',
            path: readVariable(env, 'BITBUCKET_PIPELINES_VARIABLES_PATH')?.trim(),
          },
        ],
        changeRequests: api
          ? {
              state: (number) => api.pullRequestState(number),
              branchExists: (name) => api.branchExists(name),
            }
          : undefined,
        openChangeRequests: () => {
          // readCiVariables already refused prune without ACCESS_TOKEN; this only narrows the type.
          if (!api)
            throw new CiVariableError(
              'ACCESS_TOKEN',
              'missing; prune needs it to list the open pull requests',
            );
          return {
            noun: 'pull request',
            prefix: '#',
            repository: context.fullName,
            list: () => api.listOpenPullRequestIds(),
          };
        },
      };
    },
  });
}

/** The URL in the log, and `NAME=value` lines Bitbucket reads after the step for `output-variables`. */
async function writeOutputVariables(
  result: DeployResult,
  env: Env,
  reporter: ConsoleReporter,
): Promise<void> {
  reporter.info(`Preview URL: ${result.url}`);
  const variablesPath = readVariable(env, 'BITBUCKET_PIPELINES_VARIABLES_PATH')?.trim();
  if (variablesPath) {
    // Never redacted (later steps read these); a value holding a secret is left out instead.
    const { written, withheld } = secretFreeOutputs(
      {
        CODESPHERE_URL: result.url,
        CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
        ...(result.healthCheck ? { CODESPHERE_HEALTH_CHECK: result.healthCheck.ok ? 'ok' : 'failed' } : {}),
      },
      (value) => reporter.holdsSecret(value),
    );
    if (withheld.length > 0) reporter.warning(withheldWarning(withheld, 'the output variables'));
    await appendFile(variablesPath, formatOutputLines(written), 'utf8');
    reporter.debug(`output variables appended to ${variablesPath}`);
  } else {
    // Bitbucket sets it only for steps that declare `output-variables`; without it the values
    // would vanish silently and a later step would read empty variables.
    reporter.warning(
      'BITBUCKET_PIPELINES_VARIABLES_PATH is not set, so CODESPHERE_URL and CODESPHERE_WORKSPACE_ID ' +
        "are not passed on: list them under the step's output-variables to use them in later steps.",
    );
  }
}
