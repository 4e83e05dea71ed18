/**
 * One request, from arrival to answer: the path check, the route to the Public API, the sign-in
 * service or `/_emulator/`, the armed faults and latency (waited on the emulator's clock), bearer
 * auth, the handler, the request log entry and the contract check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminContext, RequestLogEntry } from './admin.js';
import { createAdminRouter } from './admin.js';
import { createApiRouter, type Reply } from './api.js';
import { handleAuthService } from './auth-service.js';
import type { Clock } from './clock.js';
import type { FaultBook } from './faults.js';
import { ClientAborted, malformedEscape, parseJson, problemReply, readBody, send } from './http-io.js';
import { Problem, problemBody } from './problem.js';
import type { RequestLog } from './recording.js';
import type { Timing } from './seed.js';
import type { World } from './state.js';

export interface DispatchContext {
  /** The live world (a reset replaces it). */
  world: () => World;
  faults: FaultBook;
  log: RequestLog;
  timing: Timing;
  clock: Clock;
  admin: AdminContext;
}

const apiRouter = createApiRouter();
const adminRouter = createAdminRouter();

/** The user of the request's bearer token, or a 401 Problem saying what is wrong (never echoing it). */
function authenticate(world: World, req: IncomingMessage): number {
  const auth = req.headers.authorization ?? '';
  const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
  const userId =
    token === undefined ? undefined : (world.tokens.get(token) ?? world.signIns.accessTokens.userFor(token));
  if (userId !== undefined) return userId;
  throw new Problem(
    401,
    // the header's text is never echoed: it may hold a token
    auth === ''
      ? 'Missing Authorization: Bearer <API token> header.'
      : token === undefined
        ? 'The Authorization header is not "Bearer <API token>" (the Bearer scheme and one token).'
        : 'The API token is invalid or expired.',
  );
}

function notAllowed(method: string, path: string, allowed: string[]): Problem {
  return new Problem(405, `${method} is not supported on ${path} (supported: ${allowed.join(', ')}).`);
}

async function handleApi(
  ctx: DispatchContext,
  method: string,
  path: string,
  rawBody: string,
  req: IncomingMessage,
): Promise<{ reply: Reply; requestBody: unknown }> {
  let requestBody: unknown;
  try {
    const world = ctx.world();
    const userId = authenticate(world, req);
    requestBody = parseJson(rawBody);
    const match = apiRouter.match(method, path.slice('/api'.length));
    if (!match) throw new Problem(404, `No such operation: ${method} ${path}`);
    if ('allowed' in match) throw notAllowed(method, path, match.allowed);
    const reply = await match.handler({
      world,
      liveWorld: ctx.world,
      userId,
      params: match.params,
      body: requestBody,
    });
    return { reply, requestBody };
  } catch (error) {
    return { reply: problemReply(error), requestBody };
  }
}

async function handleAdmin(
  ctx: DispatchContext,
  method: string,
  path: string,
  rawBody: string,
): Promise<Reply> {
  try {
    const match = adminRouter.match(method, path);
    if (!match)
      throw new Problem(404, `No such emulator endpoint: ${method} ${path} (see emulator/README.md).`);
    if ('allowed' in match) throw notAllowed(method, path, match.allowed);
    return await match.handler({ ctx: ctx.admin, params: match.params, body: parseJson(rawBody) });
  } catch (error) {
    return problemReply(error);
  }
}

/** The sign-in service takes JSON whatever the content type says (the official client sends text/plain). */
function handleAuth(world: World, method: string, path: string, rawBody: string) {
  let requestBody: unknown;
  try {
    requestBody = rawBody.trim() ? (JSON.parse(rawBody) as unknown) : undefined;
  } catch {
    requestBody = undefined;
  }
  const reply: Reply =
    method === 'POST'
      ? handleAuthService(world, path, requestBody)
      : { status: 405, body: { code: 'Error', errName: 'MethodNotAllowed', errMessage: 'Use POST.' } };
  return { reply, requestBody };
}

/** Answers one request (never throws for a request's sake: errors become problems). */
export async function dispatch(
  ctx: DispatchContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { clock, log } = ctx;
  const started = clock.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const fullPath = req.url ?? '/';
  const path = fullPath.split('?')[0] ?? '/';
  if (malformedEscape(path)) {
    // Refused before routing: the path names no operation, so there is no contract to check.
    send(res, {
      status: 400,
      body: problemBody(
        400,
        'Malformed percent-escape in the request path: every % must start %XX (two hex digits) and the escaped bytes must be UTF-8.',
      ),
    });
    log.record({ method, path: fullPath, status: 400, durationMs: clock.now() - started }, started);
    return;
  }
  if (path.startsWith('/_emulator/')) {
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (error) {
      if (error instanceof ClientAborted) return;
      send(res, { ...problemReply(error), headers: { connection: 'close' } });
      return;
    }
    send(res, await handleAdmin(ctx, method, path, rawBody));
    return;
  }
  const isApi = path === '/api' || path.startsWith('/api/');
  const isAuth = path.startsWith('/auth-service/');
  if (!isApi && !isAuth) {
    send(res, {
      status: 404,
      body: problemBody(
        404,
        `Not found: ${path}. The Public API is under /api, the emulator's controls under /_emulator/.`,
      ),
    });
    return;
  }
  const decision = ctx.faults.take(method, path);
  const outcome = decision.outcome;
  const faultName = decision.applied.map((f) => f.kind).join('+') || undefined;
  const entry = (status: number, extra: Partial<RequestLogEntry> = {}) =>
    log.record(
      {
        method,
        path: fullPath,
        status,
        durationMs: clock.now() - started,
        ...(faultName ? { fault: faultName } : {}),
        ...extra,
      },
      started,
    );

  let rawBody: string;
  try {
    rawBody = await readBody(req);
  } catch (error) {
    if (error instanceof ClientAborted) {
      entry(0, { aborted: true });
      return;
    }
    // the body was not kept: close the connection rather than guess where the next request starts
    send(res, { ...problemReply(error), headers: { connection: 'close' } });
    entry(413);
    return;
  }
  const delay = ctx.timing.latencyMs + decision.latencyMs;
  if (delay > 0) await clock.sleep(delay);
  if (outcome?.kind === 'drop') {
    res.socket?.destroy();
    entry(0);
    return;
  }
  if (outcome?.kind === 'rate-limit' || outcome?.kind === 'server-error') {
    const status = outcome.kind === 'rate-limit' ? 429 : outcome.status;
    const detail =
      outcome.kind === 'rate-limit'
        ? 'Rate limit exceeded; retry later.'
        : 'The service is temporarily unavailable (injected fault).';
    const headers: Record<string, string> =
      outcome.kind === 'rate-limit' ? { 'retry-after': String(outcome.retryAfterSeconds) } : {};
    send(res, { status, body: problemBody(status, detail), headers });
    entry(status);
    return;
  }

  const { reply, requestBody } = isAuth
    ? handleAuth(ctx.world(), method, path, rawBody)
    : await handleApi(ctx, method, path, rawBody, req);
  if (outcome?.kind === 'lose-response') {
    // The work is done (e.g. the workspace exists) but the client never learns it.
    res.socket?.destroy();
    entry(0);
    return;
  }
  if (reply.stream) {
    // Server-Sent Events (the log operations): validated event by event once the stream ends.
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const events = await reply.stream(res);
    const violations = log.check({ method, path, status: 200, requestBody, responseBody: events });
    entry(200, violations.length > 0 ? { violations } : {});
    return;
  }
  send(res, reply);
  const violations = isApi
    ? log.check({ method, path, status: reply.status, requestBody, responseBody: reply.body })
    : [];
  entry(reply.status, violations.length > 0 ? { violations } : {});
}
