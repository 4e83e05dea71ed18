/**
 * Memory of the log-stream parser under one event that never ends: 60 MB of a `data:` field fed
 * in 64 KiB chunks, as a misbehaving server would send it. Prints the peak heap and RSS growth
 * (asserts nothing). Before the event cap the parser kept all of it; with the cap it holds at
 * most MAX_EVENT_CHARS.
 *
 *   node --expose-gc --import tsx test/bench/sse-memory.bench.ts
 */
import { createLogEventParser } from '../../shared/codesphere/log-stream.js';

const TOTAL = 60 * 1024 * 1024;
// Each chunk decoded afresh, as from a socket (one shared string would only build a rope of references).
const BYTES = Buffer.alloc(64 * 1024, 'z');
const decoder = new TextDecoder();
const gc = (globalThis as { gc?: () => void }).gc;

gc?.();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
let peakHeap = 0;
let peakRss = 0;
const notes: string[] = [];
const parser = createLogEventParser({
  onEntries: () => undefined,
  onProblem: () => undefined,
  onInvalid: (why) => notes.push(why),
});
const started = performance.now();
parser.feed('event: data\ndata: [{"timestamp":"t","kind":"I","data":"');
for (let sent = 0; sent < TOTAL; sent += BYTES.length) {
  parser.feed(decoder.decode(BYTES, { stream: true }));
  if ((sent / BYTES.length) % 64 === 0) {
    const { heapUsed, rss } = process.memoryUsage();
    peakHeap = Math.max(peakHeap, heapUsed - heap0);
    peakRss = Math.max(peakRss, rss - rss0);
  }
}
const ms = performance.now() - started;
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(
  `60 MB never-ending event: peak heap +${mb(peakHeap)}, peak RSS +${mb(peakRss)}, ${ms.toFixed(0)} ms; reported: ${notes[0] ?? '(nothing)'}`,
);
