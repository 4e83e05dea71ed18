/**
 * Runs the built action (github-action/dist/index.js) the way the GitHub runner does: a separate
 * `node` process whose environment carries INPUT_* variables (named by @actions/core's getInput
 * rule: spaces to underscores, upper-cased, dashes kept), the GITHUB_* context variables, an event
 * payload file, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files it writes to.
 *
 * The child gets a clean environment (no inherited GITHUB_* or INPUT_*), so the tests behave the
 * same on a laptop and inside a real GitHub workflow.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterNode } from '../doubles/run-entry.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const actionEntry = path.join(repoRoot, 'github-action/dist/index.js');

export const DEMO_TOKEN = 'csdemo-token-0123456789abcdef';
export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-password';
export const GITHUB_TOKEN = 'ghs_test0123456789abcdefghijklmnopqrstuv';

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** stdout without the `::add-mask::` commands (the only place a secret may legitimately appear). */
  visibleStdout: string;
}

export interface RunOptions {
  inputs: Record<string, string>;
  eventName: string;
  payload: object;
  /** GITHUB_API_URL: the GitHub API double. */
  githubApiUrl: string;
  repository?: string;
  actor?: string;
  extraEnv?: Record<string, string>;
}

/** The runner's input variable name for an input (see @actions/core getInput). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export async function runAction(options: RunOptions): Promise<ActionRun> {
  if (!existsSync(actionEntry)) throw new Error(`${actionEntry} is missing: run "npm run build" first.`);
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-action-run-'));
  try {
    const eventPath = path.join(dir, 'event.json');
    const outputPath = path.join(dir, 'output.txt');
    const summaryPath = path.join(dir, 'summary.md');
    writeFileSync(eventPath, JSON.stringify(options.payload, null, 2));
    writeFileSync(outputPath, '');
    writeFileSync(summaryPath, '');
    const repository = options.repository ?? 'acme/shop';
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? dir,
      RUNNER_TEMP: dir,
      GITHUB_ACTIONS: 'true',
      CI: 'true',
      GITHUB_EVENT_NAME: options.eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: repository,
      GITHUB_REPOSITORY_OWNER: repository.split('/')[0] ?? '',
      GITHUB_ACTOR: options.actor ?? 'octocat',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: options.githubApiUrl,
      GITHUB_GRAPHQL_URL: `${options.githubApiUrl}/graphql`,
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_NUMBER: '7',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW: 'preview',
      GITHUB_JOB: 'deploy',
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      ...options.extraEnv,
    };
    // What action.yml's defaults give when the workflow omits an input (the runner fills them in).
    const defaults: Record<string, string> = {
      plan: 'Boost',
      onDemand: 'false',
      restricted: 'false',
      apiUrl: 'https://codesphere.com',
      vpnSwitch: 'in-place',
      replicas: '1',
      timeoutSeconds: '900',
      action: 'auto',
      dryRun: 'false',
      comment: 'true',
      'github-token': GITHUB_TOKEN,
    };
    for (const [name, value] of Object.entries({ ...defaults, ...options.inputs })) {
      env[inputVariable(name)] = value;
    }
    const { code, stdout, stderr } = await spawnNode([actionEntry], env);
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
      summary: readFileSync(summaryPath, 'utf8'),
      visibleStdout: stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function spawnNode(
  args: string[],
  env: Record<string, string>,
  onStdout?: (chunk: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(adapterNode, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks (written by core.setOutput). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '');
    if (header === null) continue;
    const [, name, delimiter] = header;
    const value: string[] = [];
    for (i += 1; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    if (name !== undefined) outputs[name] = value.join('\n');
  }
  return outputs;
}

/** The `::error::` lines a run printed (how @actions/core reports setFailed). */
export function errorLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('::error'));
}
