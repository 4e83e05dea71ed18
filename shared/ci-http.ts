/**
 * A small JSON-over-HTTP helper for the CI platforms' own APIs (GitLab's REST v4, Bitbucket's
 * 2.0), which the GitLab and Bitbucket adapters call for merge/pull request notes and for the
 * list of open requests that prune needs. The Codesphere API has its own client in the core.
 *
 * Why not that client: different auth headers, pagination and error shapes per platform, and the
 * failure policy differs (a note that cannot be posted is a warning). What both adapters share is
 * here: a timeout, a retry for idempotent calls on 429/5xx/network errors (Retry-After honoured,
 * capped), response bodies parsed with zod, and errors that name the operation but never carry a
 * header, so a token cannot ride along into a log.
 */
import { errorMessage } from './describe-error.js';
import type { z } from 'zod';

import { CodesphereDeployError } from './errors.js';

export interface HttpDeps {
  sleep: (ms: number) => Promise<void>;
  /** Defaults to the global fetch (Node 20+). */
  fetch?: typeof fetch | undefined;
}

export interface JsonRequest<T> {
  /** Human name of the call for errors ("list open merge requests"). */
  operation: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  schema: z.ZodType<T>;
  timeoutMs?: number;
  /** Attempts for idempotent calls (GET, PUT, DELETE); POST is sent once. */
  attempts?: number;
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

/** A platform API call that failed; the message is complete and safe to print. */
export class PlatformApiError extends CodesphereDeployError {
  override readonly name = 'PlatformApiError';
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_RETRY_AFTER_MS = 30_000;

function retryDelay(attempt: number, retryAfter: string | null): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  const backoff = Math.min(8_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
  // Never earlier than the server asked, never absurdly later.
  return Number.isFinite(seconds) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(seconds * 1000, backoff)) : backoff;
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

export async function requestJson<T>(request: JsonRequest<T>, deps: HttpDeps): Promise<JsonResponse<T>> {
  const method = request.method ?? 'GET';
  const doFetch = deps.fetch ?? fetch;
  const idempotent = method !== 'POST';
  const attempts = idempotent ? Math.max(1, request.attempts ?? 3) : 1;
  const where = `${method} ${describeUrl(request.url)}`;

  for (let attempt = 0; ; attempt++) {
    const last = attempt + 1 >= attempts;
    let response: Response;
    try {
      response = await doFetch(request.url, {
        method,
        headers: {
          accept: 'application/json',
          ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...request.headers,
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(request.timeoutMs ?? 20_000),
        // Never follow: a custom token header (PRIVATE-TOKEN) would go wherever the redirect points.
        redirect: 'manual',
      });
    } catch (error) {
      if (!last) {
        await deps.sleep(retryDelay(attempt, null));
        continue;
      }
      const reason = errorMessage(error);
      throw new PlatformApiError(
        request.operation,
        undefined,
        `${request.operation} failed (${where}): ${reason}`,
        {
          cause: error,
        },
      );
    }

    const text = await response.text();
    if (!response.ok) {
      if (!last && (response.status === 429 || response.status >= 500)) {
        await deps.sleep(retryDelay(attempt, response.headers.get('retry-after')));
        continue;
      }
      throw new PlatformApiError(
        request.operation,
        response.status,
        `${request.operation} failed (${where}): HTTP ${response.status} ${truncate(text.replace(/\s+/g, ' ').trim())}`,
      );
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
