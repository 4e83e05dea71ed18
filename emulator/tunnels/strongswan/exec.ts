/**
 * Running the system tools the driver needs (ip, ping, nc) without a shell, with a timeout,
 * and never throwing for a non-zero exit: callers decide what a failure means.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], timeoutMs = 10_000, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      { timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (error && !stdout && !stderr ? error.message : '') });
      },
    );
    // a command that exits before reading its input must not crash us with EPIPE
    child.stdin?.on('error', () => undefined);
    if (input === undefined) child.stdin?.end();
    else child.stdin?.end(input);
  });
}

/** Like `run`, but a non-zero exit is an error naming the command and what it printed. */
export async function mustRun(
  command: string,
  args: string[],
  timeoutMs = 10_000,
  input?: string,
): Promise<string> {
  const result = await run(command, args, timeoutMs, input);
  if (result.code !== 0) {
    const what = input
      ? `${command} ${args.join(' ')} <<< ${input.trim().replace(/\n/g, '; ')}`
      : `${command} ${args.join(' ')}`;
    throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Several `ip` commands in one process (`ip -batch`), optionally inside a namespace. */
export function ipBatch(lines: string[], netns?: string): Promise<string> {
  return mustRun('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], 10_000, `${lines.join('\n')}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `intervalMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
