/**
 * A proxy in front of the emulator that answers chosen requests its own way: a proxy's error
 * page, a response value of the wrong format, a log stream of its own making, a redirect. Every
 * other request is passed through as it is, streamed (log streams included). Records the
 * Authorization header's presence per request (never its value).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  /** The Host header: which origin the client meant. */
  host: string;
  path: string;
  authorized: boolean;
}

export interface TamperRule {
  method?: string;
  path: RegExp;
  /** How many matching requests it answers (default: all). */
  count?: number;
  /**
   * Answers the request; `upstream` fetches the emulator's answer (buffered) for rewriting.
   * `origin` is the proxy's own, for redirects.
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: { upstream: () => Promise<{ status: number; body: string }>; origin: string },
  ): void | Promise<void>;
}

export interface TamperProxy {
  url: string;
  seen: Seen[];
  rules: TamperRule[];
  close(): Promise<void>;
}

export async function startTamperProxy(target: string, rules: TamperRule[] = []): Promise<TamperProxy> {
  const seen: Seen[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const proxy: TamperProxy = { url: '', seen, rules, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push({
      method: req.method ?? 'GET',
      host: req.headers.host ?? '',
      path,
      authorized: req.headers.authorization !== undefined,
    });
    const rule = proxy.rules.find(
      (r) => (r.count ?? 1) > 0 && r.path.test(path) && (!r.method || r.method === req.method),
    );
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = (onResponse: (upstream: IncomingMessage) => void) => {
        const headers = { ...req.headers, host: new URL(target).host };
        const out = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers }, onResponse);
        out.on('error', () => res.destroy());
        out.end(body);
      };
      if (!rule) {
        forward((upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
          res.on('close', () => upstream.destroy());
        });
        return;
      }
      if (rule.count !== undefined) rule.count--;
      const upstream = () =>
        new Promise<{ status: number; body: string }>((resolve) =>
          forward((answer) => {
            let text = '';
            answer.setEncoding('utf8').on('data', (c: string) => (text += c));
            answer.on('end', () => resolve({ status: answer.statusCode ?? 502, body: text }));
          }),
        );
      void Promise.resolve(rule.handle(req, res, { upstream, origin: proxy.url })).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}

/** An SSE `data` event of the log operations with these lines as entries. */
export function logEvent(lines: string[]): string {
  const entries = lines.map((data) => ({ timestamp: '2026-12-06T10:00:00.000Z', kind: 'I', data }));
  return `event: data\ndata: ${JSON.stringify(entries)}\n\n`;
}
