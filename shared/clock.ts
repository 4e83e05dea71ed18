/**
 * The Clock port: the core's one source of time. Every wait (polls, retry backoff, the
 * teardown's race checks, the zero-downtime drain) sleeps through it and every deadline is read
 * from it, so tests pass a virtual clock whose `sleep` advances `now` at once and nothing waits
 * for real. Adapters pass `systemClock` (the default) or nothing.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (like Date.now), on this clock's timeline. */
  now(): number;
  /** Resolves once `ms` milliseconds of this clock's time have passed (at once for ms <= 0). */
  sleep(ms: number): Promise<void>;
  /**
   * A signal that aborts (reason: a TimeoutError DOMException) once `ms` milliseconds of this
   * clock's time have passed, like AbortSignal.timeout: what bounds each HTTP attempt, so a
   * virtual clock moves request timeouts with the rest of the job's time. Absent: real time.
   */
  timeout?(ms: number): AbortSignal;
}

/** Wall-clock time and real timers: the one setTimeout-based sleep in shared/. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  timeout: (ms) => AbortSignal.timeout(Math.max(0, ms)),
};
