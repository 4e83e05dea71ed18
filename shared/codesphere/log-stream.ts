/**
 * The Public API's log streams (codesphere-openapi.json: workspaces-logs, workspaces-replicaLogs):
 * Server-Sent Events of two types, `data` (a JSON array of `{timestamp, kind: 'I'|'E', data}`
 * entries) and `problem` (the `{status, title, detail, traceId}` envelope the API uses for 400,
 * 401 and 404 on these operations). The SSE framing (fields, CR/LF variants, chunk boundaries,
 * multi-line `data:`) is parsed by eventsource-parser, a small well-kept parser that bundles
 * with ncc and runs on Node 20/24; this module adds the spec's event shapes on top.
 */
import { createParser } from 'eventsource-parser';
import { z } from 'zod';

import { ApiError } from '../errors.js';
import { redact } from '../request/secrets.js';

export const logEntrySchema = z.object({
  timestamp: z.string(),
  kind: z.enum(['E', 'I']),
  data: z.string(),
});
/** One log entry: `kind` I is stdout, E is stderr; `data` is the text (it may hold several lines). */
export type LogEntry = z.infer<typeof logEntrySchema>;

const problemSchema = z.object({
  status: z.number(),
  title: z.string(),
  detail: z.string().optional(),
  traceId: z.string(),
});
export type LogProblem = z.infer<typeof problemSchema>;

export interface LogEventHandlers {
  /** A `data` event's entries, in order. */
  onEntries(entries: LogEntry[]): void;
  /** A `problem` event: the stream failed server-side (the caller decides what it means). */
  onProblem(problem: LogProblem): void;
  /** An event that does not fit the spec (bad JSON, wrong shape): reported, never fatal. */
  onInvalid(why: string): void;
}

/**
 * An incremental parser for the log operations' event stream: feed it text chunks as they
 * arrive, cut anywhere (inside a field, a line ending or a multi-byte character's decoded text).
 * Unknown event types are ignored, as the SSE standard does.
 */
export function createLogEventParser(handlers: LogEventHandlers): {
  feed(chunk: string): void;
  /** The stream ended. */
  end(): void;
} {
  const parser = createParser({
    onEvent(event) {
      const type = event.event ?? 'message';
      if (type !== 'data' && type !== 'problem') return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        handlers.onInvalid(`a "${type}" event whose data is not JSON (${event.data.length} characters)`);
        return;
      }
      if (type === 'data') {
        const parsed = z.array(logEntrySchema).safeParse(json);
        if (parsed.success) handlers.onEntries(parsed.data);
        else handlers.onInvalid(`a "data" event of an unexpected shape (${firstIssue(parsed.error)})`);
        return;
      }
      const parsed = problemSchema.safeParse(json);
      if (parsed.success) handlers.onProblem(parsed.data);
      else handlers.onInvalid(`a "problem" event of an unexpected shape (${firstIssue(parsed.error)})`);
    },
    onError(error) {
      handlers.onInvalid(`malformed event stream (${error.message})`);
    },
  });
  let endsInCr = false;
  return {
    feed(chunk) {
      if (chunk === '') return;
      endsInCr = chunk.endsWith('\r');
      parser.feed(chunk);
    },
    // A trailing CR may be half of a CRLF, so the parser holds it back; at the end of the stream
    // it is a line ending of its own (an event closed with lone CRs is complete). Anything else
    // left unterminated is an event cut off by the end of the stream: dropped, as SSE requires.
    end() {
      if (endsInCr) parser.feed('\n');
      endsInCr = false;
    },
  };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}

export interface FollowLogOptions {
  /** Full URL of the log operation. */
  url: string;
  /** Operation name for errors: `logs` or `replicaLogs`. */
  operation: string;
  token: string | undefined;
  userAgent: string;
  /** Aborting ends the stream quietly (the caller stopped following). */
  signal: AbortSignal;
  handlers: LogEventHandlers;
  /** Redacted from errors. */
  secrets: string[];
}

/** How a followed stream ended. */
export type StreamEnd = 'ended' | 'aborted';

/**
 * Opens one log stream and feeds it to the handlers until the server ends it or `signal` aborts.
 * Uses Node's fetch (undici): axios buffers text responses, and a stream must be read as it
 * arrives. fetch follows redirects itself and drops the Authorization header when a redirect
 * leaves the origin, which is the safe side for a token. Throws ApiError when the server does
 * not open a stream (an HTTP error) or the connection fails before it was aborted.
 */
export async function followLogStream(options: FollowLogOptions): Promise<StreamEnd> {
  const headers: Record<string, string> = {
    Accept: 'text/event-stream',
    'User-Agent': options.userAgent,
  };
  if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
  const clean = (text: string) => redact(text, options.secrets);
  let response: Response;
  try {
    response = await fetch(options.url, { headers, signal: options.signal });
  } catch (error: unknown) {
    if (options.signal.aborted) return 'aborted';
    throw new ApiError(
      { operation: options.operation, kind: 'network' },
      clean(`Codesphere API call ${options.operation} got no response (${(error as Error).message}).`),
    );
  }
  if (!response.ok || !response.body) {
    const body = await response.text().catch(() => '');
    let detail: string | undefined;
    try {
      const json = JSON.parse(body) as { detail?: unknown };
      if (typeof json.detail === 'string') detail = clean(json.detail);
    } catch {
      detail = clean(body.slice(0, 200));
    }
    throw new ApiError({ operation: options.operation, kind: 'http', status: response.status, detail });
  }
  const parser = createLogEventParser(options.handlers);
  const decoder = new TextDecoder();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // stream: true keeps a multi-byte character cut between chunks for the next one.
      parser.feed(decoder.decode(value, { stream: true }));
    }
    parser.feed(decoder.decode());
    parser.end();
    return 'ended';
  } catch (error: unknown) {
    if (options.signal.aborted) return 'aborted';
    throw new ApiError(
      { operation: options.operation, kind: 'network' },
      clean(`The ${options.operation} stream broke off (${(error as Error).message}).`),
    );
  } finally {
    reader.releaseLock();
  }
}
