/**
 * The job's time budget (timeoutSeconds / TIMEOUT) bounds the HTTP layer: Retry-After, slow and
 * silent APIs, and the create itself. The emulator and the job share one VirtualClock (request
 * timeouts included), so a 35 s latency or an 8 s budget passes in virtual time and the elapsed
 * time asserted is the job's own. The silent server runs on real time with a 1 s budget: there the
 * HTTP client's real timer is what is under test.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { deploy, systemClock, type Clock } from '../../shared/index.js';
import { decideRetry, DEFAULT_RETRY } from '../../shared/codesphere/retry.js';
import { ApiError } from '../../shared/errors.js';
import { VirtualClock } from '../../emulator/index.js';
import { baseInput, onVirtualTime, RecordingReporter, useEmulator, workspacesNamed } from './helpers.js';

const clock = new VirtualClock();
const ctx = useEmulator({ clock });

/** Starts a deploy on `on` (the shared virtual clock by default); its elapsed time is on that clock. */
function startDeploy(input: Parameters<typeof deploy>[0], on: Clock = clock) {
  const reporter = new RecordingReporter();
  const started = on.now();
  const ended = deploy(input, reporter, { userAgent: 'budget-test', clock: on }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return ended.then((error) => ({ error, elapsedMs: on.now() - started, reporter }));
}

/** The run's outcome once time has moved; fails (instead of hanging) if it is still running after `realMs`. */
async function ended<T>(run: Promise<T>, what: string, realMs = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after the clock moved`)), realMs);
  });
  try {
    return await Promise.race([run, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

const creates = () =>
  ctx.em.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces').length;

/** A server that accepts every connection and never answers (a hung proxy, a black-holed API). */
async function silentServer(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('the time budget bounds the HTTP layer', () => {
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    cleanup?.();
    cleanup = undefined;
    // Requests the job gave up on still wait out their latency in the emulator: let them end here,
    // before the next test's reset, so none lands in another test.
    await clock.advance(60_000);
  });

  it('TIMEOUT=5 with 429 Retry-After: 3600 gives up at once, naming the budget; nothing is created', async () => {
    ctx.em.arm({ kind: 'rate-limit', retryAfterSeconds: 3600, count: 50 });
    const { error, elapsedMs } = await ended(
      startDeploy(baseInput(ctx.em, { timeoutSeconds: '5' })),
      'the deploy with Retry-After past its budget',
    );
    expect(elapsedMs).toBe(0);
    expect(error).toBeInstanceOf(ApiError);
    const message = (error as Error).message;
    expect(message).toMatch(/answered HTTP 429 \(rate limited\) and a retry would have to wait 3600 s/);
    expect(message).toContain("the job's time budget (timeoutSeconds / TIMEOUT) is used up");
    expect(message).not.toContain('left in place');
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
    expect(creates()).toBe(0);
  });

  it('35 s of API latency with an 8 s budget: each request is cut to the budget, nothing is created', async () => {
    ctx.em.setTiming({ latencyMs: 35_000 });
    const run = startDeploy(baseInput(ctx.em, { timeoutSeconds: '8' }));
    await clock.sleeping(2); // the team and plan lookups reached the emulator and wait out its latency
    await clock.advance(8_000);
    const { error, elapsedMs } = await ended(run, 'the deploy at the end of its 8 s budget');
    expect(elapsedMs).toBeLessThanOrEqual(8_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(7_000);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(
      /got no response \(no answer within \d+(\.\d)? s\).*time budget \(timeoutSeconds \/ TIMEOUT\) is used up/,
    );
    ctx.em.setTiming({ latencyMs: 0 });
    await clock.advance(30_000);
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
    expect(creates()).toBe(0);
  });

  it("an API that accepts connections and never answers, with a 1 s budget: the client's real timer ends it near 1 s", async () => {
    const silent = await silentServer();
    cleanup = silent.close;
    const { error, elapsedMs } = await startDeploy(
      baseInput(ctx.em, { apiUrl: silent.url, timeoutSeconds: '1' }),
      systemClock,
    );
    expect(elapsedMs).toBeLessThan(1_000 + 2_000);
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toContain("the job's time budget (timeoutSeconds / TIMEOUT) is used up");
  });

  it('refuses to create a workspace when less than the create reserve remains', async () => {
    // The lookups take 3.5 s of a 6 s budget: 2.5 s remain, the reserve is half the budget (3 s).
    ctx.em.arm({ kind: 'latency', latencyMs: 3_500, path: '/api/teams' });
    ctx.em.arm({ kind: 'latency', latencyMs: 3_500, path: '/api/metadata/workspace-plans' });
    const run = startDeploy(baseInput(ctx.em, { timeoutSeconds: '6' }));
    await clock.sleeping(2);
    await clock.advance(3_500);
    const { error, elapsedMs } = await ended(run, 'the deploy after its slow lookups');
    expect(elapsedMs).toBe(3_500);
    const message = (error as Error).message;
    expect(message).toMatch(/^Not creating workspace "shop-#42": 2\.5 s of the job's time budget/);
    expect(message).toContain('needs at least 3 s. Nothing was created');
    expect(creates()).toBe(0);
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
  });

  it('a create that gets no answer within the budget: checked by name in time, and the error says it may exist', async () => {
    // The emulator acts after its latency, so the create lands after the job gave up on it.
    ctx.em.arm({ kind: 'latency', latencyMs: 12_000, method: 'POST', path: '/api/workspaces' });
    const started = clock.now();
    const run = startDeploy(baseInput(ctx.em, { timeoutSeconds: '8' }));
    await clock.sleeping(1); // the create reached the emulator
    // Next due: the create's own timeout, which leaves the rest of the budget for the check by name.
    await clock.advance((clock.nextDue ?? started) - clock.now());
    const { error, elapsedMs } = await ended(run, "the deploy after its create's timeout");
    expect(elapsedMs).toBeLessThan(8_000);
    const message = (error as Error).message;
    // The check by name was sent (the create's wait left room for it), and the message names the
    // workspace that may appear instead of only the check that could not run.
    const lists = ctx.em
      .requestLog()
      .filter((e) => e.method === 'GET' && e.path === '/api/workspaces/team/101');
    expect(lists.length).toBeGreaterThanOrEqual(2); // the look before the create and the check after it
    expect(message).toMatch(/^Creating workspace "shop-#42" in team "My Team" got no clear answer \(/);
    expect(message).toContain('It may exist or appear shortly: the next run of this job adopts it by name');
    expect(message).not.toContain('Nothing was created');
    // The late create lands; the next run adopts it by name instead of creating a second one.
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
    await clock.advance(12_000);
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(1);
    const rerun = await onVirtualTime(clock, startDeploy(baseInput(ctx.em, { timeoutSeconds: '60' })));
    expect(rerun.error).toBeUndefined();
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(1);
    expect(creates()).toBe(1);
  });
});

describe('the one retry policy', () => {
  const deadline = (leftMs: number) => ({ at: 1_000_000 + leftMs, now: () => 1_000_000 });

  it('retries 429 on any call, network errors, 408 and 5xx only on idempotent ones', () => {
    const decide = (outcome: Parameters<typeof decideRetry>[0]['outcome'], idempotent: boolean) =>
      decideRetry({ outcome, idempotent, attempt: 0, random: () => 1 }).retry;
    expect(decide({ kind: 'status', status: 429 }, false)).toBe(true);
    expect(decide({ kind: 'status', status: 503 }, false)).toBe(false);
    expect(decide({ kind: 'network' }, false)).toBe(false);
    for (const status of [408, 500, 502, 503, 504])
      expect(decide({ kind: 'status', status }, true)).toBe(true);
    expect(decide({ kind: 'network' }, true)).toBe(true);
    for (const status of [400, 401, 403, 404, 409, 422])
      expect(decide({ kind: 'status', status }, true)).toBe(false);
  });

  it('waits never less than Retry-After, never past the deadline, and says so', () => {
    const wait = decideRetry({
      outcome: { kind: 'status', status: 429, retryAfter: '3' },
      idempotent: true,
      attempt: 0,
      random: () => 0,
      deadline: deadline(10_000),
    });
    expect(wait).toEqual({ retry: true, delayMs: 3_000 });
    const tooLong = decideRetry({
      outcome: { kind: 'status', status: 429, retryAfter: '3600' },
      idempotent: true,
      attempt: 0,
      deadline: deadline(900_000),
    });
    expect(tooLong).toMatchObject({ retry: false, reason: 'budget', wantedMs: 3_600_000 });
    const backoffTooLong = decideRetry({
      outcome: { kind: 'network' },
      idempotent: true,
      attempt: 4,
      random: () => 1,
      deadline: deadline(1_000),
    });
    expect(backoffTooLong).toMatchObject({ retry: false, reason: 'budget', wantedMs: 4_000 });
    expect(
      decideRetry({ outcome: { kind: 'network' }, idempotent: true, attempt: DEFAULT_RETRY.maxRetries }),
    ).toEqual({ retry: false, reason: 'exhausted' });
  });
});
