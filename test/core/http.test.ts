/** The HTTP layer against a tiny local server: retries, Retry-After, redirects, parsing, errors. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { HttpClient, parseRetryAfter, type Operation } from '../../shared/codesphere/http.js';
import { ApiError, CodesphereDeployError, RedirectRefusedError } from '../../shared/errors.js';

const TOKEN = 'secret-token-abcdef123456';
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const servers: http.Server[] = [];

async function serve(
  handler: Handler,
  host = '127.0.0.1',
): Promise<{ url: string; hits: IncomingMessage[] }> {
  const hits: IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host === 'localhost' ? '::' : host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, hits };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function client(url: string, sleeps: number[] = [], random = 0.5): HttpClient {
  const c = new HttpClient({
    baseUrl: `${url}/api`,
    userAgent: 'ua-test/1',
    clock: {
      now: () => Date.now(),
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
    random: () => random,
  });
  c.setToken(TOKEN);
  return c;
}

const listTeams: Operation<Array<{ id: number }>> = {
  name: 'listTeams',
  method: 'GET',
  path: '/teams',
  response: z.array(z.object({ id: z.number() })),
  idempotent: true,
};
const createWorkspace: Operation<undefined> = {
  name: 'createWorkspace',
  method: 'POST',
  path: '/workspaces',
  body: { name: 'x' },
  idempotent: false,
};

describe('HttpClient', () => {
  it('sends Bearer auth, the user agent and JSON, and parses the answer', async () => {
    const { url, hits } = await serve((_req, res) => json(res, 200, [{ id: 1, extra: true }]));
    await expect(client(url).call(listTeams)).resolves.toEqual([{ id: 1 }]);
    expect(hits[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(hits[0]?.headers['user-agent']).toBe('ua-test/1');
    expect(hits[0]?.url).toBe('/api/teams');
  });

  it('retries 429 on any call, honouring Retry-After and capping it', async () => {
    let n = 0;
    const { url } = await serve((_req, res) => {
      n++;
      if (n === 1)
        return json(
          res,
          429,
          { status: 429, title: 'Too Many Requests', traceId: 't' },
          { 'retry-after': '2' },
        );
      if (n === 2)
        return json(
          res,
          429,
          { status: 429, title: 'Too Many Requests', traceId: 't' },
          { 'retry-after': '600' },
        );
      res.writeHead(200).end();
    });
    const sleeps: number[] = [];
    await client(url, sleeps).call(createWorkspace);
    expect(n).toBe(3);
    expect(sleeps).toEqual([2000, 30_000]);
  });

  it('retries 5xx on safe calls with jittered exponential backoff, then gives a typed error', async () => {
    const { url, hits } = await serve((_req, res) =>
      json(res, 503, {
        status: 503,
        title: 'Service Unavailable',
        detail: 'maintenance',
        traceId: 'trace-1',
      }),
    );
    const sleeps: number[] = [];
    const err = await client(url, sleeps, 1)
      .call(listTeams)
      .catch((e: unknown) => e);
    expect(hits).toHaveLength(6);
    expect(sleeps).toEqual([250, 500, 1000, 2000, 4000]);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      operation: 'listTeams',
      status: 503,
      title: 'Service Unavailable',
      detail: 'maintenance',
      traceId: 'trace-1',
      kind: 'http',
    });
    expect((err as Error).message).toBe(
      'Codesphere API call listTeams failed (HTTP 503): Service Unavailable: maintenance (traceId trace-1).',
    );
    const lowJitter: number[] = [];
    await client(url, lowJitter, 0)
      .call(listTeams)
      .catch(() => undefined);
    expect(lowJitter).toEqual([125, 250, 500, 1000, 2000]);
  });

  it('never repeats an unsafe call after a 5xx or a lost connection', async () => {
    const { url, hits } = await serve((_req, res) =>
      json(res, 502, { status: 502, title: 'Bad Gateway', traceId: 'x' }),
    );
    await expect(client(url).call(createWorkspace)).rejects.toMatchObject({
      status: 502,
      operation: 'createWorkspace',
    });
    expect(hits).toHaveLength(1);

    const dropped = await serve((req) => req.socket.destroy());
    const err = await client(dropped.url)
      .call(createWorkspace)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network', operation: 'createWorkspace', status: undefined });
    expect(dropped.hits).toHaveLength(1);
  });

  it('retries a dropped connection on a safe call', async () => {
    let n = 0;
    const { url } = await serve((req, res) => {
      if (++n < 3) return req.socket.destroy();
      json(res, 200, [{ id: 5 }]);
    });
    await expect(client(url).call(listTeams)).resolves.toEqual([{ id: 5 }]);
    expect(n).toBe(3);
  });

  it('follows a cross-origin redirect without the Authorization header (307 keeps method and body)', async () => {
    // Another host name (localhost vs 127.0.0.1): credentials follow a redirect to the same origin only.
    const target = await serve(
      (req, res, body) =>
        json(res, 200, [
          { id: req.headers.authorization === `Bearer ${TOKEN}` ? 1 : 0, body, method: req.method },
        ]),
      'localhost',
    );
    const origin = await serve((req, res) =>
      res.writeHead(307, { location: `${target.url}${req.url ?? ''}` }).end(),
    );
    const op: Operation<unknown> = {
      ...listTeams,
      method: 'POST',
      body: { a: 1 },
      response: z.array(z.object({ id: z.number(), body: z.string(), method: z.string() })),
    };
    await expect(client(origin.url).call(op)).resolves.toEqual([{ id: 0, body: '{"a":1}', method: 'POST' }]);
    expect(target.hits[0]?.url).toBe('/api/teams');
  });

  it('keeps the Authorization header across a same-origin redirect', async () => {
    let hops = 0;
    const server = await serve((req, res) => {
      if (req.url === '/api/teams') return res.writeHead(308, { location: '/api/v2/teams' }).end();
      hops++;
      json(res, 200, [{ id: req.headers.authorization === `Bearer ${TOKEN}` ? 1 : 0 }]);
    });
    await expect(
      client(server.url).call({ ...listTeams, response: z.array(z.object({ id: z.number() })) }),
    ).resolves.toEqual([{ id: 1 }]);
    expect(hops).toBe(1);
  });

  it('turns a 303 into a GET, and refuses to follow to plain http outside loopback', async () => {
    const target = await serve((req, res) => json(res, 200, [{ id: req.method === 'GET' ? 1 : 0 }]));
    const see = await serve((_req, res) => res.writeHead(303, { location: `${target.url}/api/teams` }).end());
    await expect(client(see.url).call({ ...listTeams, method: 'POST', body: {} })).resolves.toEqual([
      { id: 1 },
    ]);

    const insecure = await serve((_req, res) =>
      res.writeHead(302, { location: 'http://dc2.example.com/api/teams' }).end(),
    );
    const err = await client(insecure.url)
      .call(listTeams)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectRefusedError);
    expect((err as Error).message).toContain('redirected to an insecure location (http://dc2.example.com)');
  });

  it('a refused redirect is its own kind, names only the target origin, and carries no secret', async () => {
    // The target's user info, path and query hold secrets; the request carried the Bearer token.
    const leaky = `http://user:pw-${TOKEN}@dc2.example.com:8080/api/teams?token=${TOKEN}#${TOKEN}`;
    const insecure = await serve((_req, res) => res.writeHead(308, { location: leaky }).end());
    const err = await client(insecure.url)
      .call(listTeams)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectRefusedError);
    expect(err).toBeInstanceOf(CodesphereDeployError);
    expect(err).not.toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      name: 'RedirectRefusedError',
      operation: 'listTeams',
      status: 308,
      target: 'http://dc2.example.com:8080',
      refusal: 'insecure',
    });
    const everything = JSON.stringify({
      ...(err as object),
      message: (err as Error).message,
      stack: (err as Error).stack,
      cause: String((err as Error).cause),
    });
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toMatch(/authorization|bearer|pw-/i);

    // A redirect loop: refused after the hop limit, the same kind.
    const loop = await serve((req, res) => res.writeHead(302, { location: req.url ?? '/' }).end());
    const looped = await client(loop.url)
      .call(listTeams)
      .catch((e: unknown) => e);
    expect(looped).toBeInstanceOf(RedirectRefusedError);
    expect(looped).toMatchObject({ refusal: 'too-many', status: 302 });
    expect(loop.hits).toHaveLength(6);
  });

  it('names the operation and shows the body when a response breaks the contract', async () => {
    const { url } = await serve((_req, res) => json(res, 200, [{ id: 'one', token: TOKEN }]));
    const err = await client(url)
      .call(listTeams)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'response', operation: 'listTeams', status: 200 });
    expect((err as Error).message).toContain('listTeams returned a response this tool does not understand');
    expect((err as Error).message).toContain('0.id');
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('reports a non-JSON error page and carries no headers or tokens', async () => {
    const { url } = await serve((_req, res) =>
      res.writeHead(500, { 'content-type': 'text/html' }).end(`<html>oops ${TOKEN}</html>`),
    );
    const err = await client(url)
      .call(createWorkspace)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const everything = JSON.stringify({
      ...(err as object),
      message: (err as Error).message,
      stack: (err as Error).stack,
    });
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toMatch(/authorization/i);
    expect((err as ApiError).detail).toContain('<html>oops ***</html>');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
