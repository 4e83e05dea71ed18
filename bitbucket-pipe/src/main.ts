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
import type { DeployResult, JobInput, PruneResult, TeardownResult } from '../../shared/contract.js';
import { renderNote, type NoteState } from '../../shared/ci-note.js';
import { formatOutputLines } from '../../shared/ci-outputs.js';
import {
  CiVariableError,
  inVariableTerms,
  platformSecrets,
  readCiVariables,
  readVariable,
  SECRET_VARIABLES,
  urlCredentials,
  type Env,
} from '../../shared/ci-variables.js';
import { ConsoleReporter, type TextSink } from '../../shared/console-reporter.js';
import { describeError } from '../../shared/describe-error.js';
import type { Reporter } from '../../shared/reporter.js';
import { secretsOf } from '../../shared/request.js';
import { BitbucketApi, NOTE_STYLE } from './bitbucket-api.js';
import {
  BITBUCKET_SECRET_VARIABLES,
  readBitbucketContext,
  type BitbucketContext,
} from './bitbucket-context.js';

export const USER_AGENT = 'codesphere-deploy-bitbucket/0.1.0';

/** Variables only the pipe reads, beyond the common ones (shared/ci-variables.ts); pipe.yml lists both. */
export const PIPE_VARIABLES = ['ACCESS_TOKEN_USERNAME'] as const;

/** What the core exports (shared/index.ts); a parameter so tests can pass a fake. */
export interface CoreApi {
  deploy(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<DeployResult>;
  teardown(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<TeardownResult>;
  prune(input: JobInput, reporter: Reporter, deps?: { userAgent?: string }): Promise<PruneResult>;
}

export interface RunDeps {
  core: CoreApi;
  stdout: TextSink;
  stderr: TextSink;
  sleep: (ms: number) => Promise<void>;
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
    debug: /^(true|1|yes|on)$/i.test(env.DEBUG?.trim() ?? ''),
  });
  for (const secret of [
    ...platformSecrets(env, SECRET_VARIABLES),
    ...platformSecrets(env, BITBUCKET_SECRET_VARIABLES),
    ...urlCredentials(readVariable(env, 'BITBUCKET_GIT_HTTP_ORIGIN')),
  ]) {
    reporter.mask(secret);
  }

  let context: BitbucketContext | undefined;
  let api: BitbucketApi | undefined;
  try {
    const settings = readCiVariables(env);
    for (const secret of [...settings.secrets, ...secretsOf(settings.input)]) reporter.mask(secret);
    context = readBitbucketContext(env);
    if (settings.accessToken) {
      api = new BitbucketApi(
        {
          apiUrl: context.apiUrl,
          workspace: context.workspace,
          repoSlug: context.repoSlug,
          token: settings.accessToken,
          username: readVariable(env, 'ACCESS_TOKEN_USERNAME')?.trim(),
        },
        { sleep: deps.sleep },
      );
    }
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

    switch (settings.action) {
      case 'deploy':
        await deploy(input, context, api, reporter, deps, env);
        break;
      case 'teardown':
        await teardown(input, context, api, reporter, deps);
        break;
      case 'prune':
        await prune(input, context, api, reporter, deps);
        break;
    }
    return 0;
  } catch (error) {
    const message = describeError(inVariableTerms(error, BITBUCKET_FIELDS));
    if (context?.pullRequestId !== undefined && api && !(error instanceof CiVariableError)) {
      await publishComment(
        api,
        context.pullRequestId,
        { kind: 'failed', message, commit: context.commit, jobUrl: context.pipelineUrl },
        reporter,
      );
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return 1;
  }
}

async function deploy(
  input: JobInput,
  context: BitbucketContext,
  api: BitbucketApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
  env: Env,
): Promise<void> {
  const result = await deps.core.deploy(input, reporter, { userAgent: USER_AGENT });
  reporter.info(`Preview URL: ${result.url}`);

  // Bitbucket reads NAME=value lines from this file after the step for `output-variables`.
  const variablesPath = readVariable(env, 'BITBUCKET_PIPELINES_VARIABLES_PATH')?.trim();
  if (variablesPath) {
    const lines = formatOutputLines({
      CODESPHERE_URL: result.url,
      CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
    });
    await appendFile(variablesPath, reporter.redact(lines), 'utf8');
    reporter.debug(`output variables appended to ${variablesPath}`);
  }

  if (context.pullRequestId !== undefined && api) {
    await publishComment(
      api,
      context.pullRequestId,
      { kind: 'deployed', result, commit: context.commit, jobUrl: context.pipelineUrl },
      reporter,
    );
  }
  const vpn = result.vpnConfig ? ` on VPN config "${result.vpnConfig}"` : '';
  reporter.success(
    `Preview ${result.action} (workspace ${result.name}, id ${result.workspaceId})${vpn}: ${result.url}`,
  );
}

async function teardown(
  input: JobInput,
  context: BitbucketContext,
  api: BitbucketApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
): Promise<void> {
  const result = await deps.core.teardown(input, reporter, { userAgent: USER_AGENT });
  if (context.pullRequestId !== undefined && api) {
    await publishComment(
      api,
      context.pullRequestId,
      { kind: 'deleted', result, jobUrl: context.pipelineUrl },
      reporter,
    );
  }
  reporter.success(
    result.deleted
      ? `Preview deleted: workspace ${result.name}${result.workspaceId === undefined ? '' : ` (id ${result.workspaceId})`}`
      : `Nothing to delete: no workspace ${result.name}`,
  );
}

async function prune(
  input: JobInput,
  context: BitbucketContext,
  api: BitbucketApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
): Promise<void> {
  // readCiVariables already refused prune without ACCESS_TOKEN; this only narrows the type.
  if (!api)
    throw new CiVariableError('ACCESS_TOKEN', 'missing; prune needs it to list the open pull requests');
  const open = await reporter.group('Open pull requests', async () => {
    const ids = await api.listOpenPullRequestIds();
    reporter.info(
      `${ids.length} open pull request(s) in ${context.fullName}${ids.length ? `: #${ids.join(', #')}` : ''}`,
    );
    return ids;
  });
  const result = await deps.core.prune(
    { ...input, changeNumber: undefined, openChangeNumbers: open },
    reporter,
    {
      userAgent: USER_AGENT,
    },
  );
  for (const entry of result.pruned) {
    reporter.info(
      `${result.dryRun ? 'would delete' : 'deleted'} ${entry.name} (id ${entry.workspaceId}): ${entry.reason}`,
    );
  }
  reporter.success(
    `${result.dryRun ? 'Dry run: would prune' : 'Pruned'} ${result.pruned.length} preview(s); ${result.kept.length} kept`,
  );
}

/** PR comments are a convenience: a failure to write one is a warning, never a failed pipe. */
async function publishComment(
  api: BitbucketApi,
  pullRequestId: number,
  state: NoteState,
  reporter: ConsoleReporter,
): Promise<void> {
  try {
    const comment = await api.upsertPreviewComment(
      pullRequestId,
      reporter.redact(renderNote(state, NOTE_STYLE)),
    );
    reporter.debug(
      `${comment.created ? 'created' : 'updated'} comment ${comment.id} on PR #${pullRequestId}`,
    );
  } catch (error) {
    reporter.warning(`Could not write the preview comment on PR #${pullRequestId}: ${describeError(error)}`);
  }
}
