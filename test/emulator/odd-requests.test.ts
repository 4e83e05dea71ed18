/**
 * The emulator under odd requests: malformed percent-escapes, oversized
 * bodies, clients that go away, and sign-in credentials that must expire. Every refusal is the
 * API's problem envelope; nothing is logged as an internal error; the emulator keeps serving.
 */
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handleAuthService } from '../../emulator/auth-service.js';
import { systemClock, type RunningEmulator } from '../../emulator/index.js';
import { anyString, api, call, matching, sleep, startFast } from './helpers.js';

const SEED = 20261129;
const MIB = 1024 * 1024;

interface RawAnswer {
  status: number;
  body: unknown;
  headers: http.IncomingHttpHeaders;
}

/** A request with the path sent byte for byte (fetch's URL parser could normalise it). */
function raw(
  emulator: { port: number },
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: emulator.port,
        method,
        path,
        agent: false,
        headers: {
          authorization: 'Bearer csdemo-token-0123456789abcdef',
          // Node's client frames a DELETE body only with an explicit length
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const problem = (status: number): unknown => ({
  status,
  title: anyString(),
  detail: anyString(),
  traceId: matching(/^[0-9a-f]{32}$/),
});

let emulator: RunningEmulator;
let clockOffset = 0;
const errors = vi.spyOn(console, 'error');

beforeAll(async () => {
  // Real time moved on by `clockOffset`: expiry is tested by jumping, everything else runs as usual.
  emulator = await startFast({
    clock: { now: () => Date.now() + clockOffset, sleep: (ms) => systemClock.sleep(ms) },
  });
});
afterAll(() => emulator.close());
afterEach(() => {
  // nothing in this file is an internal error of the emulator
  expect(errors).not.toHaveBeenCalled();
  errors.mockClear();
});

describe('malformed percent-escapes in the path', () => {
  it.each([
    ['/api/workspaces/%zz', 'not hex'],
    ['/api/workspaces/%E0%A4%A', 'a cut-off UTF-8 sequence'],
    ['/api/teams/%', 'a lone %'],
    ['/api/workspaces/%C0%AF', 'an overlong UTF-8 encoding'],
    ['/_emulator/workspaces/%zz', 'the emulator controls'],
  ])('%s (%s): 400 with the problem envelope, not a 500', async (path) => {
    const answer = await raw(emulator, 'GET', path);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(problem(400));
    expect((answer.body as { detail: string }).detail).toContain('percent-escape');
  });

  it('is logged as a 400 without a contract violation, and a well-formed escape still routes', async () => {
    await raw(emulator, 'DELETE', '/api/workspaces/%zz');
    const entry = emulator.requestLog().at(-1);
    expect(entry).toMatchObject({ method: 'DELETE', path: '/api/workspaces/%zz', status: 400 });
    expect(entry?.violations).toBeUndefined();
    expect((await raw(emulator, 'GET', '/api/teams/%31%30%31')).status).toBe(200); // "101"
  });

  it('property: no path the client sends makes the emulator answer 500', async () => {
    const segment = fc.oneof(
      fc.constantFrom('workspaces', 'teams', '101', '60001', 'status', 'pipeline', 'prepare', 'env-vars'),
      fc.stringMatching(/^(%[0-9A-Fa-fG-Zg-z%]{0,2}|[A-Za-z0-9._~-]){1,6}$/),
    );
    const paths = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/api/${parts.join('/')}`);
    await fc.assert(
      fc.asyncProperty(paths, fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE'), async (path, method) => {
        const answer = await raw(emulator, method, path, method === 'GET' ? undefined : '{}', {
          'content-type': 'application/json',
        });
        expect(answer.status, `${method} ${path}`).toBeLessThan(500);
        if (answer.status >= 400) expect(answer.body).toEqual(problem(answer.status));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('ids beyond the safe integers', () => {
  it.each(['/api/workspaces/99999999999999999999999', '/api/workspaces/team/9007199254740993'])(
    '%s: 400 naming the parameter, never another id it rounds to',
    async (path) => {
      const answer = await raw(emulator, 'GET', path);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(problem(400));
      expect((answer.body as { detail: string }).detail).toMatch(
        /Invalid path parameter (workspaceId|teamId)/,
      );
    },
  );
});

describe('odd Authorization headers', () => {
  it.each([
    ['Basic', 'Basic csdemo-token-0123456789abcdef'],
    ['two tokens', 'Bearer csdemo-token-0123456789abcdef extra'],
    ['a scheme without token', 'Bearer'],
  ])('%s: 401 that says the header is malformed (not "missing"), without echoing it', async (_, header) => {
    const answer = await raw(emulator, 'GET', '/api/teams', undefined, { authorization: header });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual(problem(401));
    const { detail } = answer.body as { detail: string };
    expect(detail).not.toContain('Missing');
    expect(detail).toContain('Bearer <API token>');
    expect(detail).not.toContain('csdemo-token');
  });
});

describe('bodies over 1 MiB', () => {
  it('POST /workspaces with 2 MiB: 413 with the problem envelope, not a reset connection', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(2 * MIB) });
    const answer = await call(emulator, 'POST', '/api/workspaces', { rawBody: body });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(problem(413));
    expect((answer.body as { detail: string }).detail).toContain('1048576 bytes');
    expect(emulator.requestLog().at(-1)).toMatchObject({ path: '/api/workspaces', status: 413 });
    expect(emulator.state().workspaces.some((w) => w.name.startsWith('xxx'))).toBe(false);
  });

  it('exactly 1 MiB is read (then judged as a body), 1 MiB + 1 byte is refused', async () => {
    const padded = (size: number) => {
      const head = '{"teamId":101,"name":"';
      return `${head}${'y'.repeat(size - head.length - 2)}"}`;
    };
    const atLimit = await raw(emulator, 'POST', '/api/workspaces', padded(MIB), {
      'content-type': 'application/json',
    });
    expect(atLimit.status).toBe(400);
    const over = await raw(emulator, 'POST', '/api/workspaces', padded(MIB + 1), {
      'content-type': 'application/json',
    });
    expect(over.status).toBe(413);
    expect(over.body).toEqual(problem(413));
  });

  it('the emulator controls and the sign-in service answer 413 too, and serving goes on', async () => {
    const big = Buffer.alloc(3 * MIB, 0x20);
    expect((await raw(emulator, 'POST', '/_emulator/faults', big)).status).toBe(413);
    const signIn = await raw(emulator, 'POST', '/auth-service/signIn', big);
    expect(signIn.status).toBe(413);
    expect(signIn.body).toEqual(problem(413));
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });
});

describe('clients that go away', () => {
  const abortAfter = (path: string, write: string, contentLength: number, afterMs: number) =>
    new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: emulator.port,
        method: 'POST',
        path,
        agent: false,
        headers: {
          authorization: 'Bearer csdemo-token-0123456789abcdef',
          'content-type': 'application/json',
          'content-length': String(contentLength),
        },
      });
      req.on('error', () => resolve());
      req.write(write);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, afterMs);
    });

  it('a client aborting mid-body is logged as aborted (status 0), not as an internal error', async () => {
    await abortAfter('/api/workspaces', '{"teamId": 1', 1000, 30);
    await sleep(100);
    expect(emulator.requestLog().at(-1)).toMatchObject({ path: '/api/workspaces', status: 0, aborted: true });
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });

  it('a client aborting while the answer is delayed leaves no error either', async () => {
    emulator.setTiming({ latencyMs: 150 });
    try {
      await abortAfter('/api/workspaces/60001/status', '', 0, 30);
      await sleep(300);
    } finally {
      emulator.setTiming({ latencyMs: 0 });
    }
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });
});

describe('sign-in credentials expire', () => {
  const signIn = async () => {
    const session = await call<{ data: { sessionId: string } }>(emulator, 'POST', '/auth-service/signIn', {
      token: null,
      body: { email: 'demo@example.com', password: 'demo-password' },
    });
    const token = await call<{ data: { accessToken: string } }>(
      emulator,
      'POST',
      '/auth-service/genAccessToken',
      { token: null, body: { id: session.body.data.sessionId } },
    );
    return { sessionId: session.body.data.sessionId, accessToken: token.body.data.accessToken };
  };

  it('an access token works until accessTokenTtlMs has passed, then 401 and it is gone', async () => {
    const { accessToken } = await signIn();
    expect((await api(emulator, 'GET', '/teams', { token: accessToken })).status).toBe(200);
    clockOffset += emulator.world.timing.accessTokenTtlMs - 1000;
    expect((await api(emulator, 'GET', '/teams', { token: accessToken })).status).toBe(200);
    clockOffset += 1000;
    const expired = await api(emulator, 'GET', '/teams', { token: accessToken });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual(problem(401));
    expect(emulator.state().signIns).toEqual({ sessions: 0, accessTokens: 0 });
    // API tokens from the seed never expire
    expect((await api(emulator, 'GET', '/teams')).status).toBe(200);
  });

  it('a session turns into an access token only within sessionTtlMs', async () => {
    const session = await call<{ data: { sessionId: string } }>(emulator, 'POST', '/auth-service/signIn', {
      token: null,
      body: { email: 'demo@example.com', password: 'demo-password' },
    });
    clockOffset += emulator.world.timing.sessionTtlMs;
    const late = await call<{ code: string; errName: string }>(
      emulator,
      'POST',
      '/auth-service/genAccessToken',
      {
        token: null,
        body: { id: session.body.data.sessionId },
      },
    );
    expect(late.body).toMatchObject({ code: 'Error', errName: 'InvalidSession' });
  });

  it('2,000 sign-ins hold only the credentials still valid: expired ones are purged', () => {
    const world = emulator.world;
    world.signIns.purge();
    const before = { sessions: world.signIns.sessions.size, accessTokens: world.signIns.accessTokens.size };
    for (let i = 0; i < 2000; i++) {
      const session = handleAuthService(world, '/auth-service/signIn', {
        email: 'demo@example.com',
        password: 'demo-password',
      }).body as { data: { sessionId: string } };
      handleAuthService(world, '/auth-service/genAccessToken', { id: session.data.sessionId });
    }
    expect(world.signIns.accessTokens.size).toBe(before.accessTokens + 2000);
    clockOffset += world.timing.accessTokenTtlMs;
    // the next sign-in purges everything issued an hour ago: one session and one token remain
    const session = handleAuthService(world, '/auth-service/signIn', {
      email: 'demo@example.com',
      password: 'demo-password',
    }).body as { data: { sessionId: string } };
    handleAuthService(world, '/auth-service/genAccessToken', { id: session.data.sessionId });
    expect({ sessions: world.signIns.sessions.size, accessTokens: world.signIns.accessTokens.size }).toEqual({
      sessions: 1,
      accessTokens: 1,
    });
  });

  it('the lifetimes are timing: PATCH /_emulator/timing shortens them for tokens already issued', async () => {
    const { accessToken } = await signIn();
    const patched = await call(emulator, 'PATCH', '/_emulator/timing', { body: { accessTokenTtlMs: 0 } });
    expect(patched.status).toBe(200);
    try {
      expect((await api(emulator, 'GET', '/teams', { token: accessToken })).status).toBe(401);
    } finally {
      await call(emulator, 'PATCH', '/_emulator/timing', { body: { accessTokenTtlMs: 3_600_000 } });
    }
  });
});
