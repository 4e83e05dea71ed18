/**
 * Shared fixtures for the core's tests: a Reporter that records everything it is told, the
 * default-seed inputs, and an emulator per test file with fast timing.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';

import type { JobInput } from '../../shared/request/job-input.js';
import type { Clock } from '../../shared/clock.js';
import type { CoreDeps } from '../../shared/workflow/deps.js';
import type { Reporter } from '../../shared/reporter.js';
import { specMissingNotice } from '../contract/openapi.js';
import { startEmulator, type RunningEmulator, type VirtualClock } from '../../emulator/index.js';

export const DEMO_TOKEN = 'csdemo-token-0123456789abcdef';
export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';

export interface RecordedEvent {
  kind: 'info' | 'warning' | 'debug' | 'group' | 'mask';
  text: string;
}

/** A Reporter that keeps every call, in order. */
export class RecordingReporter implements Reporter {
  readonly events: RecordedEvent[] = [];
  info(message: string): void {
    this.events.push({ kind: 'info', text: message });
  }
  warning(message: string): void {
    this.events.push({ kind: 'warning', text: message });
  }
  debug(message: string): void {
    this.events.push({ kind: 'debug', text: message });
  }
  /** Deepest group nesting seen: platforms like GitHub cannot nest groups, so it must stay 1. */
  maxDepth = 0;
  private depth = 0;
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.events.push({ kind: 'group', text: name });
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    try {
      return await fn();
    } finally {
      this.depth--;
    }
  }
  mask(secret: string): void {
    this.events.push({ kind: 'mask', text: secret });
  }
  /** Everything shown to a user (masks excluded: they are the secrets themselves). */
  shown(): string {
    return this.events
      .filter((e) => e.kind !== 'mask')
      .map((e) => e.text)
      .join('\n');
  }
  masked(): string[] {
    return this.events.filter((e) => e.kind === 'mask').map((e) => e.text);
  }
  texts(kind: RecordedEvent['kind']): string[] {
    return this.events.filter((e) => e.kind === kind).map((e) => e.text);
  }
}

export const FAST_TIMING = {
  provisioningMs: 60,
  stageQueueMs: 10,
  stageMs: 40,
  tunnelConnectMs: 40,
  tunnelRestartMs: 20,
  latencyMs: 0,
};

/** Real time, but waits are cut to `maxMs`: polling and backoff stay real without slowing tests. */
export function quickDeps(maxMs = 20, sleeps: number[] = []): Partial<CoreDeps> {
  return {
    clock: {
      now: () => Date.now(),
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise((resolve) => setTimeout(resolve, Math.min(ms, maxMs)));
      },
    },
    userAgent: 'codesphere-deploy-tests',
  };
}

/**
 * Starts one emulator for the file, resets it before each test, and checks the contract after.
 * `clock`: the emulator's time (real time by default; a VirtualClock for tests on virtual time).
 */
export function useEmulator(options: { clock?: Clock } = {}): { readonly em: RunningEmulator } {
  const holder: { em?: RunningEmulator } = {};
  beforeAll(async () => {
    holder.em = await startEmulator({ timing: FAST_TIMING, ...options });
    if (holder.em.contract === 'off') console.warn(specMissingNotice);
  });
  beforeEach(async () => {
    await holder.em?.reset();
    holder.em?.setTiming(FAST_TIMING);
  });
  afterAll(async () => {
    const violations = holder.em?.contractViolations() ?? [];
    await holder.em?.close();
    expect(violations, 'contract violations recorded by the emulator').toEqual([]);
  });
  return {
    get em() {
      if (!holder.em) throw new Error('emulator not started');
      return holder.em;
    },
  };
}

/**
 * Runs `work` to its end on virtual time: whenever something sleeps on `clock` (a poll, a retry
 * wait, the emulator's latency or stage progress) time moves to the next sleep or request timeout
 * that falls due. Rejects when `work` runs past `limitMs` of virtual time, or when nothing sleeps
 * for 10 s of real time while it still runs (it waits on something other than the clock).
 */
export async function onVirtualTime<T>(
  clock: VirtualClock,
  work: Promise<T>,
  limitMs = 10 * 60_000,
): Promise<T> {
  let done = false;
  const settled = work.then(
    () => (done = true),
    () => (done = true),
  );
  const start = clock.now();
  while (!done) {
    await Promise.race([settled, clock.sleeping(1, 10_000)]);
    if (done) break;
    const due = clock.nextDue ?? clock.now();
    if (due - start > limitMs) throw new Error(`still running after ${limitMs} ms of virtual time`);
    await clock.advance(Math.max(0, due - clock.now()));
  }
  return work;
}

export function baseInput(em: RunningEmulator, overrides: Partial<JobInput> = {}): JobInput {
  return {
    apiUrl: em.url,
    apiToken: DEMO_TOKEN,
    team: 'My Team',
    plan: 'Boost',
    platform: 'github',
    repository: 'acme/shop',
    gitUrl: 'https://github.com/acme/shop.git',
    branch: 'feature/login',
    changeNumber: '42',
    ...overrides,
  };
}

export function workspacesNamed(em: RunningEmulator, name: string) {
  return [...em.world.workspaces.values()].filter((w) => w.name === name);
}

export function apiCalls(em: RunningEmulator): Array<{ method: string; path: string; status: number }> {
  return em.requestLog().filter((e) => e.path.startsWith('/api/') || e.path.startsWith('/auth-service/'));
}

/**
 * Virtual time on top of real time: `now` runs ahead by every sleep requested, while the real
 * wait is cut to `maxMs`. Deadlines and probe windows pass quickly; the emulator's own clock
 * (provisioning, stages, tunnels) still decides when things are ready.
 */
export function virtualTimeDeps(maxMs = 20): Partial<CoreDeps> & { sleeps: number[]; clock: Clock } {
  let ahead = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => Date.now() + ahead,
      sleep: (ms) => {
        sleeps.push(ms);
        ahead += Math.max(0, ms - maxMs);
        return new Promise((resolve) => setTimeout(resolve, Math.min(ms, maxMs)));
      },
    },
    userAgent: 'codesphere-deploy-tests',
  };
}

export function count(em: RunningEmulator, method: string, pathPattern: RegExp): number {
  return apiCalls(em).filter((c) => c.method === method && pathPattern.test(c.path)).length;
}
