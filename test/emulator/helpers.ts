import { expect } from 'vitest';
/**
 * Test helpers for the emulator suites: a small fetch wrapper and fast timing, so every rule is
 * exercised over real HTTP in tens of milliseconds.
 */
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
  type VirtualClock,
} from '../../emulator/index.js';

export const DEMO_TOKEN = 'csdemo-token-0123456789abcdef';
export const OTHER_TOKEN = 'csother-token-fedcba9876543210';
export const MY_TEAM = 101;
export const PLATFORM_TEAM = 102;
export const OTHER_TEAM = 103;
export const BOOST = 20;

export const FAST = {
  provisioningMs: 60,
  stageQueueMs: 20,
  stageMs: 60,
  tunnelConnectMs: 40,
  tunnelRestartMs: 40,
  latencyMs: 0,
};

export function startFast(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ ...options, timing: { ...FAST, ...options.timing } });
}

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = unknown>(
  emulator: { url: string },
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; rawBody?: string; contentType?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${emulator.url}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}

export function api<T = unknown>(
  emulator: { url: string },
  method: string,
  path: string,
  options: Parameters<typeof call>[3] = {},
): Promise<Answer<T>> {
  return call<T>(emulator, method, `/api${path}`, options);
}

export interface WorkspaceBody {
  id: number;
  teamId: number;
  name: string;
  planId: number;
  replicas: number;
  vpnConfig: string | null;
  devDomain: string;
  [key: string]: unknown;
}

let counter = 0;
export async function createWorkspace(
  emulator: { url: string },
  overrides: Record<string, unknown> = {},
): Promise<WorkspaceBody> {
  const answer = await api<WorkspaceBody>(emulator, 'POST', '/workspaces', {
    body: {
      teamId: MY_TEAM,
      name: `ws-${++counter}-${Date.now()}`,
      planId: BOOST,
      isPrivateRepo: true,
      replicas: 1,
      gitUrl: 'https://github.com/acme/shop.git',
      initialBranch: 'feature/x',
      ...overrides,
    },
  });
  if (answer.status !== 200) throw new Error(`create failed: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function waitRunning(emulator: { url: string }, id: number): Promise<void> {
  await eventually(async () => {
    const answer = await api<{ isRunning: boolean }>(emulator, 'GET', `/workspaces/${id}/status`);
    return answer.body.isRunning ? true : undefined;
  });
}

/**
 * Polls `check` on virtual time: checks, and while it returns undefined moves `clock` on by
 * `stepMs` and checks again, failing once `limitMs` of virtual time passed. Deterministic: the
 * emulator's state only changes when the test moves the clock.
 */
export async function eventuallyVirtual<T>(
  clock: VirtualClock,
  check: () => Promise<T | undefined> | T | undefined,
  { stepMs = 10, limitMs = 3000 }: { stepMs?: number; limitMs?: number } = {},
): Promise<T> {
  for (let passed = 0; ; passed += stepMs) {
    const value = await check();
    if (value !== undefined) return value;
    if (passed >= limitMs) throw new Error(`condition not reached within ${limitMs} ms of virtual time`);
    await clock.advance(stepMs);
  }
}

/** Moves virtual time on until the workspace reports isRunning (waitRunning on a VirtualClock). */
export async function runVirtualUntilRunning(
  emulator: RunningEmulator,
  clock: VirtualClock,
  id: number,
): Promise<void> {
  // Steps of the whole provisioning window: a fresh workspace runs after one step.
  const stepMs = Math.max(1, emulator.world.timing.provisioningMs);
  await eventuallyVirtual(
    clock,
    async () => {
      const answer = await api<{ isRunning: boolean }>(emulator, 'GET', `/workspaces/${id}/status`);
      return answer.body.isRunning ? true : undefined;
    },
    { stepMs, limitMs: 50 * stepMs },
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Typed wrappers around vitest's asymmetric matchers (which are typed `any`). */
export const anyString = (): unknown => expect.any(String) as unknown;
export const anyNumber = (): unknown => expect.any(Number) as unknown;
export const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern) as unknown;
