/**
 * Runs every test/bench/*.bench.ts, one after the other, each as its own `npx tsx` process (a
 * crash or a leaked handle in one cannot affect the next). Prints a header per file, keeps going
 * past failures, and exits non-zero only when a benchmark crashed (a non-zero exit), after all
 * of them ran. Benchmarks print figures; they assert nothing.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const PER_BENCH_TIMEOUT_MS = 180_000;

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

function run(file: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', path.join('test/bench', file)], { cwd: repoRoot, stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.log(`\n${file}: still running after ${PER_BENCH_TIMEOUT_MS / 1000} s, stopping it.`);
      child.kill('SIGTERM');
    }, PER_BENCH_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started });
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      console.log(`${file}: could not start: ${err.message}`);
      resolve({ code: 1, signal: null, ms: Date.now() - started });
    });
  });
}

const outcomes: Array<{ file: string; ok: boolean; detail: string }> = [];
for (const file of files) {
  console.log(`\n${'='.repeat(80)}\n== ${file}\n${'='.repeat(80)}`);
  const { code, signal, ms } = await run(file);
  const ok = code === 0;
  const detail = `${ok ? 'ok' : signal ? `killed by ${signal}` : `exit ${code}`} in ${(ms / 1000).toFixed(1)} s`;
  outcomes.push({ file, ok, detail });
}

console.log(`\n${'='.repeat(80)}\nbenchmarks:`);
for (const o of outcomes) console.log(`  ${o.ok ? 'ok     ' : 'CRASHED'} ${o.file} (${o.detail})`);
if (files.length === 0) console.log('  (none found)');
process.exitCode = outcomes.some((o) => !o.ok) ? 1 : 0;
