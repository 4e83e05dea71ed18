/**
 * The step's last word reaches the runner even when the runner reads the log slowly: stdout is an
 * asynchronous pipe, so the entry waits for it to drain before it exits. Here the secrets' masks
 * alone are more than a pipe holds, the reader waits a second before it reads, and the job fails
 * on a bad input: its `::error::` line must still arrive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullRequestPayload } from './payloads.js';
import { actionEntry, DEMO_TOKEN, errorLines, inputVariable } from './harness.js';

function runWithSlowReader(
  env: Record<string, string>,
  waitMs: number,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [actionEntry], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      child.stdout.resume();
    }, waitMs);
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(chunks).toString('utf8') }),
    );
  });
}

describe('a runner that reads the log slowly', () => {
  it('still gets the ::error:: line of a failed step after more than a pipe holds', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-slow-reader-'));
    const eventPath = path.join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify(pullRequestPayload({ action: 'opened', number: 3 })));
    writeFileSync(path.join(dir, 'out'), '');
    // 400 secret-named values: their masked forms are far more than a pipe's 64 KiB.
    const secrets = Array.from({ length: 400 }, (_, i) => `S${i}_PASSWORD=${`${i}x%+/é`.repeat(6)}`);
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_OUTPUT: path.join(dir, 'out'),
      [inputVariable('apiToken')]: DEMO_TOKEN,
      [inputVariable('team')]: 'My Team',
      [inputVariable('replicas')]: 'two',
      [inputVariable('env')]: secrets.join('\n'),
    };
    const { code, stdout } = await runWithSlowReader(env, 1_000);
    expect(stdout.length).toBeGreaterThan(64 * 1024);
    expect(code).toBe(1);
    expect(errorLines(stdout)).toHaveLength(1);
    expect(errorLines(stdout)[0]).toContain('replicas');
  }, 60_000);
});
