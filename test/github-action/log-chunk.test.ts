/**
 * The built action when @actions/core, loaded lazily from its own chunk beside dist/index.js
 * (github-action/src/reporter.ts CoreLog), cannot be loaded: a dist/ copied without its chunks.
 * The step must still end, failed, with the reason on stderr; it must not wait forever for a log
 * that can no longer be written.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adapterNode } from '../doubles/run-entry.js';
import { DEMO_TOKEN, inputVariable, repoRoot } from './harness.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gh-log-chunk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('@actions/core cannot be loaded', () => {
  it('a deploy still ends, failed, within its budget, with the reason on stderr and no secret', () => {
    const dist = path.join(dir, 'dist');
    cpSync(path.join(repoRoot, 'github-action/dist'), dist, { recursive: true });
    // The chunk that writes workflow commands: @actions/core's.
    const coreChunks = readdirSync(dist).filter(
      (file) =>
        file !== 'index.js' &&
        file.endsWith('.js') &&
        readFileSync(path.join(dist, file), 'utf8').includes('add-mask'),
    );
    expect(coreChunks, '@actions/core is expected in a chunk of its own').toHaveLength(1);
    rmSync(path.join(dist, coreChunks[0] ?? ''));

    const eventPath = path.join(dir, 'event.json');
    const outputPath = path.join(dir, 'output.txt');
    writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/feature', after: 'a'.repeat(40) }));
    writeFileSync(outputPath, '');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_OUTPUT: outputPath,
      [inputVariable('apiToken')]: DEMO_TOKEN,
      [inputVariable('team')]: 'My Team',
      [inputVariable('plan')]: 'Boost',
      // Nothing listens on port 1: the core's requests fail and retry until the 3 s budget is used.
      [inputVariable('apiUrl')]: 'http://127.0.0.1:1',
      [inputVariable('timeoutSeconds')]: '3',
    };
    const started = Date.now();
    const child = spawnSync(adapterNode, [path.join(dist, 'index.js')], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    expect(child.signal, `killed after ${Date.now() - started} ms: the step never ended`).toBeNull();
    expect(child.status).toBe(1);
    expect(child.stderr).toContain("The action's log could not be written");
    expect(`${child.stdout}${child.stderr}`).not.toContain(DEMO_TOKEN);
  });
});
