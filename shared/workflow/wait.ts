import type { Clock } from '../clock.js';
import { DeadlineExceededError } from '../errors.js';
import { BUDGET_NAME } from '../codesphere/retry.js';

/**
 * Readiness polling. Codesphere has no push channel for workspace or pipeline state, so the
 * core polls. The schedule is fast while a change is likely to land soon and slow afterwards:
 * `fastIntervalMs` for the first `fastPhaseMs` of each wait, then `slowIntervalMs`. With the
 * defaults a state change inside the first 5 s is noticed ~100 ms later on average (half an
 * interval), and a long wait settles at one request per second per workspace (cs-go polls
 * every 5 s: 2.5 s mean lag). test/bench/core.bench.ts prints the measured lag and rate.
 */
export interface PollSchedule {
  fastIntervalMs: number;
  fastPhaseMs: number;
  slowIntervalMs: number;
}

export const DEFAULT_SCHEDULE: PollSchedule = {
  fastIntervalMs: 200,
  fastPhaseMs: 5_000,
  slowIntervalMs: 1_000,
};

export interface PollOptions<T> {
  /** What is awaited, for the timeout message: "workspace 12 to start". */
  what: string;
  /** A value ends the wait; `undefined` polls again; a throw aborts. */
  check: () => Promise<T | undefined>;
  /** The job's clock: polls sleep on it and read the deadline from it. */
  clock: Clock;
  /** Absolute time (clock.now) after which the wait gives up. */
  deadline: number;
  schedule?: PollSchedule;
  /** Called after each unfinished check, e.g. to log progress now and then. */
  onPending?: (elapsedMs: number) => void;
}

/**
 * Polls `check` until it yields a value. Throws DeadlineExceededError ("Timed out waiting for
 * <what>") once the deadline has passed, checked after every wait as well, so the last check is
 * never sent with no budget left (the HTTP layer would refuse it with a less telling message).
 */
export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const { clock } = options;
  const now = () => clock.now();
  const started = now();
  const timedOut = () =>
    new DeadlineExceededError(
      `Timed out waiting for ${options.what} after ${Math.round((now() - started) / 1000)} s: the job's time budget (${BUDGET_NAME}) is used up.`,
    );
  for (;;) {
    const value = await options.check();
    if (value !== undefined) return value;
    const elapsed = now() - started;
    options.onPending?.(elapsed);
    const interval = elapsed < schedule.fastPhaseMs ? schedule.fastIntervalMs : schedule.slowIntervalMs;
    const remaining = options.deadline - now();
    if (remaining <= 0) throw timedOut();
    await clock.sleep(Math.min(interval, remaining));
    if (options.deadline - now() <= 0) throw timedOut();
  }
}
