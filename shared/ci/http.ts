/**
 * JSON over HTTP for the CI platforms' own APIs (GitLab REST v4, Bitbucket 2.0): notes and the
 * open-request list. Not the Codesphere client: auth, pagination, error shapes and the failure
 * policy differ (a note that cannot be posted is a warning). Shared here: a timeout per request,
 * the one retry policy (http-retry.ts; docs/design/retry-and-budget.md) within the job's deadline,
 * bodies parsed with zod, and errors that name the operation but never carry a header.
 */
import type { z } from 'zod';
import {
  attemptTimeoutMs,
  BUDGET_NAME,
  decideRetry,
  DEFAULT_RETRY,
  describeBytes,
  errorMessage,
  MAX_RESPONSE_BYTES,
  PlatformApiError,
  readTextCapped,
  RedirectRefusedError,
  seconds,
  type Deadline,
  type RetryPolicy,
} from '../index.js';

/** What one attempt ended in, as the retry policy reads it. */
type AttemptOutcome = Parameters<typeof decideRetry>[0]['outcome'];

export interface HttpDeps {
  sleep: (ms: number) => Promise<void>;
  /** Defaults to the global fetch (Node 20+). */
  fetch?: typeof fetch | undefined;
  /** The job's deadline: no request is sent and no retry wait begins past it. */
  deadline?: Deadline | undefined;
}

/** Platform calls are conveniences beside the deploy: a few quick retries, not the core's five. */
const PLATFORM_RETRY: RetryPolicy = { ...DEFAULT_RETRY, maxRetries: 2 };
/** Per-request timeout of platform calls (ms), cut further by the job's deadline. */
export const PLATFORM_TIMEOUT_MS = 15_000;

export interface JsonRequest<T> {
  /** Human name of the call for errors ("list open merge requests"). */
  operation: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  schema: z.ZodType<T>;
  /** Per-request timeout (ms, default PLATFORM_TIMEOUT_MS), cut to what remains of the deadline. */
  timeoutMs?: number;
  /** Attempts for idempotent calls (GET, PUT, DELETE; default 3); POST is sent once unless rate limited. */
  attempts?: number;
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A redirect not followed; only the target's origin is named (its path or query may hold a token). */
function refusedRedirect(
  request: JsonRequest<unknown>,
  where: string,
  response: Response,
): RedirectRefusedError {
  const { operation } = request;
  const location = response.headers.get('location');
  let target = '(no location)';
  try {
    if (location) {
      const next = new URL(location, request.url);
      target = `${next.protocol}//${next.host}`;
    }
  } catch {
    target = '(an invalid location)';
  }
  return new RedirectRefusedError(
    { operation, status: response.status, target, refusal: 'not-followed' },
    `${operation} failed (${where}): the platform redirected (HTTP ${response.status}) to ${target}; ` +
      'not followed, so the token is not sent there. Check the API URL.',
  );
}

/** The URL without its query string: queries can carry tokens on some platforms, paths do not. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * One JSON call to a CI platform's API. Throws PlatformApiError (with the operation, method and
 * URL without query) on a network error, a timeout, the budget running out, an error status or an
 * unexpected body. POST is sent once; other methods are retried by the shared policy.
 */
export async function requestJson<T>(request: JsonRequest<T>, deps: HttpDeps): Promise<JsonResponse<T>> {
  const method = request.method ?? 'GET';
  const doFetch = deps.fetch ?? fetch;
  const idempotent = method !== 'POST';
  const policy: RetryPolicy = {
    ...PLATFORM_RETRY,
    maxRetries: Math.max(0, (request.attempts ?? PLATFORM_RETRY.maxRetries + 1) - 1),
  };
  const where = `${method} ${describeUrl(request.url)}`;
  const fail = (status: number | undefined, reason: string, cause?: unknown) =>
    new PlatformApiError(request.operation, status, `${request.operation} failed (${where}): ${reason}`, {
      cause,
    });
  const budgetReason = (got: string, wantedMs: number) =>
    `${got}${wantedMs > 0 ? ` and a retry would have to wait ${seconds(wantedMs)}` : ''}, but the job's time budget (${BUDGET_NAME}) is used up`;

  for (let attempt = 0; ; attempt++) {
    const decide = (outcome: AttemptOutcome) =>
      decideRetry({ outcome, idempotent, attempt, policy, deadline: deps.deadline });
    const timeoutMs = attemptTimeoutMs(request.timeoutMs ?? PLATFORM_TIMEOUT_MS, deps.deadline);
    if (timeoutMs <= 0) throw fail(undefined, `not sent: the job's time budget (${BUDGET_NAME}) is used up`);
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(request.url, {
        method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal,
        // Never follow: a custom token header (PRIVATE-TOKEN) would go wherever the redirect points.
        redirect: 'manual',
      });
      const read = await readTextCapped(response, MAX_RESPONSE_BYTES);
      if (read.truncated)
        throw new Error(`the answer was over ${describeBytes(MAX_RESPONSE_BYTES)} and was not read`);
      text = read.text;
    } catch (error) {
      const reason = signal.aborted ? `no answer within ${seconds(timeoutMs)}` : errorMessage(error);
      const decision = decide({ kind: 'network' });
      if (decision.retry) {
        await deps.sleep(decision.delayMs);
        continue;
      }
      if (decision.reason === 'budget') throw fail(undefined, budgetReason(reason, decision.wantedMs), error);
      throw fail(undefined, reason, error);
    }

    // Never followed (redirect: 'manual' above): a refused redirect of its own kind, naming the target's origin only.
    if (REDIRECT_STATUSES.has(response.status)) throw refusedRedirect(request, where, response);
    if (!response.ok) {
      const decision = decide({
        kind: 'status',
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
      });
      if (decision.retry) {
        await deps.sleep(decision.delayMs);
        continue;
      }
      const answer = `HTTP ${response.status} ${truncate(text.replace(/\s+/g, ' ').trim())}`.trim();
      if (decision.reason === 'budget') throw fail(response.status, budgetReason(answer, decision.wantedMs));
      throw fail(response.status, answer);
    }

    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch (error) {
      throw new PlatformApiError(
        request.operation,
        response.status,
        `${request.operation}: the response of ${where} is not JSON: ${truncate(text)}`,
        { cause: error },
      );
    }
    const parsed = request.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`,
      );
      throw new PlatformApiError(
        request.operation,
        response.status,
        `${request.operation}: unexpected response from ${where} (${issues.slice(0, 3).join('; ')}): ${truncate(text)}`,
      );
    }
    return { status: response.status, headers: response.headers, data: parsed.data };
  }
}
