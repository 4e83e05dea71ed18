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
import type { DeployResult, JobInput, PruneResult, TeardownResult } from '../../shared/contract.js';
import {
  CiVariableError,
  inVariableTerms,
  platformSecrets,
  readCiVariables,
  readVariable,
  SECRET_VARIABLES,
  type Env,
} from '../../shared/ci-variables.js';
import { renderNote, type NoteState } from '../../shared/ci-note.js';
import { formatOutputLines } from '../../shared/ci-outputs.js';
import { ConsoleReporter, type TextSink } from '../../shared/console-reporter.js';
import { describeError } from '../../shared/describe-error.js';
import { secretsOf } from '../../shared/request.js';
import type { Reporter } from '../../shared/reporter.js';
import { GitLabApi, NOTE_STYLE } from './gitlab-api.js';
import {
  GITLAB_SECRET_VARIABLES,
  gitlabDerivedSecrets,
  readGitLabContext,
  type GitLabContext,
} from './gitlab-context.js';

export const USER_AGENT = 'codesphere-deploy-gitlab/0.1.0';

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

function looseFlag(value: string | undefined): boolean {
  return /^(true|1|yes|on)$/i.test(value?.trim() ?? '');
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
  // Before anything can fail or print: every secret the job was given, including the job token
  // embedded in CI_REPOSITORY_URL, which GitLab itself does not mask in that form.
  for (const secret of [
    ...platformSecrets(env, SECRET_VARIABLES),
    ...platformSecrets(env, GITLAB_SECRET_VARIABLES),
    ...gitlabDerivedSecrets(env),
  ]) {
    reporter.mask(secret);
  }

  let context: GitLabContext | undefined;
  let notes: GitLabApi | undefined;
  try {
    const settings = readCiVariables(env);
    for (const secret of [...settings.secrets, ...secretsOf(settings.input)]) reporter.mask(secret);
    context = readGitLabContext(env);

    const action = jobKind(env, settings.action, context);
    if (settings.accessToken && context.apiV4Url) {
      notes = new GitLabApi(
        { apiV4Url: context.apiV4Url, projectRef: context.projectRef, token: settings.accessToken },
        { sleep: deps.sleep },
      );
    }
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

    switch (action) {
      case 'deploy':
        await deploy(input, context, notes, reporter, deps, env);
        break;
      case 'teardown':
        await teardown(input, context, notes, reporter, deps);
        break;
      case 'prune':
        await prune(input, context, notes, reporter, deps);
        break;
    }
    return 0;
  } catch (error) {
    const message = describeError(inVariableTerms(error, GITLAB_FIELDS));
    if (context?.mergeRequestIid !== undefined && notes && !(error instanceof CiVariableError)) {
      await publishNote(
        notes,
        context.mergeRequestIid,
        { kind: 'failed', message, commit: context.commit, jobUrl: context.jobUrl },
        reporter,
      );
    }
    reporter.failure(message);
    if (error instanceof Error && error.stack) reporter.debug(error.stack);
    return 1;
  }
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

async function deploy(
  input: JobInput,
  context: GitLabContext,
  notes: GitLabApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
  env: Env,
): Promise<void> {
  const result = await deps.core.deploy(input, reporter, { userAgent: USER_AGENT });

  const dotenvPath = path.resolve(deps.cwd, readVariable(env, 'DOTENV_PATH')?.trim() ?? DEFAULT_DOTENV_PATH);
  const report = {
    DYNAMIC_ENVIRONMENT_URL: result.url,
    CODESPHERE_URL: result.url,
    CODESPHERE_WORKSPACE_ID: String(result.workspaceId),
    CODESPHERE_WORKSPACE_NAME: result.name,
    CODESPHERE_VPN_CONFIG: result.vpnConfig ?? '',
  };
  await mkdir(path.dirname(dotenvPath), { recursive: true });
  await writeFile(dotenvPath, reporter.redact(formatOutputLines(report)), 'utf8');
  reporter.debug(`dotenv report written to ${dotenvPath}`);

  if (context.mergeRequestIid !== undefined && notes) {
    await publishNote(
      notes,
      context.mergeRequestIid,
      { kind: 'deployed', result, commit: context.commit, jobUrl: context.jobUrl },
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
  context: GitLabContext,
  notes: GitLabApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
): Promise<void> {
  const result = await deps.core.teardown(input, reporter, { userAgent: USER_AGENT });
  if (context.mergeRequestIid !== undefined && notes) {
    await publishNote(
      notes,
      context.mergeRequestIid,
      { kind: 'deleted', result, jobUrl: context.jobUrl },
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
  context: GitLabContext,
  api: GitLabApi | undefined,
  reporter: ConsoleReporter,
  deps: RunDeps,
): Promise<void> {
  if (!api) {
    throw new CiVariableError(
      'CI_API_V4_URL',
      'ACTION prune needs the GitLab API: CI_API_V4_URL is not set (GitLab sets it in every job since 11.7).',
    );
  }
  const open = await reporter.group('Open merge requests', async () => {
    const iids = await api.listOpenMergeRequestIids();
    reporter.info(
      `${iids.length} open merge request(s) in ${context.projectPath}${iids.length ? `: !${iids.join(', !')}` : ''}`,
    );
    return iids;
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

/** MR notes are a convenience: a failure to write one is a warning, never a failed deploy. */
async function publishNote(
  api: GitLabApi,
  iid: number,
  state: NoteState,
  reporter: ConsoleReporter,
): Promise<void> {
  try {
    const note = await api.upsertPreviewNote(iid, reporter.redact(renderNote(state, NOTE_STYLE)));
    reporter.debug(`${note.created ? 'created' : 'updated'} note ${note.id} on !${iid}`);
  } catch (error) {
    reporter.warning(`Could not write the preview note on !${iid}: ${describeError(error)}`);
  }
}
