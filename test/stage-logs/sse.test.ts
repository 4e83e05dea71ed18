/**
 * The log-stream parser over the wire format the spec documents: any chunking, multi-line
 * `data:` fields, `problem` events, a stream that ends early, and a server that breaks off.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  createLogEventParser,
  followLogStream,
  type LogEntry,
  type LogProblem,
} from '../../shared/codesphere/log-stream.js';

function collect() {
  const entries: LogEntry[] = [];
  const problems: LogProblem[] = [];
  const invalid: string[] = [];
  const parser = createLogEventParser({
    onEntries: (e) => entries.push(...e),
    onProblem: (p) => problems.push(p),
    onInvalid: (why) => invalid.push(why),
  });
  return { parser, entries, problems, invalid };
}

const entry = (data: string, kind: 'I' | 'E' = 'I'): LogEntry => ({
  timestamp: '2026-11-29T17:00:00.000Z',
  kind,
  data,
});
const dataEvent = (entries: LogEntry[], eol = '\n') =>
  `event: data${eol}data: ${JSON.stringify(entries)}${eol}${eol}`;

describe('log event parser', () => {
  it('yields the same entries however the stream is cut into chunks (and whatever the line endings)', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 30 });
    fc.assert(
      fc.property(
        fc.array(fc.array(line, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(), { maxLength: 12 }),
        (batches, eol, cuts) => {
          const events = batches.map((batch) => batch.map((d) => entry(d)));
          const text = events.map((e) => dataEvent(e, eol)).join('');
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const { parser, entries, invalid } = collect();
          let from = 0;
          for (const point of [...points, text.length]) {
            parser.feed(text.slice(from, point));
            from = point;
          }
          parser.end();
          expect(invalid).toEqual([]);
          expect(entries).toEqual(events.flat());
        },
      ),
      { seed: 20261129, numRuns: 200 },
    );
  });

  it('joins a JSON payload split over several data: lines (the SSE rule: joined by newlines)', () => {
    const { parser, entries } = collect();
    const json = JSON.stringify([entry('a'), entry('b', 'E')], null, 2);
    parser.feed(
      `event: data\n${json
        .split('\n')
        .map((l) => `data: ${l}`)
        .join('\n')}\n\n`,
    );
    expect(entries).toEqual([entry('a'), entry('b', 'E')]);
  });

  it('reports a problem event with its status and detail, and ignores unknown event types', () => {
    const { parser, entries, problems, invalid } = collect();
    parser.feed(': keep-alive comment\n\nevent: ping\ndata: {}\n\n');
    parser.feed(
      'event: problem\ndata: {"status":404,"title":"Not Found","detail":"Workspace 9 not found.","traceId":"t1"}\n\n',
    );
    expect(entries).toEqual([]);
    expect(invalid).toEqual([]);
    expect(problems).toEqual([
      { status: 404, title: 'Not Found', detail: 'Workspace 9 not found.', traceId: 't1' },
    ]);
  });

  it('names an event that breaks the shape instead of crashing, and keeps going', () => {
    const { parser, entries, invalid } = collect();
    parser.feed('event: data\ndata: {not json\n\n');
    parser.feed('event: data\ndata: [{"kind":"X","data":1}]\n\n');
    parser.feed(dataEvent([entry('still here')]));
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toContain('not JSON');
    expect(invalid[1]).toContain('unexpected shape');
    expect(entries).toEqual([entry('still here')]);
  });

  it('drops an event cut off by an early end of stream (no blank line: never dispatched)', () => {
    const { parser, entries } = collect();
    parser.feed(dataEvent([entry('complete')]));
    parser.feed(`event: data\ndata: ${JSON.stringify([entry('half')])}`);
    expect(entries).toEqual([entry('complete')]);
  });
});

describe('followLogStream over HTTP', () => {
  async function serve(handler: http.RequestListener) {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`;
    return {
      url,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('reads events split mid-character across TCP writes, and reports an early end as ended', async () => {
    const payload = dataEvent([entry('naïve café ✓ 日本')]);
    const bytes = Buffer.from(payload);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Cut inside the multi-byte characters, then stop without a final event.
      const cut = bytes.indexOf(Buffer.from('✓')) + 1;
      res.write(bytes.subarray(0, cut));
      setTimeout(() => {
        res.write(bytes.subarray(cut));
        res.end('event: data\ndata: [');
      }, 20);
    });
    const { entries, problems, invalid } = collect();
    try {
      const end = await followLogStream({
        url: server.url,
        operation: 'logs',
        token: 'tok-123456',
        userAgent: 'test',
        signal: new AbortController().signal,
        handlers: {
          onEntries: (e) => entries.push(...e),
          onProblem: (p) => problems.push(p),
          onInvalid: (w) => invalid.push(w),
        },
        secrets: ['tok-123456'],
      });
      expect(end).toBe('ended');
      expect(entries).toEqual([entry('naïve café ✓ 日本')]);
      expect(invalid).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('turns an HTTP error into an ApiError with the status and no token, and honours abort', async () => {
    const server = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer tok-123456') res.writeHead(500).end();
      else if (req.url === '/logs')
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"status":401,"title":"Unauthorized","detail":"bad tok-123456","traceId":"x"}');
    });
    const handlers = { onEntries: () => undefined, onProblem: () => undefined, onInvalid: () => undefined };
    try {
      const err = await followLogStream({
        url: server.url,
        operation: 'logs',
        token: 'tok-123456',
        userAgent: 't',
        signal: new AbortController().signal,
        handlers,
        secrets: ['tok-123456'],
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 401, operation: 'logs' });
      expect(String((err as Error).message)).not.toContain('tok-123456');
    } finally {
      await server.close();
    }
    const hanging = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(dataEvent([entry('first')]));
    });
    try {
      const abort = new AbortController();
      const got: LogEntry[] = [];
      const done = followLogStream({
        url: hanging.url,
        operation: 'logs',
        token: undefined,
        userAgent: 't',
        signal: abort.signal,
        handlers: {
          ...handlers,
          onEntries: (e) => {
            got.push(...e);
            abort.abort();
          },
        },
        secrets: [],
      });
      await expect(done).resolves.toBe('aborted');
      expect(got).toEqual([entry('first')]);
    } finally {
      await hanging.close();
    }
  });
});
