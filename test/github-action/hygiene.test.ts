/**
 * Input and runner hygiene of the built action (github-action/dist/index.js), run as the runner
 * runs it: the time budget bounds GitHub's API too, booleans follow the one rule, a malformed or
 * absent event file is one clear error, unwritable runner files are input errors before anything
 * is created or reported as what they are after, and event numbers are ids.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import {
  describeRun,
  runPullRequest,
  startFixtureEmulator,
  startGitHubDouble,
  type GitHubDouble,
} from './fixture.js';
import { DEMO_TOKEN, errorLines, runAction } from './harness.js';
import { pullRequestPayload } from './payloads.js';
import { adapterNode, repoRoot } from '../doubles/run-entry.js';

let emulator: RunningEmulator;
let github: GitHubDouble;
let scratch: string;

beforeAll(async () => {
  emulator = await startFixtureEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(async () => {
  await emulator.reset();
  github = await startGitHubDouble({ token: undefined });
  scratch = mkdtempSync(path.join(tmpdir(), 'gh-hygiene-'));
});
afterEach(async () => {
  await github.close();
  rmSync(scratch, { recursive: true, force: true });
});

const workspaces = () => emulator.state().workspaces;
const creates = () =>
  emulator.requestLog().filter((e) => e.method === 'POST' && e.path === '/api/workspaces').length;
const sha = (n: number) => n.toString(16).padStart(40, 'c');
const visible = (run: { visibleStdout: string; stderr: string }) => `${run.visibleStdout}\n${run.stderr}`;

/** Accepts connections and never answers: a hung GitHub API (or a proxy in front of it). */
async function silentServer(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('the time budget bounds the GitHub API', () => {
  it('a GitHub API that never answers: the preview deploys, outputs are written, the job ends near its budget', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const run = await runAction({
        eventName: 'pull_request',
        payload: pullRequestPayload({ action: 'opened', number: 31, sha: sha(31) }),
        githubApiUrl: silent.url,
        inputs: {
          apiUrl: emulator.url,
          apiToken: DEMO_TOKEN,
          team: 'My Team',
          vpnConfig: 'office',
          timeoutSeconds: '12',
        },
      });
      const elapsed = Date.now() - started;
      expect(run.code, describeRun(run)).toBe(0);
      // The budget runs from run()'s start; a node process and the bundle's load add a few
      // seconds on a loaded machine. Before the fix this run had not ended after 180 s.
      expect(elapsed).toBeLessThan(12_000 + 8_000);
      const w = workspaces().find((x) => x.name === 'shop-#31');
      expect(w).toBeDefined();
      expect(run.outputs).toMatchObject({
        'deployment-url': `https://${w?.devDomain ?? ''}`,
        'workspace-name': 'shop-#31',
        result: 'created',
      });
      const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning'));
      expect(warnings.join('\n')).toMatch(/no answer within|time budget/);
      expect(errorLines(run.stdout)).toEqual([]);
    } finally {
      silent.close();
    }
  }, 60_000);
});

describe('booleans follow one rule', () => {
  it.each([
    ['Yes', 1],
    [' ON ', 1],
    ['1', 1],
    ['False', 0],
    ['no', 0],
    ['off', 0],
  ])('comment: %j', async (comment, expected) => {
    const run = await runPullRequest(
      { emulator, github, inputs: { comment, onDemand: 'NO' } },
      { action: 'opened', number: 40, sha: sha(40) },
    );
    expect(run.code, describeRun(run)).toBe(0);
    expect(github.comments.filter((c) => c.issue === 40)).toHaveLength(expected);
  });

  it('an invalid boolean names the input and lists the rule, before anything is created', async () => {
    const run = await runPullRequest(
      { emulator, github, inputs: { comment: 'maybe' } },
      { action: 'opened', number: 41, sha: sha(41) },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run.stdout).join('\n')).toContain(
      'Invalid input "comment": got "maybe"; expected true or false (also yes/no, on/off, 1/0, in any case)',
    );
    expect(creates()).toBe(0);
  });

  it.each([
    ['replicas', 'abc', 'Invalid input "replicas": got "abc"'],
    ['vpnSwitch', 'sideways', 'Invalid input "vpnSwitch": got "sideways"'],
    ['timeoutSeconds', '-5', 'Invalid input "timeoutSeconds": got "-5"'],
    ['env', 'NOT A LINE', 'Invalid input "env": line 1 is not NAME=value'],
  ])(
    'an input the core refuses (%s=%s) is an input error: no GitHub deployment, no comment, nothing created',
    async (name, value, message) => {
      const run = await runPullRequest(
        { emulator, github, inputs: { [name]: value } },
        { action: 'opened', number: 42, sha: sha(42) },
      );
      expect(run.code, describeRun(run)).toBe(1);
      expect(errorLines(run.stdout).join('\n')).toContain(message);
      expect(creates()).toBe(0);
      expect(github.deployments).toHaveLength(0);
      expect(github.comments).toHaveLength(0);
    },
  );
});

describe('the event file', () => {
  it.each([
    ['malformed JSON', '{"action": "opened", "number": 12,', 'is not valid JSON'],
    ['an empty file', '', 'is not valid JSON (it is empty)'],
    ['an absent file', undefined, 'does not exist'],
  ])('%s: one clear error naming the file, no stack, nothing created', async (_name, content, why) => {
    const eventPath = path.join(scratch, 'event.json');
    if (content !== undefined) writeFileSync(eventPath, content);
    const run = await runAction({
      eventName: 'pull_request',
      payload: {},
      githubApiUrl: github.url,
      inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team' },
      extraEnv: { GITHUB_EVENT_PATH: eventPath },
    });
    expect(run.code, describeRun(run)).toBe(1);
    const errors = errorLines(run.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`The event payload file GITHUB_EVENT_PATH=${eventPath} ${why}`);
    expect(visible(run)).not.toMatch(/SyntaxError|\n\s+at |Unexpected end of JSON/);
    expect(creates()).toBe(0);
    expect(github.calls).toEqual([]);
  });
});

describe('runner files', () => {
  it.each([
    ['GITHUB_OUTPUT', 'a folder', () => scratch, 'is a folder'],
    ['GITHUB_STEP_SUMMARY', 'a folder', () => scratch, 'is a folder'],
    ['GITHUB_OUTPUT', 'a path under a file', () => writeFile('plain.txt') + '/out', 'lies under'],
  ])(
    '%s as %s: an input error naming it, before anything is created',
    async (variable, _kind, target, why) => {
      const given = target();
      const run = await runPullRequest(
        { emulator, github, extra: { extraEnv: { [variable]: given } } },
        { action: 'opened', number: 50, sha: sha(50) },
      );
      expect(run.code, describeRun(run)).toBe(1);
      expect(errorLines(run.stdout).join('\n')).toContain(
        `Invalid input "${variable}": got "${given}", which ${why}`,
      );
      expect(creates()).toBe(0);
      expect(github.deployments).toHaveLength(0);
      expect(github.comments).toHaveLength(0);
    },
  );

  it('GITHUB_OUTPUT that fails only when written (/dev/full): the deploy is not called failed', async () => {
    const run = await runPullRequest(
      { emulator, github, extra: { extraEnv: { GITHUB_OUTPUT: '/dev/full' } } },
      { action: 'opened', number: 51, sha: sha(51) },
    );
    expect(run.code, describeRun(run)).toBe(1);
    const w = workspaces().find((x) => x.name === 'shop-#51');
    expect(w).toBeDefined();
    const errors = errorLines(run.stdout).join('\n');
    expect(errors).toContain(`The preview is deployed (https://${w?.devDomain ?? ''})`);
    expect(errors).toContain('could not be written to GITHUB_OUTPUT="/dev/full" (ENOSPC)');
    expect(errors).not.toMatch(/Unexpected Error|Deployment failed/);
    const comment = github.comments.find((c) => c.issue === 51)?.body ?? '';
    expect(comment).not.toMatch(/failed/i);
    expect(github.deployments[0]?.statuses.at(-1)?.state).toBe('success');
  });
});

describe('event numbers are ids', () => {
  it.each([9.5, 0, -3])(
    'pull request number %j: an error naming the payload field, nothing created',
    async (n) => {
      const run = await runAction({
        eventName: 'pull_request',
        payload: pullRequestPayload({ action: 'opened', number: n, sha: sha(9) }),
        githubApiUrl: github.url,
        inputs: { apiUrl: emulator.url, apiToken: DEMO_TOKEN, team: 'My Team' },
      });
      expect(run.code, describeRun(run)).toBe(1);
      const errors = errorLines(run.stdout);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/number/);
      expect(creates()).toBe(0);
    },
  );
});

function writeFile(name: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, 'x');
  return file;
}

describe('the bundle runs the step unless its importer says it calls run() itself', () => {
  /** Runs `node <args>` with no runner variables: a started action fails naming GITHUB_REPOSITORY. */
  const node = (args: string[]) =>
    new Promise<{ code: number | null; output: string }>((done, fail) => {
      const child = spawn(adapterNode, args, {
        cwd: scratch,
        env: { PATH: process.env.PATH ?? '', HOME: scratch },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.on('error', fail);
      child.on('close', (code) => done({ code, output }));
    });
  const entry = path.join(repoRoot, 'github-action/dist/index.js');

  it.each([
    ['started by its path', () => [entry]],
    [
      'started through a symlinked action folder with --preserve-symlinks-main',
      () => {
        const link = path.join(scratch, 'action');
        symlinkSync(path.join(repoRoot, 'github-action'), link);
        return ['--preserve-symlinks-main', path.join(link, 'dist/index.js')];
      },
    ],
    ['started by its path without .js', () => [entry.replace(/\.js$/, '')]],
    [
      'imported by another module',
      () => ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(entry).href)})`],
    ],
  ])('%s: it runs (and fails here, outside a runner)', async (_how, args) => {
    const run = await node(args());
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/::error::.*GITHUB_REPOSITORY/);
  });

  it('imported by an entry that calls run() itself (as local-action.mjs does): it waits to be called', async () => {
    const run = await node([
      '--input-type=module',
      '-e',
      [
        "globalThis[Symbol.for('codesphere-deploy.github-action.calls-run-itself')] = true;",
        `const bundle = await import(${JSON.stringify(pathToFileURL(entry).href)});`,
        'console.log(typeof bundle.run);',
      ].join(' '),
    ]);
    expect(run).toEqual({ code: 0, output: 'function\n' });
  });
});
