/**
 * The user docs: README.md stays a quick-start page (16 KB at most) whose every link resolves to a
 * file in the tree, as do the links of docs/; the component's inputs table states each default; and
 * the CLI examples of docs/cli.md and the README run, with their CI's environment variables, against
 * the emulator.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, VirtualClock } from '../../emulator/index.js';
import { docFiles } from '../../scripts/release/docs.js';
import { readComponentSpec } from '../../scripts/release/package.js';
import { repoRoot } from '../../scripts/release/release-config.js';
import { CI_ENVIRONMENTS } from '../cli/ci-environments.js';
import { type CliRun, runCli } from '../cli/in-process.js';
import { DEMO_TOKEN } from '../doubles/run-entry.js';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

/** Relative link targets of a Markdown text, without their anchors. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] ?? '')
    .filter((link) => !/^(https?:|mailto:|#)/.test(link))
    .map((link) => link.split('#')[0] ?? '');
}

describe('README.md', () => {
  it('is 16 KB at most', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(16 * 1024);
  });

  it.each(docFiles())('%s: every relative link resolves to a file in the tree', (file) => {
    const missing = relativeLinks(read(file)).filter(
      (link) => !existsSync(path.resolve(repoRoot, path.dirname(file), link)),
    );
    expect(missing).toEqual([]);
  });

  it('has the four quick-starts, each 20 lines at most, and names the supported Node versions', () => {
    const readme = read('README.md');
    const starts = [...readme.matchAll(/^## Quick start: (.*)\n([\s\S]*?)(?=^## )/gm)];
    expect(starts.map((match) => match[1]?.split(' ')[0])).toEqual(['GitHub', 'GitLab', 'Bitbucket', 'any']);
    for (const [, name, body] of starts) {
      const code = /```\w*\n([\s\S]*?)```/.exec(body ?? '')?.[1] ?? '';
      expect(code.trimEnd().split('\n').length, `${name ?? ''} snippet`).toBeLessThanOrEqual(20);
    }
    expect(readme).toMatch(/Node 22 and Node 24/);
  });
});

describe('docs/gitlab.md', () => {
  it("states every component input's default", () => {
    const doc = read('docs/gitlab.md');
    for (const [name, input] of Object.entries(readComponentSpec().spec.inputs)) {
      const shown =
        input.default === undefined
          ? '(required)'
          : input.default === ''
            ? '(empty)'
            : `\`${String(input.default)}\``;
      expect(doc).toMatch(new RegExp(`\\| \`${name}\` +\\| ${shown.replace(/[()$[\]]/g, '\\$&')} +\\|`));
    }
  });
});

/** Shell words of one command line: single and double quotes, no expansions. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? '',
  );
}

/** The `npx codesphere-deploy …` lines of a doc section (until the next `## `). */
function cliCommands(doc: string, heading: string): string[][] {
  const start = doc.indexOf(`## ${heading}`);
  expect(start, `section ${heading}`).toBeGreaterThanOrEqual(0);
  const rest = doc.slice(start + 3);
  const section = rest.slice(0, rest.search(/^## /m) < 0 ? undefined : rest.search(/^## /m));
  const blocks = [...section.matchAll(/```\w*\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  return blocks.flatMap((block) =>
    [...block.matchAll(/npx codesphere-deploy ([^"\n#]+)/g)].map((match) => words((match[1] ?? '').trim())),
  );
}

describe('the CLI examples run with their CI environment against the emulator', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  const cwd = mkdtempSync(path.join(tmpdir(), 'docs-cli-'));
  // The CLI and the emulator share virtual time: polls and the teardowns' race checks take no real time.
  const clock = new VirtualClock();
  beforeAll(async () => {
    emulator = await startEmulator({
      timing: { provisioningMs: 30, stageQueueMs: 5, stageMs: 30, tunnelConnectMs: 20 },
      clock,
    });
  });
  afterAll(() => emulator.close());

  const cli = (argv: string[], env: Record<string, string>): Promise<CliRun> =>
    runCli(
      argv,
      { ...env, CODESPHERE_API_URL: emulator.url, CODESPHERE_API_TOKEN: DEMO_TOKEN },
      { clock, cwd },
    );

  it.each([
    ['docs/cli.md', 'Jenkins (multibranch pipeline)', 'Jenkins'],
    ['docs/cli.md', 'CircleCI', 'CircleCI'],
    ['docs/cli.md', 'Azure Pipelines', 'Azure Pipelines'],
    ['docs/cli.md', 'Buildkite', 'Buildkite'],
    ['README.md', 'Quick start: any CI', 'CircleCI'],
  ])('%s, %s (%s variables)', { timeout: 30_000 }, async (file, heading, ci) => {
    const env = CI_ENVIRONMENTS[ci] ?? {};
    const commands = cliCommands(read(file), heading);
    const deploys = commands.filter((argv) => argv[0] === 'deploy');
    expect(deploys.length, 'a deploy command').toBeGreaterThan(0);
    for (const argv of deploys) {
      const result = await cli(argv, env);
      expect(result.code, result.stderr).toBe(0);
      if (argv.includes('--json'))
        expect(JSON.parse(result.stdout)).toMatchObject({
          result: expect.stringMatching(/created|updated/) as unknown,
        });
      expect([...emulator.world.workspaces.values()].map((w) => w.name)).toEqual(['shop-#42']);
    }
    for (const argv of commands.filter((argv) => argv[0] === 'teardown')) {
      const result = await cli(argv, env);
      expect(result.code, result.stderr).toBe(0);
    }
    await cli(['teardown', '--team', 'My Team'], env);
    expect(emulator.world.workspaces.size).toBe(0);
  });
});
