/** Stage logs through the core against the emulator: streaming, bounds, failure tails. */
import { describe, expect, it } from 'vitest';

import { deploy, DeploymentError } from '../../shared/index.js';
import { stageLogTailOf } from '../../shared/workflow/stage-logs.js';
import { baseInput, RecordingReporter, useEmulator, virtualTimeDeps } from '../core/helpers.js';

const ctx = useEmulator();

type LogSpec = (typeof ctx.em.world.seed.pipeline.logs)[number];

async function withLogs<T>(spec: LogSpec, fn: () => Promise<T>): Promise<T> {
  const logs = ctx.em.world.seed.pipeline.logs;
  logs.push(spec);
  try {
    return await fn();
  } finally {
    logs.splice(logs.indexOf(spec), 1);
  }
}

const streamed = (r: RecordingReporter) => r.texts('info').filter((t) => t.startsWith('│ '));

describe('prepare logs in the job log', () => {
  it('streams each prepare step into its own group, in order, with no nested groups', async () => {
    const reporter = new RecordingReporter();
    await deploy(baseInput(ctx.em), reporter, virtualTimeDeps());
    const groups = reporter.texts('group');
    expect(groups).toContain('prepare: step 1 of 2 (log)');
    expect(groups).toContain('prepare: step 2 of 2 (log)');
    expect(reporter.maxDepth).toBe(1);
    expect(streamed(reporter)).toEqual([
      '│ $ npm ci',
      '│ added 312 packages, and audited 313 packages in 4s',
      '│ found 0 vulnerabilities',
      '│ $ npm run build',
      '│ > app@1.0.0 build',
      '│ > tsc -p . && vite build',
      '│ built in 2.31s',
    ]);
  });

  it("quotes the failing step's last 50 lines in the error and carries them for the comment", async () => {
    const lines = Array.from({ length: 80 }, (_, i) => `resolving dependency ${i + 1}`);
    const spec: LogSpec = {
      branch: 'long-failure',
      stage: 'prepare',
      steps: [
        { lines: ['$ npm ci'], fails: false },
        { lines: [...lines, 'npm ERR! code E401', 'npm ERR! token ${NPM_TOKEN} rejected'], fails: true },
      ],
    };
    const reporter = new RecordingReporter();
    const err = await withLogs(spec, () =>
      deploy(
        baseInput(ctx.em, { branch: 'long-failure', env: 'NPM_TOKEN=npm_s3cr3tValue42' }),
        reporter,
        virtualTimeDeps(),
      ).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(DeploymentError);
    const message = (err as Error).message;
    expect(message).toContain('Pipeline stage "prepare" failed');
    expect(message).toContain('Last 50 of 82 line(s) of prepare step 2:');
    expect(message).toContain('  resolving dependency 33\n');
    expect(message).not.toContain('resolving dependency 32\n');
    expect(message).toContain('npm ERR! code E401');
    const tail = stageLogTailOf(err);
    expect(tail?.tail).toMatchObject({ stage: 'prepare', step: 1, totalLines: 82 });
    expect(tail?.tail.lines).toHaveLength(50);
    // The build echoed a secret: the reporter was told to mask it before any line was printed,
    // and the log stream masked it before the line reached the reporter (and the tail).
    expect(reporter.masked()).toContain('npm_s3cr3tValue42');
    expect(streamed(reporter)).toContain('│ npm ERR! token *** rejected');
    expect(streamed(reporter).join('\n')).not.toContain('npm_s3cr3tValue42');
  });

  it('keeps a 10,000-line prepare log bounded: the cap, a notice of what was left out, the tail', async () => {
    const spec: LogSpec = {
      branch: 'chatty',
      stage: 'prepare',
      steps: [
        { lines: [], generate: { count: 10_000, line: 'compiling module {n} of 10000' }, fails: false },
      ],
    };
    const reporter = new RecordingReporter();
    // Peak heap while the log streams (emulator and core share this process: an upper bound).
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
    try {
      await withLogs(spec, () =>
        deploy(baseInput(ctx.em, { branch: 'chatty' }), reporter, virtualTimeDeps()),
      );
    } finally {
      clearInterval(sampler);
    }
    const lines = streamed(reporter);
    expect(lines).toHaveLength(1_000 + 50);
    expect(lines[999]).toBe('│ compiling module 1000 of 10000');
    expect(lines.at(-1)).toBe('│ compiling module 10000 of 10000');
    const notice = reporter.texts('info').find((t) => t.includes('left out of the job log'));
    expect(notice).toBe(
      '… 8950 line(s) left out of the job log (a step prints at most 1000 lines; 10000 in all); its last 50 follow:',
    );
    console.log(
      `10,000-line prepare log: ${lines.length} of 10000 lines printed; peak heap +${((heapPeak - heapBefore) / 1e6).toFixed(1)} MB over ${(heapBefore / 1e6).toFixed(1)} MB (emulator included)`,
    );
  });
});
