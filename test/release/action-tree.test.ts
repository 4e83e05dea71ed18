/**
 * The action repository's tree (release/github-action/, `npm run package`) run exactly as the
 * GitHub runner runs an action: `node <tree>/<runs.main>` (the runner's node24, or ADAPTER_NODE),
 * inputs from action.yml's defaults plus the `with:` of the README's complete preview workflow,
 * against the Codesphere emulator and a GitHub API double.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunningEmulator } from '../../emulator/index.js';
import { startFixtureEmulator } from '../doubles/fixture.js';
import { startGitHubDouble, type GitHubDouble } from '../doubles/github-double.js';
import {
  DEMO_TOKEN,
  GITHUB_TOKEN,
  inputVariable,
  parseOutputFile,
  repoRoot,
  spawnNode,
} from '../github-action/harness.js';
import { pullRequestPayload, REPO } from '../github-action/payloads.js';
import { assembleActionTree, readmeSection } from '../../scripts/release/package.js';
import { readReleaseConfig } from '../../scripts/release/release-config.js';

const PREVIEW_API_KEY = 'preview-api-key-7f3a9c';
/** What `${{ secrets.NAME }}` and `${{ github.token }}` evaluate to in this run. */
const EXPRESSIONS: Record<string, string> = {
  'secrets.CODESPHERE_API_TOKEN': DEMO_TOKEN,
  'secrets.PREVIEW_API_KEY': PREVIEW_API_KEY,
  'github.token': GITHUB_TOKEN,
};
const SECRETS = [DEMO_TOKEN, PREVIEW_API_KEY, GITHUB_TOKEN];

interface ActionYml {
  name: string;
  description: string;
  branding?: { icon?: string; color?: string };
  inputs: Record<string, { default?: string }>;
  runs: { using: string; main: string };
}

/** The runner evaluates `${{ expr }}` before the action starts; an unknown one fails the test. */
function evaluate(value: string): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expression: string) => {
    const result = EXPRESSIONS[expression];
    if (result === undefined) throw new Error(`no value for \${{ ${expression} }}`);
    return result;
  });
}

/** The `with:` of the README workflow's step that uses this release's action reference. */
function readmeWorkflowWith(uses: string): Record<string, string> {
  const section = readmeSection('github');
  const block = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .find((yaml) => yaml.startsWith('# .github/workflows/codesphere-preview.yml'));
  expect(block, 'the README has the complete preview workflow').toBeDefined();
  const workflow = parse(block ?? '') as {
    jobs: Record<string, { steps: Array<{ uses?: string; with?: Record<string, string> }> }>;
  };
  const step = Object.values(workflow.jobs)
    .flatMap((job) => job.steps)
    .find((candidate) => candidate.uses === uses);
  expect(step, `a step uses ${uses}`).toBeDefined();
  return step?.with ?? {};
}

let emulator: RunningEmulator;
let github: GitHubDouble;
let tree: string;
let runnerTemp: string;

beforeAll(async () => {
  tree = assembleActionTree();
  emulator = await startFixtureEmulator();
  github = await startGitHubDouble();
  runnerTemp = mkdtempSync(path.join(tmpdir(), 'action-tree-'));
});
afterAll(async () => {
  await github.close();
  await emulator.close();
  rmSync(runnerTemp, { recursive: true, force: true });
});

async function runAsRunner(action: 'opened' | 'closed', number: number) {
  const metadata = parse(readFileSync(path.join(tree, 'action.yml'), 'utf8')) as ActionYml;
  const release = readReleaseConfig();
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(metadata.inputs)) {
    if (input.default !== undefined) inputs[name] = evaluate(String(input.default));
  }
  for (const [name, value] of Object.entries(readmeWorkflowWith(release.actionReference))) {
    inputs[name] = evaluate(String(value));
  }
  // The one difference from a user's workflow: Codesphere is the emulator.
  inputs['apiUrl'] = emulator.url;
  const eventPath = path.join(runnerTemp, `event-${action}.json`);
  const outputPath = path.join(runnerTemp, `output-${action}.txt`);
  const summaryPath = path.join(runnerTemp, `summary-${action}.md`);
  writeFileSync(eventPath, JSON.stringify(pullRequestPayload({ action, number })));
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: runnerTemp,
    RUNNER_TEMP: runnerTemp,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_ACTION_PATH: tree,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `acme/${REPO}`,
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: github.url,
    GITHUB_GRAPHQL_URL: `${github.url}/graphql`,
    GITHUB_RUN_ID: '5150',
    GITHUB_RUN_NUMBER: '3',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'Codesphere preview',
    GITHUB_JOB: 'preview',
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
  };
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
  const run = await spawnNode([path.join(tree, metadata.runs.main)], env);
  const visible = `${run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')}\n${run.stderr}`;
  for (const secret of SECRETS) expect(visible.includes(secret), 'a secret in the log').toBe(false);
  return {
    ...run,
    outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
    summary: readFileSync(summaryPath, 'utf8'),
  };
}

describe('release/github-action (the action repository)', () => {
  it('holds action.yml at its root, runs.main inside it on node24, the bundle, README, LICENSE and the local-action entry only', () => {
    const metadata = parse(readFileSync(path.join(tree, 'action.yml'), 'utf8')) as ActionYml;
    expect(metadata.runs.using).toBe('node24');
    expect(readdirSync(tree).sort()).toEqual([
      'LICENSE',
      'README.md',
      'action.yml',
      'dist',
      'local-action.mjs',
      'package.json',
    ]);
    expect(readdirSync(path.join(tree, path.dirname(metadata.runs.main)))).toContain(
      path.basename(metadata.runs.main),
    );
    const readme = readFileSync(path.join(tree, 'README.md'), 'utf8');
    expect(readme).toContain(`uses: ${readReleaseConfig().actionReference}`);
    expect(readme).toContain('| `vpnConfig`');
    expect(readme, 'no link into the source tree left relative').not.toMatch(/\]\((?!https?:|#|LICENSE\))/);
    expect(readFileSync(path.join(tree, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('passes the Marketplace rules: a description under 125 characters, branding, no workflow files', () => {
    const metadata = parse(readFileSync(path.join(tree, 'action.yml'), 'utf8')) as ActionYml;
    expect(metadata.description.trim().length).toBeLessThan(125);
    expect(metadata.branding?.icon).toBeTruthy();
    expect(metadata.branding?.color).toBeTruthy();
    const all = readdirSync(tree, { recursive: true, encoding: 'utf8' });
    expect(all.filter((file) => file.startsWith('.github') || /workflows/.test(file))).toEqual([]);
  });

  it('has a package.json at its root (@github/local-action requires one), depending on the @actions/core we bundle', () => {
    const pkg = JSON.parse(readFileSync(path.join(tree, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ version: readReleaseConfig().version, main: 'dist/index.js', private: true });
    expect(pkg['type']).toBe('module');
    const bundled = JSON.parse(
      readFileSync(path.join(repoRoot, 'node_modules/@actions/core/package.json'), 'utf8'),
    ) as {
      version: string;
    };
    expect(pkg['dependencies']).toEqual({ '@actions/core': bundled.version });
  });

  it("deploys the README workflow's pull request from the tree, then deletes it when closed", async () => {
    const opened = await runAsRunner('opened', 31);
    expect(opened.code, `${opened.stdout}\n${opened.stderr}`).toBe(0);
    const workspace = emulator.state().workspaces.find((w) => w.name === `${REPO}-#31`);
    expect(workspace, 'workspace shop-#31').toBeDefined();
    expect(workspace?.vpnConfig).toBe('office');
    expect(workspace?.replicas).toBe(2);
    expect(opened.outputs['result']).toBe('created');
    expect(opened.outputs['vpn-check']).toBe('ok');
    expect(opened.outputs['deployment-url']).toBe(`https://${workspace?.devDomain ?? ''}`);

    const closed = await runAsRunner('closed', 31);
    expect(closed.code, `${closed.stdout}\n${closed.stderr}`).toBe(0);
    expect(closed.outputs['result']).toBe('deleted');
    expect(emulator.state().workspaces.some((w) => w.name === `${REPO}-#31`)).toBe(false);
  });
});
