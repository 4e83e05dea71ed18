/**
 * The emulator's HTTP server lifecycle: listen on 127.0.0.1 (never another interface: the
 * `/_emulator/` controls have no auth), and close with every open connection.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { problemReply, send } from './http-io.js';

export interface Listening {
  port: number;
  /** Stops listening and cuts every open connection (keep-alive and streams included). */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` (0: a free one); a handler's stray rejection becomes a problem reply. */
export async function listen(
  port: number,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Listening> {
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, problemReply(error));
    });
  });
  server.keepAliveTimeout = 5_000;
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
