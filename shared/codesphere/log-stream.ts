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

import { ApiError, RedirectRefusedError } from '../errors.js';
import { JoinedLineMasker, SecretSet } from '../request/masking.js';
import { isLoopbackHost } from '../request/urls.js';
import { credentialsFollow, MAX_ERROR_BODY_BYTES, MAX_EVENT_CHARS, readTextCapped } from './bounds.js';

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
 * Unknown event types are ignored, as the SSE standard does. An event that grows past
 * `maxEventChars` (default MAX_EVENT_CHARS) is skipped up to its end and reported once through
 * `onInvalid`, so a stream that never ends an event holds at most that much.
 */
export function createLogEventParser(
  handlers: LogEventHandlers,
  maxEventChars: number = MAX_EVENT_CHARS,
): {
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
  // Characters since the last blank line (an event's end), and the last few, to find one that
  // straddles two chunks. While `skipping`, input is dropped up to the next blank line.
  let sinceBoundary = 0;
  let recent = '';
  let skipping = false;
  const boundary = /(?:\r\n|\r|\n)(?:\r\n|\r|\n)/g;
  function lastBoundaryEnd(chunk: string): number {
    const text = recent + chunk;
    let end = -1;
    boundary.lastIndex = 0;
    for (let m = boundary.exec(text); m; m = boundary.exec(text)) end = m.index + m[0].length;
    return end < 0 ? -1 : Math.max(0, end - recent.length);
  }
  function firstBoundaryEnd(chunk: string): number {
    const text = recent + chunk;
    boundary.lastIndex = 0;
    const m = boundary.exec(text);
    return m ? Math.max(0, m.index + m[0].length - recent.length) : -1;
  }
  return {
    feed(input) {
      let chunk = input;
      if (chunk === '') return;
      if (skipping) {
        const end = firstBoundaryEnd(chunk);
        recent = (recent + chunk).slice(-3);
        if (end < 0) return;
        skipping = false;
        sinceBoundary = 0;
        chunk = chunk.slice(end);
        if (chunk === '') return;
      }
      const end = lastBoundaryEnd(chunk);
      sinceBoundary = end < 0 ? sinceBoundary + chunk.length : chunk.length - end;
      recent = (recent + chunk).slice(-3);
      if (sinceBoundary > maxEventChars) {
        // Hand the parser everything up to the last complete event, drop the unfinished rest.
        if (end > 0) parser.feed(chunk.slice(0, end));
        parser.reset();
        skipping = true;
        endsInCr = false;
        handlers.onInvalid(
          `an event over ${maxEventChars.toLocaleString('en-US')} characters (dropped, up to its end)`,
        );
        return;
      }
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

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The handlers' entries masked as one text (masking.ts, JoinedLineMasker): a secret split
 * between two entries, or between lines, is starred in both parts, before any line is cut.
 * Each line becomes an entry of its own (kind and timestamp kept). `flush` hands on what is
 * held back at the end of the stream.
 */
export function maskedLogHandlers(
  handlers: LogEventHandlers,
  secrets: Iterable<string>,
): { handlers: LogEventHandlers; flush(): void } {
  const set = new SecretSet();
  for (const secret of secrets) set.add(secret);
  let batch: LogEntry[] = [];
  const masker = new JoinedLineMasker<Omit<LogEntry, 'data'>>(set, (data, meta) =>
    batch.push({ ...meta, data }),
  );
  const deliver = () => {
    if (batch.length === 0) return;
    const entries = batch;
    batch = [];
    handlers.onEntries(entries);
  };
  return {
    handlers: {
      onEntries(entries) {
        for (const { data, ...meta } of entries) {
          const lines = data.split(/\r\n|\r|\n/);
          if (lines.length > 1 && lines.at(-1) === '') lines.pop();
          for (const line of lines) masker.push(line, meta);
        }
        deliver();
      },
      onProblem: (problem) => handlers.onProblem(problem),
      onInvalid: (why) => handlers.onInvalid(why),
    },
    flush() {
      masker.end();
      deliver();
    },
  };
}

/**
 * Opens one log stream and feeds it to the handlers until the server ends it or `signal` aborts.
 * Uses Node's fetch (undici): axios buffers text responses, and a stream must be read as it
 * arrives. Redirects are followed by hand with the client's rule (bounds.ts, credentialsFollow):
 * the token goes along to the same origin only, never to plain http off loopback, at most
 * MAX_REDIRECTS hops. Entries reach the handlers masked (maskedLogHandlers), events are bounded
 * (createLogEventParser). Throws ApiError when the server does not open a stream (an HTTP error)
 * or the connection fails before it was aborted; RedirectRefusedError for a refused redirect.
 */
export async function followLogStream(options: FollowLogOptions): Promise<StreamEnd> {
  const clean = (text: string) => masked.redact(text);
  const masked = new SecretSet();
  for (const secret of options.secrets) masked.add(secret);
  const origin = new URL(options.url).origin;
  let response: Response;
  let url = new URL(options.url);
  try {
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = {
        Accept: 'text/event-stream',
        'User-Agent': options.userAgent,
      };
      if (options.token && credentialsFollow(origin, url))
        headers['Authorization'] = `Bearer ${options.token}`;
      response = await fetch(url, { headers, signal: options.signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || !location) break;
      await response.body?.cancel();
      const next = new URL(location, url);
      const refused = {
        operation: options.operation,
        status: response.status,
        target: `${next.protocol}//${next.host}`,
      };
      if (hop >= MAX_REDIRECTS)
        throw new RedirectRefusedError(
          { ...refused, refusal: 'too-many' },
          `Codesphere API call ${options.operation} was redirected more than ${MAX_REDIRECTS} times; giving up.`,
        );
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname)))
        throw new RedirectRefusedError(
          { ...refused, refusal: 'insecure' },
          `Codesphere API call ${options.operation} was redirected to an insecure location (${refused.target}); refusing to follow.`,
        );
      url = next;
    }
  } catch (error: unknown) {
    if (error instanceof RedirectRefusedError) throw error;
    if (options.signal.aborted) return 'aborted';
    throw new ApiError(
      { operation: options.operation, kind: 'network' },
      clean(`Codesphere API call ${options.operation} got no response (${errorText(error)}).`),
    );
  }
  if (!response.ok || !response.body) {
    const { text: body } = await readTextCapped(response, MAX_ERROR_BODY_BYTES).catch(() => ({ text: '' }));
    let detail: string | undefined;
    try {
      const json = JSON.parse(body) as { detail?: unknown };
      if (typeof json.detail === 'string') detail = excerpt(clean(json.detail));
    } catch {
      detail = excerpt(clean(body));
    }
    throw new ApiError({ operation: options.operation, kind: 'http', status: response.status, detail });
  }
  const stream = maskedLogHandlers(options.handlers, options.secrets);
  const parser = createLogEventParser(stream.handlers);
  const decoder = new TextDecoder();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
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
      clean(`The ${options.operation} stream broke off (${errorText(error)}).`),
    );
  } finally {
    stream.flush();
    reader.releaseLock();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error body quoted in a message: white space folded, at most 200 characters. */
function excerpt(text: string): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > 200 ? `${folded.slice(0, 200)}...` : folded;
}
