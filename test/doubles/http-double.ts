/**
 * The plumbing the platform API doubles share: a node:http server on loopback that records every
 * call (method, path, query, parsed body, whether it was authorised) and answers from a route
 * table. Calls no route knows are answered 404 and listed in `unhandled`, so a test can assert
 * that the adapter only called what the double models (msw's onUnhandledRequest: "error").
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The credential check's verdict; the credential itself is never recorded. */
  authorized: boolean;
  status: number;
  /** The body the double answered with (undefined for an empty answer). */
  response: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
  /** The double's own origin, for absolute `next` links. */
  origin: string;
}

export interface Route {
  method: string;
  /** Path pattern with `:name` segments; a segment param matches one URL-encoded segment. */
  pattern: string;
  handle(request: RouteRequest): Reply;
}

/** Which calls a fault, delay or gate applies to: any method and path unless narrowed. */
export interface CallMatch {
  method?: string;
  pathIncludes?: string;
  /** The path ends with this (a list, not its items: `/pulls`, not `/pulls/7`). */
  pathEnds?: string;
}

export interface HttpDouble {
  url: string;
  calls: RecordedCall[];
  unhandled: RecordedCall[];
  /** Answer the next `count` calls matching method and path prefix with this status (fault injection). */
  failNext(match: CallMatch, reply: Reply, count?: number): void;
  /**
   * Send the answer to the next `count` matching calls late: `until` milliseconds, or when the
   * promise settles (a test that must order events exactly). The answer is computed when the call
   * arrives, so a change made meanwhile (a merge request opened) is missing from it, as from a
   * slow list on the real platform.
   */
  delayNext(match: CallMatch, until: number | Promise<unknown>, count?: number): void;
  /**
   * Holds the next `count` calls matching method and path until all of them have arrived (or
   * `timeoutMs` passed), then answers them together: the worst interleaving of concurrent jobs
   * on an API without atomic "create if absent" (every job lists before any job creates).
   */
  gate(match: CallMatch, count: number, timeoutMs?: number): void;
  close(): Promise<void>;
}

function compile(pattern: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { regex: new RegExp(`^${source}$`), names };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function startHttpDouble(options: {
  routes: Route[];
  /** True when the request carries the expected credential. */
  authorize: (req: IncomingMessage) => boolean;
  unauthorized: Reply;
}): Promise<HttpDouble> {
  const compiled = options.routes.map((route) => ({ route, ...compile(route.pattern) }));
  const calls: RecordedCall[] = [];
  const unhandled: RecordedCall[] = [];
  const faults: Array<CallMatch & { reply: Reply; remaining: number }> = [];
  const delays: Array<CallMatch & { until: number | Promise<unknown>; remaining: number }> = [];
  const gates: Array<
    CallMatch & {
      remaining: number;
      waiting: Array<() => void>;
      timer: NodeJS.Timeout;
    }
  > = [];
  const matches = (m: CallMatch, call: RecordedCall) =>
    (m.method === undefined || m.method === call.method) &&
    (m.pathIncludes === undefined || call.path.includes(m.pathIncludes)) &&
    (m.pathEnds === undefined || call.path.endsWith(m.pathEnds));
  let origin = '';

  const send = (res: ServerResponse, reply: Reply): void => {
    if (reply.body === undefined) {
      res.writeHead(reply.status, reply.headers);
      res.end();
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      const body = await readBody(req);
      const call: RecordedCall = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        authorized: options.authorize(req),
        status: 0,
        response: undefined,
      };
      const gate = gates.find((g) => g.remaining > 0 && matches(g, call));
      if (gate) {
        gate.remaining--;
        const open = () => {
          clearTimeout(gate.timer);
          for (const release of gate.waiting.splice(0)) release();
        };
        await new Promise<void>((resolve) => {
          gate.waiting.push(resolve);
          if (gate.remaining === 0) open();
        });
      }
      calls.push(call);
      const fault = faults.find((f) => f.remaining > 0 && matches(f, call));
      let reply: Reply;
      if (fault) {
        fault.remaining--;
        reply = fault.reply;
      } else if (!call.authorized) {
        reply = options.unauthorized;
      } else {
        const match = compiled
          .filter((c) => c.route.method === call.method)
          .map((c) => ({ c, m: c.regex.exec(url.pathname) }))
          .find((x) => x.m !== null);
        if (!match?.m) {
          unhandled.push(call);
          reply = { status: 404, body: { message: '404 Not Found (not modelled by the double)' } };
        } else {
          const params = Object.fromEntries(
            match.c.names.map((name, i) => [name, decodeURIComponent(match.m?.[i + 1] ?? '')]),
          );
          reply = match.c.route.handle({ params, query: call.query, body, origin });
        }
      }
      call.status = reply.status;
      call.response = reply.body;
      const delay = delays.find((d) => d.remaining > 0 && matches(d, call));
      if (delay) {
        delay.remaining--;
        await (typeof delay.until === 'number'
          ? new Promise((resolve) => setTimeout(resolve, delay.until as number))
          : delay.until.catch(() => undefined));
      }
      send(res, reply);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    calls,
    unhandled,
    failNext(match, reply, count = 1) {
      faults.push({ ...match, reply, remaining: count });
    },
    delayNext(match, until, count = 1) {
      delays.push({ ...match, until, remaining: count });
    },
    gate(match, count, timeoutMs = 30_000) {
      const gate = {
        ...match,
        remaining: count,
        waiting: [] as Array<() => void>,
        timer: setTimeout(() => {
          gate.remaining = 0;
          for (const release of gate.waiting.splice(0)) release();
        }, timeoutMs),
      };
      gates.push(gate);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const gate of gates) clearTimeout(gate.timer);
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
