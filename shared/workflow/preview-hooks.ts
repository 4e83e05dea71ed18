import { createHash, randomUUID } from 'node:crypto';

import type { CodesphereApi } from '../codesphere/api.js';
import type { Workspace } from '../codesphere/schemas.js';
import { errorMessage, HookFailedError, WorkspaceGoneError } from '../errors.js';
import type { Platform } from '../request/job-input.js';
import type { Reporter } from '../reporter.js';
import type { CoreDeps } from './deps.js';
import { notFoundAsWorkspaceGone } from './pipeline.js';

/**
 * The preview's own setup and cleanup, run inside it through `POST /workspaces/{id}/execute`
 * (docs/private-data.md), like Heroku's `postdeploy` and `pr-predestroy`:
 * - `onCreate` once per workspace, after its first successful run start. Whether it ran is kept
 *   in the workspace (ON_CREATE_MARKER), so redeploys skip it and overlapping runs run it at
 *   most once: the Public API has no compare-and-set, so a run claims the marker with a token,
 *   waits CLAIM_SETTLE_MS and reads it back; only the run whose token stayed (the last writer)
 *   runs the hook, the others wait for its outcome. Two claims more than CLAIM_SETTLE_MS apart
 *   see each other's. A failure removes the claim, so the next deploy tries again.
 * - `onDelete` right before a deletion (teardown, prune, TTL, a zero-downtime switch retiring a
 *   workspace). It never blocks the deletion: a failure, a timeout or an unreachable preview is a
 *   warning with the output's tail.
 * Both get CODESPHERE_PREVIEW_NAME, CODESPHERE_PREVIEW_KEY and CODESPHERE_PREVIEW_URL. The
 * command is sent as written; its output arrives when it ends (execute is not a stream) and is
 * logged bounded to OUTPUT_TAIL_LINES lines through the reporter, which masks secrets.
 */

/** The workspace variable that says whether onCreate ran (reserved: `env` may not set it). */
export const ON_CREATE_MARKER = 'CODESPHERE_DEPLOY_MANAGED_ON_CREATE';
/** How long a run waits after claiming before it reads the claim back. */
export const CLAIM_SETTLE_MS = 1_000;
/** A claim older than this belongs to a run that died: another run may take over. */
export const STALE_CLAIM_MS = 15 * 60_000;
/** Upper bound for onCreate (also bounded by the job's budget). */
export const ON_CREATE_TIMEOUT_MS = 10 * 60_000;
/** Upper bound for onDelete: cleanup must not hold a teardown for long. */
export const ON_DELETE_TIMEOUT_MS = 60_000;
/** Lines of hook output kept in the log and in errors. */
export const OUTPUT_TAIL_LINES = 40;
const WAIT_INTERVAL_MS = 1_000;

/**
 * A safe SQL and DNS identifier, stable per change request or branch: `pr_42` (GitHub), `mr_7`
 * (GitLab), `pr_9` (Bitbucket), `br_` + 10 lowercase letters derived from the branch name (a
 * SHA-256 digest, so any branch maps to the same letters on every run and platform).
 */
export function previewKey(
  platform: Platform,
  changeNumber: number | undefined,
  branch: string | undefined,
): string {
  if (changeNumber !== undefined) return `${platform === 'gitlab' ? 'mr' : 'pr'}_${changeNumber}`;
  const digest = createHash('sha256')
    .update(branch ?? '')
    .digest();
  let letters = '';
  for (let i = 0; i < 10; i++) letters += String.fromCharCode(97 + ((digest[i] ?? 0) % 26));
  return `br_${letters}`;
}

/** The hooks' environment (besides the workspace's own variables). */
export function hookEnv(
  previewName: string,
  key: string,
  workspace: Pick<Workspace, 'devDomain'>,
): Record<string, string> {
  return {
    CODESPHERE_PREVIEW_NAME: previewName,
    CODESPHERE_PREVIEW_KEY: key,
    CODESPHERE_PREVIEW_URL: workspace.devDomain ? `https://${workspace.devDomain}` : '',
  };
}

/** The last OUTPUT_TAIL_LINES lines of a hook's output. */
export function outputTail(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n');
  const kept = lines.slice(-OUTPUT_TAIL_LINES).join('\n');
  return lines.length > OUTPUT_TAIL_LINES
    ? `(… ${lines.length - OUTPUT_TAIL_LINES} earlier lines)\n${kept}`
    : kept;
}

type HookOutcome =
  | { kind: 'done'; output: string }
  | { kind: 'failed'; output: string; why: string }
  | { kind: 'error'; error: unknown };

/**
 * Runs `command` on one replica and waits at most `limitMs` for it (polling in short sleeps, so
 * no long timer outlives the call). A timeout is `failed`; a failed call is `error`, never thrown.
 */
async function runHook(
  client: CodesphereApi,
  clock: CoreDeps['clock'],
  workspaceId: number,
  command: string,
  env: Record<string, string>,
  limitMs: number,
): Promise<HookOutcome> {
  let settled: HookOutcome | undefined;
  notFoundAsWorkspaceGone(workspaceId, () => client.executeCommand(workspaceId, command, env)).then(
    (r) => {
      settled =
        r.error === ''
          ? { kind: 'done', output: r.output }
          : { kind: 'failed', output: r.output, why: r.error };
    },
    (error: unknown) => {
      settled = { kind: 'error', error };
    },
  );
  const end = clock.now() + limitMs;
  while (settled === undefined && clock.now() < end) await clock.sleep(Math.min(200, end - clock.now()));
  // A microtask turn: a call answered together with the last sleep is not a timeout.
  await Promise.resolve();
  return settled ?? { kind: 'failed', output: '', why: `no answer within ${Math.round(limitMs / 1000)} s` };
}

function logOutput(reporter: Reporter, hook: string, output: string): void {
  const tail = outputTail(output);
  if (tail !== '') for (const line of tail.split('\n')) reporter.info(`${hook} | ${line}`);
}

export interface OnCreateOptions {
  client: CodesphereApi;
  reporter: Reporter;
  deps: Pick<CoreDeps, 'clock'>;
  deadline: number;
  workspace: Workspace;
  command: string;
  /** The landscape service that runs it (`onCreateService`), undefined: the main one. */
  service: string | undefined;
  env: Record<string, string>;
}

/**
 * Runs onCreate unless it already succeeded on this workspace. Returns 'ran' or 'already-ran'.
 * Throws HookFailedError (output tail in the message) when it fails or times out; the claim is
 * removed first, so the next deploy runs it again.
 */
export async function runOnCreate(options: OnCreateOptions): Promise<'ran' | 'already-ran'> {
  const { client, reporter, deps, workspace } = options;
  const id = workspace.id;
  const token = randomUUID();
  const read = async () =>
    (await notFoundAsWorkspaceGone(id, () => client.listEnvVars(id))).find((v) => v.name === ON_CREATE_MARKER)
      ?.value;
  for (;;) {
    const marker = await read();
    if (marker?.startsWith('done')) {
      reporter.info(`onCreate already ran on workspace ${id} (${marker}): not run again.`);
      return 'already-ran';
    }
    const claimedAt = marker?.startsWith('claimed') ? Date.parse(marker.split(' ')[2] ?? '') : NaN;
    const fresh = !Number.isNaN(claimedAt) && deps.clock.now() - claimedAt < STALE_CLAIM_MS;
    if (fresh) {
      if (deps.clock.now() + WAIT_INTERVAL_MS > options.deadline)
        throw new HookFailedError(
          `onCreate: another run of this preview is running it on workspace ${id} and did not finish within this job's time budget.`,
          'onCreate',
          '',
        );
      reporter.debug('onCreate: another run of this preview is running it; waiting for its outcome.');
      await deps.clock.sleep(WAIT_INTERVAL_MS);
      continue;
    }
    const claim = `claimed ${token} ${new Date(deps.clock.now()).toISOString()}`;
    await notFoundAsWorkspaceGone(id, () =>
      client.setEnvVars(id, [{ name: ON_CREATE_MARKER, value: claim }]),
    );
    await deps.clock.sleep(CLAIM_SETTLE_MS);
    if ((await read()) === claim) break;
    // Another run claimed after us: its claim stands; wait for its outcome.
  }

  const limit = Math.min(ON_CREATE_TIMEOUT_MS, options.deadline - deps.clock.now());
  const env: Record<string, string> = {
    ...options.env,
    ...(options.service === undefined ? {} : { CODESPHERE_SERVER: options.service }),
    CODESPHERE_REPLICA: '0',
  };
  reporter.info(
    `onCreate: running inside workspace ${id}${options.service ? ` (service ${options.service})` : ''} with CODESPHERE_PREVIEW_KEY=${env.CODESPHERE_PREVIEW_KEY ?? ''}.`,
  );
  const outcome = await runHook(client, deps.clock, id, options.command, env, limit);
  if (outcome.kind === 'error') {
    if (outcome.error instanceof WorkspaceGoneError) throw outcome.error;
    await dropClaim(client, reporter, id);
    throw new HookFailedError(
      `onCreate could not run inside workspace ${id}: ${errorMessage(outcome.error)}; the next deploy runs it again.`,
      'onCreate',
      '',
    );
  }
  logOutput(reporter, 'onCreate', outcome.output);
  if (outcome.kind === 'failed') {
    await dropClaim(client, reporter, id);
    const tail = outputTail(outcome.output);
    throw new HookFailedError(
      `onCreate failed inside workspace ${id} (${outcome.why}); the next deploy runs it again. Output (last lines):\n${tail || '(no output)'}`,
      'onCreate',
      tail,
    );
  }
  await notFoundAsWorkspaceGone(id, () =>
    client.setEnvVars(id, [
      { name: ON_CREATE_MARKER, value: `done ${new Date(deps.clock.now()).toISOString()}` },
    ]),
  );
  reporter.info(`onCreate succeeded on workspace ${id}.`);
  return 'ran';
}

/** Removes this run's claim so the next deploy runs onCreate again (a failure here is a warning). */
async function dropClaim(client: CodesphereApi, reporter: Reporter, id: number): Promise<void> {
  try {
    await client.deleteEnvVars(id, [ON_CREATE_MARKER]);
  } catch (err: unknown) {
    reporter.warning(`onCreate: could not remove its claim on workspace ${id}: ${errorMessage(err)}`);
  }
}

/** What an onDelete needs: the command and how to name the preview. */
export interface OnDeleteHook {
  command: string;
  previewName: string;
  key: string;
}

/**
 * Runs onDelete inside `workspace` right before its deletion. Never throws: a failure, a timeout
 * (ON_DELETE_TIMEOUT_MS, at most what is left before `deadline`), a stopped or vanished workspace
 * is a warning with the output's tail, and the caller deletes anyway.
 */
export async function runOnDelete(
  client: CodesphereApi,
  reporter: Reporter,
  deps: Pick<CoreDeps, 'clock'>,
  deadline: number,
  workspace: Pick<Workspace, 'id' | 'name' | 'devDomain'>,
  hook: OnDeleteHook | undefined,
): Promise<void> {
  if (!hook) return;
  const limit = Math.max(1_000, Math.min(ON_DELETE_TIMEOUT_MS, deadline - deps.clock.now() - 5_000));
  reporter.info(
    `onDelete: running inside workspace "${workspace.name}" (id ${workspace.id}) before it is deleted.`,
  );
  try {
    const outcome = await runHook(
      client,
      deps.clock,
      workspace.id,
      hook.command,
      { ...hookEnv(hook.previewName, hook.key, workspace), CODESPHERE_REPLICA: '0' },
      limit,
    );
    if (outcome.kind === 'error') throw outcome.error;
    logOutput(reporter, 'onDelete', outcome.output);
    if (outcome.kind === 'failed') {
      const tail = outputTail(outcome.output);
      reporter.warning(
        `onDelete failed inside workspace ${workspace.id} (${outcome.why}); deleting it anyway. Output (last lines):\n${tail || '(no output)'}`,
      );
    } else reporter.info(`onDelete succeeded on workspace ${workspace.id}.`);
  } catch (err: unknown) {
    reporter.warning(
      `onDelete could not run inside workspace ${workspace.id} (${errorMessage(err)}); deleting it anyway.`,
    );
  }
}
