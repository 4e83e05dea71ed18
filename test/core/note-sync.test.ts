/**
 * shared/ci/note.ts syncNote, the convergence every adapter's change request note relies on, over
 * random interleavings of concurrent runs (fast-check, fixed seed). A virtual clock drives the
 * runs: every call to the in-memory note API takes effect after a random latency and answers after
 * another, so lists and creates of different runs interleave as on a real API without atomic
 * "create if absent". The process-level tests (test/platforms/concurrent-runs.test.ts) cover the
 * same with the built bundles and the platform doubles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareRunOrder,
  isPreviewNote,
  noteMarker,
  noteRunOrder,
  runMarkerLines,
  runOrderOf,
  syncNote,
  type NoteStore,
  type RunOrder,
} from '../../shared/ci/note.js';

/** Discrete-event time: `delay` resolves in time order when `run` advances the clock. */
class VirtualClock {
  now = 0;
  private queue: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;

  delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.queue.push({ at: this.now + ms, seq: this.seq++, resolve }));
  }

  async run(work: Promise<unknown>): Promise<void> {
    let finished = false;
    const settled = work.then(
      () => (finished = true),
      () => (finished = true),
    );
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (finished) break;
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue.shift();
      if (next === undefined) throw new Error('no run can make progress');
      this.now = next.at;
      next.resolve();
    }
    await settled;
  }
}

/** One change request's notes; every call of a run takes effect after a latency and answers after another. */
function noteApi(clock: VirtualClock) {
  const notes = new Map<number, string>();
  let nextId = 100;
  const storeFor = (latencies: number[]): NoteStore => {
    let i = 0;
    const latency = () => latencies[i++ % latencies.length] ?? 1;
    const call = async <T>(effect: () => T): Promise<T> => {
      await clock.delay(latency());
      const result = effect();
      await clock.delay(latency());
      return result;
    };
    return {
      list: () => call(() => [...notes].map(([id, body]) => ({ id, body }))),
      create: (body) =>
        call(() => {
          const id = nextId++;
          notes.set(id, body);
          return id;
        }),
      update: (id, body) =>
        call(() => {
          if (!notes.has(id)) return false;
          notes.set(id, body);
          return true;
        }),
      remove: (id) =>
        call(() => {
          notes.delete(id);
        }),
    };
  };
  return { notes, storeFor };
}

const body = (order: RunOrder, text: string) =>
  [noteMarker('html-comment'), ...runMarkerLines(order, 'html-comment'), text].join('\n');
const isOurs = (text: string) => isPreviewNote(text, 'html-comment');

const runArbitrary = fc.record({
  startMs: fc.integer({ min: 0, max: 600 }),
  pipeline: fc.integer({ min: 1, max: 6 }),
  phase: fc.constantFrom(0, 1),
  // Up to 40 ms per leg: well inside the 200 ms minimum pause, where the guarantee holds.
  latencies: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
});

describe('syncNote', () => {
  it('leaves exactly one note, written by the newest run, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(runArbitrary, { minLength: 1, maxLength: 7 }),
        fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        async (runs, earlier) => {
          const clock = new VirtualClock();
          const api = noteApi(clock);
          // A note from an earlier run (or from before run orders existed) and a person's reply quoting the marker.
          if (earlier !== undefined) api.notes.set(1, body(earlier === 0 ? [] : [earlier, 0], 'earlier'));
          api.notes.set(2, `> quoting:\n${noteMarker('html-comment')}\nplease keep this`);
          const orders = runs.map((run) => [run.pipeline, run.phase]);
          const work = Promise.all(
            runs.map(async (run, index) => {
              await clock.delay(run.startMs);
              const order = orders[index] ?? [];
              return syncNote(
                api.storeFor(run.latencies),
                { body: body(order, `run ${index}`), order, isOurs },
                { sleep: (ms) => clock.delay(ms), now: () => clock.now },
              );
            }),
          );
          await clock.run(work);

          const ours = [...api.notes].filter(([, text]) => isOurs(text));
          expect(ours).toHaveLength(1);
          const newest = [...orders, ...(earlier ? [[earlier, 0]] : [])].reduce((a, b) =>
            compareRunOrder(a, b) >= 0 ? a : b,
          );
          expect(noteRunOrder(ours[0]?.[1] ?? '')).toEqual(newest);
          // The person's note is never touched.
          expect(api.notes.get(2)).toContain('please keep this');
        },
      ),
      { seed: 20261129, numRuns: 200 },
    );
  });

  it('a run never overwrites a note naming a newer run, and says so', async () => {
    const clock = new VirtualClock();
    const api = noteApi(clock);
    api.notes.set(5, body([9, 1], 'removed by the teardown of pipeline 9'));
    const work = syncNote(
      api.storeFor([3]),
      { body: body([9, 0], 'ready'), order: [9, 0], isOurs },
      { sleep: (ms) => clock.delay(ms), now: () => clock.now },
    );
    await clock.run(work);
    expect(await work).toEqual({ outcome: 'newer-kept', id: 5, newer: [9, 1], duplicatesRemoved: 0 });
    expect([...api.notes.values()].filter(isOurs)).toEqual([
      body([9, 1], 'removed by the teardown of pipeline 9'),
    ]);
  });

  it('orders runs left to right, an unknown order below every known one', () => {
    expect(compareRunOrder([4242, 1, 0], [4242, 2, 0])).toBeLessThan(0);
    expect(compareRunOrder([4243, 1, 0], [4242, 9, 1])).toBeGreaterThan(0);
    expect(compareRunOrder([77001, 1], [77001, 0])).toBeGreaterThan(0);
    expect(compareRunOrder([], [1, 0])).toBeLessThan(0);
    expect(compareRunOrder([], [])).toBe(0);
    expect(noteRunOrder(body([314, 0], 'x'))).toEqual([314, 0]);
    expect(
      noteRunOrder('[//]: # (codesphere-deploy:preview)\n[//]: # (codesphere-deploy:run 7.1)\n'),
    ).toEqual([7, 1]);
    expect(noteRunOrder(`${noteMarker('html-comment')}\nwritten before run orders`)).toEqual([]);
  });
});

describe('runOrderOf: run counters are digits only', () => {
  it('reads whole numbers written in digits, with surrounding spaces', () => {
    expect(runOrderOf(['4242', ' 1 '])).toEqual([4242, 1]);
    expect(runOrderOf(['0'])).toEqual([0]);
  });

  it.each(['9.0', '1e9', '0x10', '+9', '', ' ', '٩', '-1', '9007199254740993'])(
    '%j is unknown (older than any known run), never a guessed number',
    (text) => {
      expect(runOrderOf([text])).toEqual([]);
      expect(runOrderOf(['4242', text])).toEqual([]);
    },
  );
});
