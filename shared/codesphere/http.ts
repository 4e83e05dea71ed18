import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import type { z } from 'zod';

import { ApiError } from '../errors.js';
import { redact } from '../reporter.js';

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
}

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

export interface HttpClientOptions {
  baseUrl: string;
  userAgent: string;
  timeoutMs?: number;
  sleep(ms: number): Promise<void>;
  /** Retries and redirects are logged here (never with headers or bodies). */
  debug?(message: string): void;
  retry?: Partial<RetryPolicy>;
  /** Redacted from every error message (tokens the client knows). */
  secrets?: string[];
  random?(): number;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Attempt =
  { kind: 'response'; response: AxiosResponse<string> } | { kind: 'network'; code: string; message: string };

export class HttpClient {
  private readonly axios: AxiosInstance;
  private readonly retry: RetryPolicy;
  private token: string | undefined;
  private readonly secrets: string[];

  constructor(private readonly options: HttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.secrets = [...(options.secrets ?? [])];
    // Redirects are followed by hand (maxRedirects: 0): axios/follow-redirects drops the
    // Authorization header when a redirect changes host, and Codesphere redirects API calls to
    // the team's data center. Every status is handled here (validateStatus), bodies are read as
    // text so a non-JSON answer (a proxy's HTML page) is reported instead of crashing a parser.
    this.axios = axios.create({
      timeout: options.timeoutMs ?? 30_000,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      headers: { 'User-Agent': options.userAgent, Accept: 'application/json' },
    });
  }

  setToken(token: string): void {
    this.token = token;
    this.secrets.push(token);
  }

  async call<T>(op: Operation<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.sendFollowingRedirects(op);
      const retryIn = this.retryDelay(op, result, attempt);
      if (retryIn === undefined) return this.settle(op, result);
      this.options.debug?.(
        `${op.name}: ${describeAttempt(result)}; retrying in ${retryIn} ms (retry ${attempt + 1} of ${this.retry.maxRetries})`,
      );
      await this.options.sleep(retryIn);
    }
  }

  /** `undefined`: do not retry (success, a client error, retries used up, or unsafe to repeat). */
  private retryDelay(op: Operation<unknown>, result: Attempt, attempt: number): number | undefined {
    if (attempt >= this.retry.maxRetries) return undefined;
    const backoff = this.backoff(attempt);
    if (result.kind === 'network') return op.idempotent ? backoff : undefined;
    const status = result.response.status;
    if (status === 429) {
      const retryAfter = parseRetryAfter(result.response.headers['retry-after'], Date.now());
      if (retryAfter === undefined) return backoff;
      return Math.min(retryAfter, this.retry.retryAfterCapMs);
    }
    if ((status >= 500 || status === 408) && op.idempotent) return backoff;
    return undefined;
  }

  /** Exponential backoff with jitter: uniformly in [50%, 100%] of base * 2^attempt, capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** attempt);
    const random = this.options.random ? this.options.random() : Math.random();
    return Math.round(ceiling / 2 + (random * ceiling) / 2);
  }

  private async sendFollowingRedirects(op: Operation<unknown>): Promise<Attempt> {
    let url = joinUrl(this.options.baseUrl, op.path);
    let method: string = op.method;
    let body = op.body;
    for (let hop = 0; ; hop++) {
      const result = await this.send(method, url, body);
      if (result.kind === 'network' || !REDIRECT_STATUSES.has(result.response.status)) return result;
      const location: unknown = result.response.headers['location'];
      if (typeof location !== 'string' || location === '') return result;
      if (hop >= MAX_REDIRECTS) {
        throw new ApiError(
          { operation: op.name, kind: 'network', status: result.response.status },
          `Codesphere API call ${op.name} was redirected more than ${MAX_REDIRECTS} times; giving up.`,
        );
      }
      const next = new URL(location, url);
      // The token travels along (see the constructor), so never to a plain-http non-loopback host.
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname))) {
        throw new ApiError(
          { operation: op.name, kind: 'network', status: result.response.status },
          `Codesphere API call ${op.name} was redirected to an insecure location (${next.protocol}//${next.host}); refusing to send credentials there.`,
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

  private async send(method: string, url: string, body: unknown): Promise<Attempt> {
    const headers: Record<string, string> = {};
    if (this.token) headers['Authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const response = await this.axios.request<string>({
        method,
        url,
        headers,
        data: body === undefined ? undefined : JSON.stringify(body),
      });
      return { kind: 'response', response };
    } catch (err: unknown) {
      // Only the code and message are kept: axios errors carry the request config (and token).
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
      envelope = { detail: truncate(data.replace(/\s+/g, ' '), 200) };
    }
    const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? this.clean(v) : undefined);
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
      this.clean(
        `Codesphere API call ${op.name} returned a response this tool does not understand (HTTP ${status}): ${why}. ` +
          `Body: ${truncate(body, 300)}`,
      ),
    );
  }

  private clean(text: string): string {
    return redact(text, this.secrets);
  }
}

function describeAttempt(result: Attempt): string {
  return result.kind === 'network' ? `no response (${result.code})` : `HTTP ${result.response.status}`;
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
