/**
 * The Bitbucket pipe's entry: `BITBUCKET_*` and the pipe's variables in, one core call, pipe-style
 * output out (phases, the URL, a final `✔` or `✖` line), `CODESPHERE_URL` and
 * `CODESPHERE_WORKSPACE_ID` appended to `$BITBUCKET_PIPELINES_VARIABLES_PATH` for
 * `output-variables`, and one PR comment when ACCESS_TOKEN is given.
 *
 * `run` takes the environment and its collaborators as arguments, so tests call it with literals
 * and fakes; `index.ts` passes `process.env` and the real core. The environment is read once, by
 * `readBitbucketContext`. It never throws: every failure, whatever was thrown, becomes one `✖`
 * line and exit code 1.
 */
import { appendFile } from 'node:fs/promises';
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
import { bitbucketApi } from './bitbucket-api.js';
import { readBitbucketContext, type BitbucketJob } from './bitbucket-context.js';

export type { CoreApi };

export const USER_AGENT = `codesphere-deploy-bitbucket/${VERSION}`;

/** Variables only the pipe reads, beyond the common ones (shared/ci/variables.ts); pipe.yml lists both. */
export const PIPE_VARIABLES = ['ACCESS_TOKEN_USERNAME'] as const;

export interface RunDeps {
  core: CoreApi;
  stdout: TextSink;
  stderr: TextSink;
  /** Time for the run: pauses between retries and the job's budget (the core's Clock port). */
  clock: Clock;
}

const bitbucket = (deps: RunDeps): CiPlatform<BitbucketJob> => ({
  core: deps.core,
  userAgent: USER_AGENT,
  words: { changeRequest: 'pull request', prefix: '#', place: (id) => `PR #${id}`, note: 'comment' },
  // Bitbucket's Markdown shows an HTML comment; a link-reference definition is invisible.
  noteStyle: 'link-reference',
  sections: 'headers',
  // The core's names for what Bitbucket supplies, for error messages in the user's terms.
  fields: {
    repository: 'BITBUCKET_REPO_FULL_NAME',
    gitUrl: 'BITBUCKET_GIT_HTTP_ORIGIN',
    branch: 'BITBUCKET_BRANCH',
    commit: 'BITBUCKET_COMMIT',
    changeNumber: 'BITBUCKET_PR_ID',
  },
  api: (job, deadline) =>
    job.accessToken
      ? bitbucketApi(
          {
            apiUrl: job.apiUrl,
            workspace: job.workspace,
            repoSlug: job.repoSlug,
            token: job.accessToken,
            username: job.accessTokenUsername,
          },
          { sleep: (ms: number) => deps.clock.sleep(ms), deadline },
        )
      : undefined,
  // readCiVariables already refused prune without ACCESS_TOKEN; this only keeps the promise.
  apiMissing: () =>
    new CiVariableError('ACCESS_TOKEN', 'missing; prune needs it to list the open pull requests'),
  outputFiles: (job) =>
    job.action === 'deploy'
      ? [{ variable: 'BITBUCKET_PIPELINES_VARIABLES_PATH', path: job.variablesPath }]
      : [],
  writeOutputs: async (job, outcome, reporter) => {
    if (outcome.kind !== 'deployed') return;
    const { result } = outcome;
    // The URL in the log, and `NAME=value` lines Bitbucket reads after the step for `output-variables`.
    reporter.info(`Preview URL: ${result.url}`);
    if (job.variablesPath) {
      // Never redacted (later steps read these); a value holding a secret is left out instead.
      const file = job.variablesPath;
      await writeOutputLines(
        {
          CODESPHERE_URL: result.url,
          CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
          ...(result.healthCheck ? { CODESPHERE_HEALTH_CHECK: 'ok' } : {}),
          ...(result.services ? { CODESPHERE_SERVICES: servicesOutput(result) ?? '' } : {}),
        },
        reporter,
        'the output variables',
        (text) => appendFile(file, text, 'utf8'),
      );
      reporter.debug(`output variables appended to ${job.variablesPath}`);
    } else {
      // Bitbucket sets it only for steps that declare `output-variables`; without it the values
      // would vanish silently and a later step would read empty variables.
      reporter.warning(
        'BITBUCKET_PIPELINES_VARIABLES_PATH is not set, so CODESPHERE_URL and CODESPHERE_WORKSPACE_ID ' +
          "are not passed on: list them under the step's output-variables to use them in later steps.",
      );
    }
  },
});

export async function run(env: Env, deps: RunDeps): Promise<number> {
  return runCiJob(readBitbucketContext(env), bitbucket(deps), {
    stdout: deps.stdout,
    // Pipes write everything to one log; keeping one stream keeps its order.
    stderr: deps.stdout,
    clock: deps.clock,
  });
}
