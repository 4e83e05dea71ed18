/**
 * The Public API's error envelope `{status,title,detail,traceId}` (the spec's problem schema).
 * Handlers throw `Problem`; the server turns it into the envelope, so every 4xx/5xx looks alike.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { describeIssue } from './vpn.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export interface ProblemBody {
  status: number;
  title: string;
  detail: string;
  traceId: string;
}

export class Problem extends Error {
  override name = 'Problem';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

export function problemBody(status: number, detail: string): ProblemBody {
  return { status, title: TITLES[status] ?? 'Error', detail, traceId: newTraceId() };
}

/** Parses with zod or throws a 400 naming the first offending field (`what` says body or path). */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map(describeIssue).join('; ');
  throw new Problem(400, `Invalid ${what}: ${issues}`);
}
