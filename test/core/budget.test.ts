/**
 * The job's time budget (timeoutSeconds / TIMEOUT) bounds the HTTP layer: Retry-After, slow and
 * silent APIs, and the create itself. Real time and a real server (the emulator, or a socket that
 * never answers): the wall time of each run is the assertion, with short budgets so it stays fast.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

import { deploy } from '../../shared/index.js';
import { decideRetry, DEFAULT_RETRY } from '../../shared/codesphere/retry.js';
import { ApiError } from '../../shared/errors.js';
import { baseInput, RecordingReporter, useEmulator, workspacesNamed } from './helpers.js';

const ctx = useEmulator();
const SLACK_MS = 5_000;

async function timedDeploy(input: Parameters<typeof deploy>[0]) {
  const reporter = new RecordingReporter();
  const started = Date.now();
  const error = await deploy(input, reporter, { userAgent: 'budget-test' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, elapsedMs: Date.now() - started, reporter };
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
  afterEach(() => {
    cleanup?.();
    cleanup = undefined;
  });

  it('TIMEOUT=5 with 429 Retry-After: 3600 gives up at once, naming the budget; nothing is created', async () => {
    ctx.em.arm({ kind: 'rate-limit', retryAfterSeconds: 3600, count: 50 });
    const { error, elapsedMs } = await timedDeploy(baseInput(ctx.em, { timeoutSeconds: '5' }));
    expect(elapsedMs).toBeLessThan(5_000 + SLACK_MS);
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
    const { error, elapsedMs } = await timedDeploy(baseInput(ctx.em, { timeoutSeconds: '8' }));
    expect(elapsedMs).toBeLessThan(8_000 + SLACK_MS);
    expect(elapsedMs).toBeGreaterThanOrEqual(7_000);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(
      /got no response \(no answer within \d+(\.\d)? s\).*time budget \(timeoutSeconds \/ TIMEOUT\) is used up/,
    );
    ctx.em.setTiming({ latencyMs: 0 });
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
  }, 30_000);

  it('an API that accepts connections and never answers, with a 10 s budget: ends near 10 s', async () => {
    const silent = await silentServer();
    cleanup = silent.close;
    const { error, elapsedMs } = await timedDeploy(
      baseInput(ctx.em, { apiUrl: silent.url, timeoutSeconds: '10' }),
    );
    expect(elapsedMs).toBeLessThan(10_000 + SLACK_MS);
    expect(elapsedMs).toBeGreaterThanOrEqual(9_000);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toContain("the job's time budget (timeoutSeconds / TIMEOUT) is used up");
  }, 30_000);

  it('refuses to create a workspace when less than the create reserve remains', async () => {
    // The lookups take 3.5 s of a 6 s budget: 2.5 s remain, the reserve is half the budget (3 s).
    ctx.em.arm({ kind: 'latency', latencyMs: 3_500, path: '/api/teams' });
    ctx.em.arm({ kind: 'latency', latencyMs: 3_500, path: '/api/metadata/workspace-plans' });
    const { error, elapsedMs } = await timedDeploy(baseInput(ctx.em, { timeoutSeconds: '6' }));
    expect(elapsedMs).toBeLessThan(6_000 + SLACK_MS);
    const message = (error as Error).message;
    expect(message).toMatch(/^Not creating workspace "shop-#42": \d+(\.\d)? s of the job's time budget/);
    expect(message).toContain('needs at least 3 s. Nothing was created');
    expect(creates()).toBe(0);
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(0);
  }, 30_000);

  it('a create that gets no answer within the budget: checked by name in time, and the error says it may exist', async () => {
    // The emulator acts after its latency, so the create lands after the job gave up on it.
    ctx.em.arm({ kind: 'latency', latencyMs: 12_000, method: 'POST', path: '/api/workspaces' });
    const { error, elapsedMs } = await timedDeploy(baseInput(ctx.em, { timeoutSeconds: '8' }));
    expect(elapsedMs).toBeLessThan(8_000 + SLACK_MS);
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
    for (let i = 0; i < 100 && workspacesNamed(ctx.em, 'shop-#42').length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(1);
    const rerun = await timedDeploy(baseInput(ctx.em, { timeoutSeconds: '60' }));
    expect(rerun.error).toBeUndefined();
    expect(workspacesNamed(ctx.em, 'shop-#42')).toHaveLength(1);
  }, 40_000);
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
