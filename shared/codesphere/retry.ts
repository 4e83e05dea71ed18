/**
 * The one retry policy and time budget of every HTTP client in this project: the Codesphere
 * client (codesphere/http.ts, axios), the GitLab and Bitbucket helper (ci/http.ts, fetch) and the
 * GitHub Action's Octokit (through `boundedFetch`). 429 on any call; network errors, 408 and 5xx
 * only on calls safe to repeat; jittered exponential backoff, never before Retry-After; and the
 * job's deadline bounds every request, wait and retry. Pure functions, so tests need no server.
 * Design: docs/design/retry-and-budget.md
 */
import { DeadlineExceededError } from '../errors.js';

/** Retry limits: attempts, backoff bounds (milliseconds). */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After above this is cut down to it (a server asking for minutes would stall CI). */
  retryAfterCapMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  retryAfterCapMs: 30_000,
};

/**
 * The job's deadline: an absolute time on the job's clock (`now`, milliseconds, the core's
 * `deps.now`), after which no request is sent and no wait begins.
 */
export interface Deadline {
  at: number;
  now(): number;
}

/** How messages name the budget: the GitHub input and the GitLab/Bitbucket variable. */
export const BUDGET_NAME = 'timeoutSeconds / TIMEOUT';

/** Milliseconds left before the deadline (never negative); Infinity without one. */
export function remainingMs(deadline: Deadline | undefined): number {
  return deadline === undefined ? Infinity : Math.max(0, deadline.at - deadline.now());
}

/**
 * The timeout of one request: the client's own per-request timeout, cut to the budget's
 * remainder. Returns 0 when nothing remains (the caller must not send).
 */
export function attemptTimeoutMs(perRequestMs: number, deadline: Deadline | undefined): number {
  return Math.min(perRequestMs, remainingMs(deadline));
}

/** What one attempt came back with, as far as the policy cares. */
export type AttemptOutcome =
  { kind: 'network' } | { kind: 'status'; status: number; retryAfter?: string | null | undefined };

/**
 * Whether the outcome is worth another attempt at all: 429 always; network errors, 408 and 5xx
 * only when the call is idempotent (the server may have acted on the first attempt).
 */
export function isRetryable(outcome: AttemptOutcome, idempotent: boolean): boolean {
  if (outcome.kind === 'network') return idempotent;
  if (outcome.status === 429) return true;
  return idempotent && (outcome.status === 408 || outcome.status >= 500);
}

/** Exponential backoff with jitter: uniformly in [50%, 100%] of base * 2^attempt, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds from `now`. */
export function parseRetryAfter(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  /** `budget`: a retry was due, but its wait (`wantedMs`) would not end before the deadline. */
  | { retry: false; reason: 'final' | 'exhausted' }
  | { retry: false; reason: 'budget'; wantedMs: number; remainingMs: number };

/**
 * The one retry decision. `attempt` counts from 0 (the first retry follows attempt 0). The wait is
 * the jittered backoff, raised to Retry-After (capped at `retryAfterCapMs`); a wait that would
 * reach the deadline is refused with reason `budget`, so the caller fails now with a clear
 * message instead of sleeping past the job's end.
 */
export function decideRetry(options: {
  outcome: AttemptOutcome;
  idempotent: boolean;
  attempt: number;
  policy?: RetryPolicy | undefined;
  deadline?: Deadline | undefined;
  random?: (() => number) | undefined;
  /** Wall-clock time for HTTP-date Retry-After values (Date.now by default). */
  wallNow?: number | undefined;
}): RetryDecision {
  const policy = options.policy ?? DEFAULT_RETRY;
  if (!isRetryable(options.outcome, options.idempotent)) return { retry: false, reason: 'final' };
  if (options.attempt >= policy.maxRetries) return { retry: false, reason: 'exhausted' };
  let delayMs = backoffMs(options.attempt, policy, options.random);
  if (options.outcome.kind === 'status') {
    const asked = parseRetryAfter(options.outcome.retryAfter, options.wallNow ?? Date.now());
    if (asked !== undefined) delayMs = Math.max(delayMs, Math.min(asked, policy.retryAfterCapMs));
    // The server's own figure decides whether waiting can help, even above the cap: a server
    // asking for an hour will not answer a job that has minutes left.
    const wanted = asked === undefined ? delayMs : Math.max(delayMs, asked);
    const left = remainingMs(options.deadline);
    if (wanted >= left) return { retry: false, reason: 'budget', wantedMs: wanted, remainingMs: left };
    return { retry: true, delayMs };
  }
  const left = remainingMs(options.deadline);
  if (delayMs >= left) return { retry: false, reason: 'budget', wantedMs: delayMs, remainingMs: left };
  return { retry: true, delayMs };
}

/** "12 s", "0.4 s": budget figures in messages. */
export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return 'unlimited';
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * A fetch whose every request ends by `min(perRequestMs, the budget's remainder)`, whatever
 * signal the caller passed: for clients we do not drive ourselves (Octokit). With nothing left
 * it fails at once without sending.
 */
export function boundedFetch(
  perRequestMs: number,
  deadline: Deadline | undefined,
  inner: typeof fetch = fetch,
): typeof fetch {
  return (input, init) => {
    const timeout = attemptTimeoutMs(perRequestMs, deadline);
    if (timeout <= 0) {
      return Promise.reject(new DeadlineExceededError("not sent: the job's time budget is used up"));
    }
    const timer = AbortSignal.timeout(timeout);
    const signal = init?.signal ? AbortSignal.any([init.signal, timer]) : timer;
    return inner(input, { ...init, signal }).catch((error: unknown) => {
      if (timer.aborted) throw new Error(`no answer within ${seconds(timeout)}`, { cause: error });
      throw error;
    });
  };
}
