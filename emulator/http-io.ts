/**
 * The emulator's HTTP plumbing, independent of what it serves: reading a request body within a
 * limit, parsing it, refusing malformed paths, writing a JSON reply or a problem.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reply } from './api.js';
import { Problem, problemBody } from './problem.js';

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * An oversized body is read on (and thrown away) up to this many bytes so that the client, which
 * usually sends its whole body before reading the answer, gets the 413 instead of a reset; a
 * client sending even more is cut off.
 */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

/** The client closed the connection before its request was complete: nobody is left to answer. */
export class ClientAborted extends Error {
  override name = 'ClientAborted';
}

/**
 * The request body as text. Rejects with a 413 Problem once the whole body has arrived when it is
 * larger than MAX_BODY_BYTES (its bytes beyond that are not kept), and with ClientAborted when the
 * client goes away first.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const tooLarge = () =>
      new Problem(413, `Request body exceeds the limit of ${MAX_BODY_BYTES} bytes (1 MiB).`);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_DISCARD_BYTES) {
        reject(tooLarge());
        req.destroy();
      }
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(tooLarge());
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => reject(new ClientAborted('the client closed the connection')));
    req.on('close', () => {
      if (!req.complete) reject(new ClientAborted('the client closed the connection'));
    });
  });
}

/** Whether a path holds a `%` escape that is not `%` and two hex digits, or escapes bytes that are not UTF-8. */
export function malformedEscape(path: string): boolean {
  try {
    decodeURI(path);
    return false;
  } catch {
    return true;
  }
}

/** The body as JSON (undefined when blank); a 400 Problem when it is not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Problem(400, 'Invalid request body: not valid JSON.');
  }
}

/** Writes a reply: JSON with its length, or an empty body. */
export function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body === undefined) {
    res.writeHead(reply.status, { ...headers, 'content-length': '0' }).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res
    .writeHead(reply.status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

/** A thrown Problem as its envelope; anything else is the emulator's own bug: a 500, logged. */
export function problemReply(error: unknown): Reply {
  if (error instanceof Problem)
    return { status: error.status, body: problemBody(error.status, error.detail), headers: error.headers };
  console.error('emulator: internal error', error);
  return {
    status: 500,
    body: problemBody(500, `Emulator error: ${(error as Error).message ?? String(error)}`),
  };
}
