/**
 * The emulator's time: everything time-based (provisioning, stage progress, log streaming, tunnel
 * timing of the simulated driver, sign-in expiry, latency and latency faults, the request log's
 * timestamps) reads `now()` and waits with `sleep()` of one Clock, given in the options.
 *
 * `systemClock` is real time. `VirtualClock` is for tests: time stands still until the test calls
 * `advance(ms)`, which fires the sleeps that fall due in order, so a 60-second provisioning window
 * passes in microseconds. It never touches the global timers (unlike vitest's fake timers), so
 * the HTTP server's sockets, keep-alive and the test's own fetch calls run on real time. A test
 * may give the same VirtualClock to the core (shared/clock.ts, request timeouts included), so the
 * job and the emulator share one timeline.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves once `ms` milliseconds of this clock's time have passed. */
  sleep(ms: number): Promise<void>;
}

/** Real time: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

interface Sleeper {
  due: number;
  seq: number;
  resolve: () => void;
  /** A `timeout` signal's timer: fires in order with the sleeps but is not a sleep (not `pending`). */
  timer?: true;
}

/**
 * A clock that moves only when told. Sleeps wait until `advance` (or `set`) moves the time past
 * their due time; sleeps of 0 ms (or less) resolve on the next turn, as setTimeout(0) would.
 */
export class VirtualClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  /** @param start the initial time, epoch ms (default 2026-01-01T00:00:00Z: fixed, so runs repeat) */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    if (!(ms > 0)) return nextTurn().then(() => undefined);
    return new Promise<void>((resolve) => this.schedule(ms, resolve));
  }

  /**
   * A signal that aborts with a TimeoutError once `ms` of this clock's time have passed (like
   * AbortSignal.timeout). Its timer holds nothing up and is not counted in `pending`.
   */
  timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    const fire = () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError'));
    if (ms > 0) this.schedule(ms, fire, true);
    else void nextTurn().then(fire);
    return controller.signal;
  }

  /** How many sleeps are waiting for time to pass. */
  get pending(): number {
    return this.sleepers.filter((s) => !s.timer).length;
  }

  /** When the next sleep or `timeout` timer falls due (epoch ms); undefined when none waits. */
  get nextDue(): number | undefined {
    return this.sleepers[0]?.due;
  }

  /**
   * Resolves once at least `count` sleeps are waiting (real time passes meanwhile, e.g. while a
   * request travels to the server and reaches its latency sleep). Rejects after `timeoutMs` of
   * real time, so a test that waits for a sleep that never comes fails instead of hanging.
   */
  async sleeping(count = 1, timeoutMs = 5_000): Promise<void> {
    if (this.pending >= count) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`VirtualClock: ${count} sleep(s) expected, ${this.pending} waiting`));
      }, timeoutMs);
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Moves time forward by `ms`, waking the sleeps that fall due in order of their due time (the
   * clock reads each one's due time when it wakes), and lets the woken code run (and sleep again)
   * before moving on. Resolves with the clock at the old time + `ms`.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.current + ms;
    await this.settle();
    for (;;) {
      const next = this.sleepers[0];
      if (!next || next.due > target) break;
      this.sleepers.shift();
      this.current = Math.max(this.current, next.due);
      next.resolve();
      await this.settle();
    }
    this.current = target;
    await this.settle();
  }

  /** Lets promise callbacks and pending I/O callbacks run (a few event-loop turns). */
  private async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await nextTurn();
  }

  private schedule(ms: number, resolve: () => void, timer?: true): void {
    this.sleepers.push({ due: this.current + ms, seq: this.seq++, resolve, ...(timer ? { timer } : {}) });
    this.sleepers.sort((a, b) => a.due - b.due || a.seq - b.seq);
    if (!timer) this.notifyWaiters();
  }

  private notifyWaiters(): void {
    const pending = this.pending;
    const ready = this.waiters.filter((w) => pending >= w.count);
    this.waiters = this.waiters.filter((w) => pending < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}
