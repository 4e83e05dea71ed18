/**
 * The run's Octokit: made on the first GitHub call (@actions/github is loaded only then, off the
 * start-up path, and never before the event payload was read: its module parses GITHUB_EVENT_PATH
 * when evaluated), every request bounded by GITHUB_TIMEOUT_MS and the job's deadline.
 */
// Type only: importing @actions/github's value runs its module-level context.
import type { getOctokit } from '@actions/github';
import { errorMessage, PlatformApiError } from '../../shared/index.js';
import { attemptTimeoutMs, BUDGET_NAME, type Deadline, seconds } from '../../shared/ci/index.js';

export type Octokit = ReturnType<typeof getOctokit>;

/** The run's Octokit, made once on first use. */
export type LazyOctokit = () => Promise<Octokit>;

/** Per-request timeout of GitHub API calls (ms), cut further to what remains of the job's budget. */
export const GITHUB_TIMEOUT_MS = 10_000;

/** An Octokit for `token` on `baseUrl`, made on the first call of the returned function. */
export function lazyOctokit(
  token: string,
  baseUrl: string,
  userAgent: string,
  deadline: Deadline,
): LazyOctokit {
  let made: Promise<Octokit> | undefined;
  return () =>
    (made ??= import('@actions/github').then(({ getOctokit }) => {
      const octokit = getOctokit(token, { baseUrl, userAgent });
      boundRequests(octokit, deadline);
      return octokit;
    }));
}

/**
 * Bounds every request (pagination included) through Octokit's request hook, so the toolkit's
 * proxy-aware fetch stays in place. A request that would start with no budget left fails at once.
 */
export function boundRequests(octokit: Octokit, deadline: Deadline): void {
  octokit.hook.wrap('request', async (request, options) => {
    const timeout = attemptTimeoutMs(GITHUB_TIMEOUT_MS, deadline);
    if (timeout <= 0) throw new Error(`not sent: the job's time budget (${BUDGET_NAME}) is used up`);
    const signal = AbortSignal.timeout(timeout);
    // The toolkit's fetch (undici with @actions/http-client's dispatcher) may leave its promise
    // pending after an abort before the response headers: the race settles the call regardless.
    const aborted = new Promise<never>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error(`no answer within ${seconds(timeout)}`)), {
        once: true,
      });
    });
    try {
      return await Promise.race([request({ ...options, request: { ...options.request, signal } }), aborted]);
    } catch (error) {
      if (signal.aborted) throw new Error(`no answer within ${seconds(timeout)}`, { cause: error });
      throw error;
    }
  });
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number'
    ? error.status
    : undefined;
}

/** A GitHub call named `operation`, made with the run's Octokit. */
export type GitHubCall = <T>(operation: string, request: (octokit: Octokit) => Promise<T>) => Promise<T>;

/**
 * Calls that need `permission` (how to grant it, for the hint). A failure becomes a PlatformApiError
 * with the status and GitHub's first message line, never the request (it carries the Authorization
 * header), and on 403/404 the permission the workflow may lack.
 */
export function gitHubCalls(octokitOf: LazyOctokit, permission: string): GitHubCall {
  return async (operation, request) => {
    try {
      return await request(await octokitOf());
    } catch (error) {
      const status = statusOf(error);
      const firstLine = errorMessage(error).split('\n')[0] ?? '';
      const hint = status === 403 || status === 404 ? ` The token may lack permission: ${permission}.` : '';
      throw new PlatformApiError(
        operation,
        status,
        `GitHub refused to ${operation} (${status === undefined ? '' : `HTTP ${status}: `}${firstLine}).${hint}`,
        { cause: error },
      );
    }
  };
}
