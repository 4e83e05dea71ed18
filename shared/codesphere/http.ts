import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import type { z } from 'zod';

import type { Clock } from '../clock.js';
import { ApiError, RedirectRefusedError } from '../errors.js';
import {
  attemptTimeoutMs,
  BUDGET_NAME,
  decideRetry,
  DEFAULT_RETRY,
  seconds,
  type Deadline,
  type RetryPolicy,
} from './retry.js';
import { SecretSet } from '../request/masking.js';
import { isLoopbackHost } from '../request/urls.js';
import { credentialsFollow, describeBytes, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from './bounds.js';

/**
 * One HTTP call described as data: the client's methods build these, `HttpClient.call` runs
 * them with auth, retries, redirects and response validation. Nothing else in the core talks
 * HTTP.
 */
export interface Operation<T> {
  /** The spec's operationId without its tag ("createWorkspace"): named in every error. */
  name: string;
  method: Extract<Method, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
  /** Relative to the client's base URL, already URL-encoded. */
  path: string;
  body?: unknown;
  /** The 2xx body's schema; absent for operations whose answer carries no body worth reading. */
  response?: z.ZodType<T>;
  /**
   * Safe to send again after a network error or a 5xx, where the server may have acted on the
   * first attempt. 429 is always retried: the server says it did not act.
   */
  idempotent: boolean;
  /** The body may hold credentials (sign-in): never quoted in errors. */
  sensitiveResponse?: boolean;
  /**
   * This operation's per-request timeout (ms) when shorter than the client's: a create leaves
   * time to check, by name, whether a create that got no answer happened (workflow/apply/).
   */
  timeoutMs?: number;
}

export { DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry.js';

export interface HttpClientOptions {
  baseUrl: string;
  userAgent: string;
  /** Per-request timeout (ms, default 30 s), cut further to what remains of `deadline`. */
  timeoutMs?: number;
  /**
   * The job's deadline: no request is sent and no retry wait begins past it (see retry.ts).
   * Absent: only the per-request timeout and the retry limits bound a call.
   */
  deadline?: Deadline | undefined;
  /**
   * Retry waits sleep on it; HTTP-date Retry-After values are read against its `now`; each
   * attempt's timeout runs on its `timeout` (real time when it has none).
   */
  clock: Clock;
  /** Retries and redirects are logged here (never with headers or bodies). */
  debug?(message: string): void;
  retry?: Partial<RetryPolicy>;
  /** Redacted from every error message (tokens the client knows). */
  secrets?: string[];
  random?: (() => number) | undefined;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Attempt =
  { kind: 'response'; response: AxiosResponse<string> } | { kind: 'network'; code: string; message: string };

const DEFAULT_TIMEOUT_MS = 30_000;

export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly retry: RetryPolicy;
  private token: string | undefined;
  private readonly secrets = new SecretSet();
  private readonly origin: string;

  constructor(private readonly options: HttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    for (const secret of options.secrets ?? []) this.secrets.add(secret);
    this.origin = new URL(options.baseUrl).origin;
    // Redirects are followed by hand (maxRedirects: 0) by the one rule of bounds.ts: the token
    // goes along to the base URL's origin only. Every status is handled here (validateStatus),
    // bodies are read as text (at most MAX_RESPONSE_BYTES) so a non-JSON answer (a proxy's HTML
    // page) is reported instead of crashing a parser.
    // The timeout of each attempt is an AbortSignal set per request (see send): axios' own
    // `timeout` is a socket idle timer, which a server trickling bytes never trips.
    this.axios = axios.create({
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_RESPONSE_BYTES,
      maxBodyLength: MAX_REQUEST_BYTES,
      headers: { 'User-Agent': options.userAgent, Accept: 'application/json' },
    });
  }

  setToken(token: string): void {
    this.token = token;
    this.secrets.add(token);
  }

  /**
   * Runs one operation: redirects followed, retried by the one policy (retry.ts) within the
   * deadline, the answer validated. Throws ApiError (HTTP error, no response, unexpected body);
   * ApiError of kind `network` with a budget message when the deadline cut the call short;
   * RedirectRefusedError for a redirect to plain http (non-loopback) or past MAX_REDIRECTS hops.
   */
  async call<T>(op: Operation<T>): Promise<T> {
    const size = op.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(op.body), 'utf8');
    if (size > MAX_REQUEST_BYTES) {
      throw new ApiError(
        { operation: op.name, kind: 'http', status: 413 },
        `Codesphere API call ${op.name} was not sent: its body would be ${describeBytes(size)}, over the ${describeBytes(MAX_REQUEST_BYTES)} Codesphere accepts.`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      const result = await this.sendFollowingRedirects(op);
      if (result.kind === 'response' && result.response.status >= 200 && result.response.status < 300)
        return this.settle(op, result);
      // An answer too large to read is not retried: the next one would be as large.
      if (result.kind === 'network' && result.code === 'ERR_RESPONSE_TOO_LARGE')
        return this.settle(op, result);
      const decision = decideRetry({
        outcome:
          result.kind === 'network'
            ? { kind: 'network' }
            : {
                kind: 'status',
                status: result.response.status,
                retryAfter: headerText(result.response.headers['retry-after']),
              },
        idempotent: op.idempotent,
        attempt,
        policy: this.retry,
        deadline: this.options.deadline,
        random: this.options.random,
        wallNow: this.options.clock.now(),
      });
      if (!decision.retry) {
        if (decision.reason === 'budget') throw this.outOfBudget(op, result, decision.wantedMs);
        return this.settle(op, result);
      }
      this.options.debug?.(
        `${op.name}: ${describeAttempt(result)}; retrying in ${decision.delayMs} ms (retry ${attempt + 1} of ${this.retry.maxRetries})`,
      );
      await this.options.clock.sleep(decision.delayMs);
    }
  }

  /** A retry was due, but the job's budget cannot hold its wait. */
  private outOfBudget(op: Operation<unknown>, result: Attempt, wantedMs: number): ApiError {
    const got =
      result.kind === 'network'
        ? `got no response (${result.message})`
        : `answered HTTP ${result.response.status}${result.response.status === 429 ? ' (rate limited)' : ''}`;
    const wait = wantedMs > 0 ? ` and a retry would have to wait ${seconds(wantedMs)}` : '';
    return new ApiError(
      {
        operation: op.name,
        kind: result.kind === 'network' ? 'network' : 'http',
        status: result.kind === 'network' ? undefined : result.response.status,
      },
      this.clean(
        `Codesphere API call ${op.name} ${got}${wait}, but the job's time budget (${BUDGET_NAME}) is used up; giving up.`,
      ),
    );
  }

  private async sendFollowingRedirects(op: Operation<unknown>): Promise<Attempt> {
    let url = joinUrl(this.options.baseUrl, op.path);
    let method: string = op.method;
    let body = op.body;
    for (let hop = 0; ; hop++) {
      const result = await this.send(method, url, body, op.timeoutMs);
      if (result.kind === 'network' || !REDIRECT_STATUSES.has(result.response.status)) return result;
      const location: unknown = result.response.headers['location'];
      if (typeof location !== 'string' || location === '') return result;
      const next = new URL(location, url);
      const refused = {
        operation: op.name,
        status: result.response.status,
        target: `${next.protocol}//${next.host}`,
      };
      if (hop >= MAX_REDIRECTS) {
        throw new RedirectRefusedError(
          { ...refused, refusal: 'too-many' },
          `Codesphere API call ${op.name} was redirected more than ${MAX_REDIRECTS} times; giving up.`,
        );
      }
      // Never to a plain-http non-loopback host, whether the token would go along or not.
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname))) {
        throw new RedirectRefusedError(
          { ...refused, refusal: 'insecure' },
          `Codesphere API call ${op.name} was redirected to an insecure location (${refused.target}); refusing to send credentials there.`,
        );
      }
      this.options.debug?.(
        `${op.name}: redirected (${result.response.status}) to ${next.origin}${next.pathname}`,
      );
      if (result.response.status === 303) {
        method = 'GET';
        body = undefined;
      }
      url = next.toString();
    }
  }

  private async send(method: string, url: string, body: unknown, opTimeoutMs?: number): Promise<Attempt> {
    const perRequestMs = Math.min(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS, opTimeoutMs ?? Infinity);
    const timeoutMs = attemptTimeoutMs(perRequestMs, this.options.deadline);
    if (timeoutMs <= 0) return { kind: 'network', code: 'ETIMEDOUT', message: 'not sent: no time left' };
    const headers: Record<string, string> = {};
    if (this.token && credentialsFollow(this.origin, new URL(url)))
      headers['Authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const signal = this.options.clock.timeout?.(timeoutMs) ?? AbortSignal.timeout(timeoutMs);
    try {
      const response = await this.axios.request<string>({
        method,
        url,
        headers,
        data: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      return { kind: 'response', response };
    } catch (err: unknown) {
      if (signal.aborted)
        return { kind: 'network', code: 'ETIMEDOUT', message: `no answer within ${seconds(timeoutMs)}` };
      // Only the code and message are kept: axios errors carry the request config (and token).
      if (axios.isAxiosError(err) && /maxContentLength/.test(err.message))
        return {
          kind: 'network',
          code: 'ERR_RESPONSE_TOO_LARGE',
          message: `the answer was over ${describeBytes(MAX_RESPONSE_BYTES)} and was not read`,
        };
      if (axios.isAxiosError(err))
        return { kind: 'network', code: err.code ?? 'ERR_NETWORK', message: err.message };
      throw err;
    }
  }

  private settle<T>(op: Operation<T>, result: Attempt): T {
    if (result.kind === 'network') {
      throw new ApiError(
        { operation: op.name, kind: 'network' },
        this.clean(`Codesphere API call ${op.name} got no response (${result.code}: ${result.message}).`),
      );
    }
    const { status, data } = result.response;
    if (status < 200 || status >= 300) throw this.problem(op, status, data);
    if (!op.response) return undefined as T;
    let json: unknown;
    try {
      json = data === '' ? undefined : JSON.parse(data);
    } catch {
      throw this.shapeError(op, status, 'the body is not JSON', op.sensitiveResponse ? '(not shown)' : data);
    }
    const parsed = op.response.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw this.shapeError(op, status, issues, op.sensitiveResponse ? '(not shown)' : data);
    }
    return parsed.data;
  }

  private problem(op: Operation<unknown>, status: number, data: string): ApiError {
    let envelope: { title?: unknown; detail?: unknown; traceId?: unknown } = {};
    try {
      const json: unknown = JSON.parse(data);
      if (json && typeof json === 'object') envelope = json;
    } catch {
      envelope = { detail: truncate(this.clean(data).replace(/\s+/g, ' '), 200) };
    }
    const text = (v: unknown) =>
      typeof v === 'string' && v.trim() !== '' ? truncate(this.clean(v), 500) : undefined;
    return new ApiError({
      operation: op.name,
      kind: 'http',
      status,
      title: text(envelope.title),
      detail: text(envelope.detail),
      traceId: text(envelope.traceId),
    });
  }

  private shapeError(op: Operation<unknown>, status: number, why: string, body: string): ApiError {
    return new ApiError(
      { operation: op.name, kind: 'response', status, detail: why },
      `Codesphere API call ${op.name} returned a response this tool does not understand (HTTP ${status}): ${this.clean(why)}. ` +
        `Body: ${truncate(this.clean(body), 300)}`,
    );
  }

  private clean(text: string): string {
    return this.secrets.redact(text);
  }
}

function describeAttempt(result: Attempt): string {
  return result.kind === 'network' ? `no response (${result.code})` : `HTTP ${result.response.status}`;
}

function headerText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
