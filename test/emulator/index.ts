/**
 * The local Codesphere emulator: Public API under `/api`, the sign-in service under
 * `/auth-service`, inspection/faults/VPN administration under `/_emulator`. See README.md.
 *
 *   const emulator = await startEmulator({ timing: { provisioningMs: 50, stageMs: 30 } });
 *   // emulator.url is the apiUrl; the Public API is `${emulator.url}/api`
 *   await emulator.close();
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chooseDriver, type DriverChoice } from './driver-choice.js';
import { createAdminRouter, inspectState, type RequestLogEntry } from './admin.js';
import { createApiRouter, type Reply } from './api.js';
import { handleAuthService } from './auth-service.js';
import { FaultBook, type FaultInput } from './faults.js';
import { Problem, problemBody } from './problem.js';
import { loadSeed, timingPatchSchema, timingSchema, type Seed, type SeedInput, type Timing } from './seed.js';
import { World } from './state.js';
import type { TunnelDriver } from './tunnels/driver.js';
import { createSimulatedDriver } from './tunnels/simulated.js';

export type { Seed, SeedInput, Timing } from './seed.js';
export type { RequestLogEntry } from './admin.js';
export type { FaultInput } from './faults.js';
export { World } from './state.js';
export type { DriverChoice } from './driver-choice.js';

export type ContractMode = 'record' | 'off';

export interface EmulatorOptions {
  /** Path to a YAML seed, or a seed object; default test/emulator/seeds/default.yaml (or $EMULATOR_SEED). */
  seed?: string | SeedInput;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 'simulated'. */
  driver?: DriverChoice;
  /** Overrides the seed's latencies, e.g. { provisioningMs: 50, stageMs: 30 }. */
  timing?: Partial<Timing>;
  /**
   * 'record' validates every /api exchange against ../shared/codesphere-openapi.json and records
   * violations in the request log (GET /_emulator/contract-violations). Default: 'record' under
   * vitest when the spec exists, else 'off'; $EMULATOR_CONTRACT (record|off) overrides.
   */
  contract?: ContractMode;
  /** Where notices (the strongSwan fallback, tunnel driver failures) go; default console.warn. */
  notice?: (message: string) => void;
  /**
   * The world's clock (epoch ms) for provisioning, stages and sign-in expiry; default Date.now.
   * A test passes `() => Date.now() + offset` and moves `offset` to advance time without waiting.
   */
  clock?: () => number;
}

export interface RunningEmulator {
  /** The apiUrl, e.g. http://127.0.0.1:3170 (Public API at `${url}/api`). */
  url: string;
  port: number;
  /** The demo user's API token (first token of the seed's first user). */
  apiToken: string;
  /** Live state; replaced on reset, so read it through this getter each time. */
  readonly world: World;
  readonly driver: TunnelDriver;
  readonly faults: FaultBook;
  readonly contract: ContractMode;
  /** Arms a fault for the next matching request(s); same as POST /_emulator/faults. */
  arm(fault: FaultInput): void;
  setTiming(timing: Partial<Timing>): Timing;
  /** What GET /_emulator/state returns. */
  state(): ReturnType<typeof inspectState>;
  requestLog(): RequestLogEntry[];
  contractViolations(): RequestLogEntry[];
  /** Back to the seed: workspaces, tunnels, faults, request log and timing. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
/**
 * An oversized body is read on (and thrown away) up to this many bytes so that the client, which
 * usually sends its whole body before reading the answer, gets the 413 instead of a reset; a
 * client sending even more is cut off.
 */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;
const MAX_LOG_ENTRIES = 10_000;

/** The client closed the connection before its request was complete: nobody is left to answer. */
class ClientAborted extends Error {
  override name = 'ClientAborted';
}

type Validator = (exchange: {
  method: string;
  path: string;
  status: number;
  requestBody?: unknown;
  responseBody?: unknown;
}) => string[];

async function loadContractValidator(
  mode: ContractMode | undefined,
): Promise<{ mode: ContractMode; validate?: Validator }> {
  const fromEnv = process.env.EMULATOR_CONTRACT;
  const wanted: ContractMode | 'default' =
    mode ?? (fromEnv === 'record' || fromEnv === 'off' ? fromEnv : 'default');
  if (wanted === 'off') return { mode: 'off' };
  const contract = await import('../contract/openapi.js');
  if (!contract.specAvailable) {
    if (wanted === 'record') throw new Error(contract.specMissingNotice);
    return { mode: 'off' };
  }
  if (wanted === 'default' && !process.env.VITEST) return { mode: 'off' };
  return { mode: 'record', validate: contract.validateExchange };
}

/**
 * The request body as text. Rejects with a 413 Problem once the whole body has arrived when it is
 * larger than MAX_BODY_BYTES (its bytes beyond that are not kept), and with ClientAborted when the
 * client goes away first.
 */
function readBody(req: IncomingMessage): Promise<string> {
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
function malformedEscape(path: string): boolean {
  try {
    decodeURI(path);
    return false;
  } catch {
    return true;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Problem(400, 'Invalid request body: not valid JSON.');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const notice = options.notice ?? ((message: string) => console.warn(message));
  const seed: Seed = loadSeed(options.seed ?? process.env.EMULATOR_SEED ?? undefined);
  const baseTiming = (): Timing => timingSchema.parse({ ...seed.timing, ...options.timing });
  const timing: Timing = baseTiming();
  const driver = await chooseDriver(
    options.driver ?? 'simulated',
    seed.gateways,
    () => createSimulatedDriver(() => timing),
    notice,
  );
  const contract = await loadContractValidator(options.contract);
  const faults = new FaultBook();
  const apiRouter = createApiRouter();
  const adminRouter = createAdminRouter();
  let log: RequestLogEntry[] = [];
  let seq = 0;

  const newWorld = () => {
    const created = new World(seed, timing, driver, notice, options.clock ?? Date.now);
    seedWorkspaces(created);
    return created;
  };
  let world = newWorld();

  const setTiming = (patch: Partial<Timing>): Timing => Object.assign(timing, timingPatchSchema.parse(patch));
  const reset = async () => {
    await world.settle();
    for (const id of world.workspaces.keys()) await driver.disconnect(id);
    faults.clear();
    log = [];
    Object.assign(timing, baseTiming());
    world = newWorld();
  };
  const adminContext = {
    world: () => world,
    faults,
    log: () => log,
    clearLog: () => {
      log = [];
    },
    setTiming,
    reset,
    contractMode: () => contract.mode,
  };

  function record(entry: Omit<RequestLogEntry, 'seq' | 'at'>, started: number): void {
    log.push({ seq: ++seq, at: new Date(started).toISOString(), ...entry });
    if (log.length > MAX_LOG_ENTRIES) log.splice(0, log.length - MAX_LOG_ENTRIES);
  }

  function send(res: ServerResponse, reply: Reply): void {
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

  function problemReply(error: unknown): Reply {
    if (error instanceof Problem)
      return { status: error.status, body: problemBody(error.status, error.detail), headers: error.headers };
    console.error('emulator: internal error', error);
    return {
      status: 500,
      body: problemBody(500, `Emulator error: ${(error as Error).message ?? String(error)}`),
    };
  }

  async function handleApi(
    method: string,
    path: string,
    rawBody: string,
    req: IncomingMessage,
  ): Promise<{ reply: Reply; requestBody: unknown }> {
    let requestBody: unknown;
    try {
      const auth = req.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      const userId =
        token === undefined
          ? undefined
          : (world.tokens.get(token) ?? world.signIns.accessTokens.userFor(token));
      if (userId === undefined) {
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
      requestBody = parseJson(rawBody);
      const match = apiRouter.match(method, path.slice('/api'.length));
      if (!match) throw new Problem(404, `No such operation: ${method} ${path}`);
      if ('allowed' in match)
        throw new Problem(
          405,
          `${method} is not supported on ${path} (supported: ${match.allowed.join(', ')}).`,
        );
      const reply = await match.handler({
        world,
        liveWorld: () => world,
        userId,
        params: match.params,
        body: requestBody,
      });
      return { reply, requestBody };
    } catch (error) {
      return { reply: problemReply(error), requestBody };
    }
  }

  async function handleAdmin(method: string, path: string, rawBody: string): Promise<Reply> {
    try {
      const match = adminRouter.match(method, path);
      if (!match)
        throw new Problem(404, `No such emulator endpoint: ${method} ${path} (see test/emulator/README.md).`);
      if ('allowed' in match)
        throw new Problem(
          405,
          `${method} is not supported on ${path} (supported: ${match.allowed.join(', ')}).`,
        );
      return await match.handler({ ctx: adminContext, params: match.params, body: parseJson(rawBody) });
    } catch (error) {
      return problemReply(error);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const fullPath = req.url ?? '/';
    const path = fullPath.split('?')[0] ?? '/';
    const logged = (status: number, extra: Partial<RequestLogEntry> = {}) =>
      record({ method, path: fullPath, status, durationMs: Date.now() - started, ...extra }, started);
    if (malformedEscape(path)) {
      // Refused before routing: the path names no operation, so there is no contract to check.
      send(res, {
        status: 400,
        body: problemBody(
          400,
          'Malformed percent-escape in the request path: every % must start %XX (two hex digits) and the escaped bytes must be UTF-8.',
        ),
      });
      logged(400);
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
      send(res, await handleAdmin(method, path, rawBody));
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
    const decision = faults.take(method, path);
    const outcome = decision.outcome;
    const faultName = decision.applied.map((f) => f.kind).join('+') || undefined;
    const entry = (status: number, extra: Partial<RequestLogEntry> = {}) =>
      record(
        {
          method,
          path: fullPath,
          status,
          durationMs: Date.now() - started,
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
    const delay = timing.latencyMs + decision.latencyMs;
    if (delay > 0) await sleep(delay);
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

    let reply: Reply;
    let requestBody: unknown;
    if (isAuth) {
      // The sign-in service takes JSON whatever the content type says (the official client sends text/plain).
      try {
        requestBody = rawBody.trim() ? (JSON.parse(rawBody) as unknown) : undefined;
      } catch {
        requestBody = undefined;
      }
      reply =
        method === 'POST'
          ? handleAuthService(world, path, requestBody)
          : { status: 405, body: { code: 'Error', errName: 'MethodNotAllowed', errMessage: 'Use POST.' } };
    } else {
      ({ reply, requestBody } = await handleApi(method, path, rawBody, req));
    }
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
      const violations =
        contract.validate?.({ method, path, status: 200, requestBody, responseBody: events }) ?? [];
      entry(200, violations.length > 0 ? { violations } : {});
      return;
    }
    send(res, reply);
    const violations =
      isApi && contract.validate
        ? contract.validate({ method, path, status: reply.status, requestBody, responseBody: reply.body })
        : [];
    entry(reply.status, violations.length > 0 ? { violations } : {});
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, problemReply(error));
    });
  });
  server.keepAliveTimeout = 5_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}`;
  const apiToken = seed.users[0]?.apiTokens[0] ?? '';
  let closed = false;

  return {
    url,
    port,
    apiToken,
    get world() {
      return world;
    },
    driver,
    faults,
    contract: contract.mode,
    arm: (fault) => {
      faults.arm(fault);
    },
    setTiming,
    state: () => inspectState(world, faults),
    requestLog: () => [...log],
    contractViolations: () => log.filter((e) => e.violations?.length),
    reset,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await world.settle();
      await driver.close();
    },
  };
}

/** Workspaces declared in the seed (e.g. stale previews for prune tests), created as the API would. */
function seedWorkspaces(world: World): void {
  const now = world.now();
  for (const spec of world.seed.workspaces) {
    const team = [...world.teams.values()].find((t) => t.name === spec.team);
    if (!team) continue;
    const owner =
      world.seed.users.find((u) => u.email === spec.owner) ??
      world.seed.users.find((u) => team.members.has(u.id));
    const branch = spec.gitUrl ? (spec.branch ?? 'main') : null;
    const workspace = {
      id: world.nextWorkspaceId++,
      teamId: team.id,
      name: spec.name,
      planId: spec.planId,
      isPrivateRepo: false,
      replicas: spec.replicas,
      dataCenterId: team.defaultDataCenterId,
      userId: owner?.id ?? 0,
      gitUrl: spec.gitUrl ?? null,
      initialBranch: spec.branch ?? null,
      sourceWorkspaceId: null,
      welcomeMessage: null,
      vpnConfig: spec.vpnConfig ?? null,
      restricted: false,
      collectTraces: false,
      persistentLogs: false,
      createdAt: new Date(now).toISOString(),
      // A seeded 'running' workspace started provisioning long ago.
      provisioningFrom: spec.running ? 0 : now,
      env: new Map<string, string>(),
      git: spec.gitUrl && branch ? { branch, commit: world.remoteHead(spec.gitUrl, branch) } : null,
      pipeline: {},
      failStages: new Set<never>(),
      landscapeDeployed: false,
    };
    world.workspaces.set(workspace.id, workspace);
    world.connectVpn(workspace, false);
  }
}
