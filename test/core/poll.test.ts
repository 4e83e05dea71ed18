import { describe, expect, it } from 'vitest';

import { CodesphereDeployError, ConfigError } from '../../shared/errors.js';
import { describeError } from '../../shared/errors.js';
import { DeadlineExceededError } from '../../shared/errors.js';
import { DEFAULT_SCHEDULE, pollUntil } from '../../shared/workflow/wait.js';
import { parseBoolean } from '../../shared/request/values.js';
import { redact } from '../../shared/request/secrets.js';

/** A fake clock: sleep advances time instantly, so schedules are tested without waiting. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => t,
      sleep: (ms: number) => {
        sleeps.push(ms);
        t += ms;
        return Promise.resolve();
      },
    },
    at: () => t,
  };
}

describe('pollUntil', () => {
  it('polls fast at first, then settles at one request per second', async () => {
    const clock = fakeClock();
    let checks = 0;
    await pollUntil({
      what: 'x',
      clock: clock.clock,
      deadline: 60_000,
      check: () => Promise.resolve(clock.at() >= 20_000 ? true : (checks++, undefined)),
    });
    const fast = clock.sleeps.filter((s) => s === DEFAULT_SCHEDULE.fastIntervalMs).length;
    expect(fast).toBe(DEFAULT_SCHEDULE.fastPhaseMs / DEFAULT_SCHEDULE.fastIntervalMs);
    expect(clock.sleeps.slice(fast).every((s) => s === DEFAULT_SCHEDULE.slowIntervalMs)).toBe(true);
    expect(checks).toBe(fast + 15);
  });

  it('stops at the deadline with a message naming what it waited for', async () => {
    const clock = fakeClock();
    const err = await pollUntil({
      what: 'workspace 9 to start',
      clock: clock.clock,
      deadline: 3_000,
      check: () => Promise.resolve(undefined),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toContain('workspace 9 to start after 3 s');
    expect(clock.at()).toBe(3_000);
  });

  it('lets a failing check abort the wait', async () => {
    const clock = fakeClock();
    await expect(
      pollUntil({
        what: 'x',
        clock: clock.clock,
        deadline: 9e9,
        check: () => Promise.reject(new Error('boom')),
      }),
    ).rejects.toThrow('boom');
  });
});

describe('describeError and parseBoolean', () => {
  it.each([
    [new ConfigError([{ field: 'team', message: 'missing' }]), 'Invalid input "team": missing'],
    [new TypeError('x is not a function'), 'Unexpected TypeError: x is not a function'],
    ['plain string', 'plain string'],
    [undefined, 'Unknown error (undefined was thrown)'],
    [{ code: 42 }, 'Unknown error: {"code":42}'],
  ])('describes %o', (value, expected) => {
    expect(describeError(value)).toBe(expected);
  });

  it('quotes a foreign error as it is, for the caller to redact', () => {
    const described = describeError(new Error('failed with token abc123secret'));
    expect(described).toBe('Unexpected Error: failed with token abc123secret');
    expect(redact(described, ['abc123secret'])).toBe('Unexpected Error: failed with token ***');
    expect(new CodesphereDeployError('m')).toBeInstanceOf(Error);
  });

  it.each([
    ['true', true],
    ['Yes', true],
    ['1', true],
    ['off', false],
    [' FALSE ', false],
    ['', undefined],
    [undefined, undefined],
    ['maybe', null],
    [true, true],
  ] as const)('parseBoolean(%o) = %o', (input, expected) => {
    expect(parseBoolean(input)).toBe(expected);
  });
});
