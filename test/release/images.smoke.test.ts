/**
 * Smoke tests of the built images (release/images/*.oci.tar from `npm run package`), each run the
 * way its platform runs it, with buildah (chroot isolation, host network) against the Codesphere
 * emulator on loopback:
 * - GitLab: the job's `script:` through the image's shell (`sh -c /app/server`) in a fresh working
 *   directory with a merge request pipeline's variables, then the stop job with no checkout;
 * - Bitbucket: the ENTRYPOINT read back from the image config, with the pipe's variables.
 * Needs root and the archives; elsewhere it skips with a notice. Under CI=true as root it must run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../emulator/index.js';
import { startFixtureEmulator, userVariables } from '../doubles/fixture.js';
import {
  bitbucketStepEnv,
  DEMO_TOKEN,
  GITLAB_JOB_TOKEN,
  gitlabJobEnv,
  plainText,
} from '../doubles/run-entry.js';
import {
  archivePath,
  buildah,
  buildahStorage,
  containerConfig,
  type ImageConfig,
} from '../../scripts/release/images.js';
import { readReleaseConfig } from '../../scripts/release/release-config.js';

const mustRun = process.env['CI'] === 'true' && process.getuid?.() === 0;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'running images with buildah needs root';
  for (const adapter of ['gitlab-image', 'bitbucket-pipe'] as const) {
    if (!existsSync(archivePath(adapter)))
      return `${archivePath(adapter)} is missing: run "npm run package" first`;
  }
  return undefined;
}

const reason = skipReason();
if (reason !== undefined && !mustRun) {
  console.log(`NOTICE image smoke tests skipped: ${reason}.`);
}

interface ContainerRun {
  code: number | null;
  text: string;
  seconds: number;
}

/** `buildah run` without blocking this process: the emulator answering the container runs here. */
function buildahRun(
  container: string,
  options: { env: Record<string, string>; mount: string; workdir: string; command: string[] },
): Promise<ContainerRun> {
  const started = Date.now();
  const envArgs = Object.entries(options.env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
  const args = [
    'run',
    '--isolation',
    'chroot',
    '--network',
    'host',
    '--volume',
    `${options.mount}:${options.workdir}`,
    '--workingdir',
    options.workdir,
    ...envArgs,
    container,
    '--',
    ...options.command,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('buildah', [...buildahStorage, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, text: plainText(output), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

const lastLine = (run: ContainerRun) =>
  run.text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1) ?? '';

describe.skipIf(reason !== undefined && !mustRun)('built images, run as their platforms run them', () => {
  let emulator: RunningEmulator;
  const containers: string[] = [];
  const dirs: string[] = [];
  const release = readReleaseConfig();

  beforeAll(async () => {
    if (reason !== undefined) throw new Error(`image smoke tests must run under CI=true as root: ${reason}`);
    emulator = await startFixtureEmulator();
  });
  afterAll(async () => {
    for (const container of containers) buildah(['rm', container], { quiet: true });
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await emulator?.close();
  });

  function fromArchive(adapter: 'gitlab-image' | 'bitbucket-pipe'): {
    container: string;
    config: ImageConfig;
  } {
    const container = buildah(['from', '--quiet', `oci-archive:${archivePath(adapter)}`]);
    containers.push(container);
    return { container, config: containerConfig(container) };
  }

  function freshDir(prefix: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    dirs.push(dir);
    return dir;
  }

  function expectLabels(config: ImageConfig): void {
    const labels = config.Labels ?? {};
    expect(labels['org.opencontainers.image.version']).toBe(release.version);
    expect(labels['org.opencontainers.image.source']).toBe(release.sourceUrl);
    expect(labels['org.opencontainers.image.licenses']).toBe(release.license);
    expect(labels['org.opencontainers.image.revision']).toMatch(/^[0-9a-f]{40}$/);
    expect(Number.isNaN(Date.parse(labels['org.opencontainers.image.created'] ?? ''))).toBe(false);
  }

  it('GitLab: an MR pipeline job deploys and writes deploy.env, the stop job deletes', async () => {
    const { container, config } = fromArchive('gitlab-image');
    expectLabels(config);
    expect(config.Entrypoint ?? []).toEqual([]);
    const projectDir = '/builds/acme/web/shop';
    // No GitLab token: the job writes no MR note, so no GitLab double is needed on this path.
    const variables = { ...userVariables(emulator, ''), ACCESS_TOKEN: '' };
    const job = freshDir('gitlab-job');
    const deploy = await buildahRun(container, {
      env: {
        ...gitlabJobEnv({ mergeRequestIid: 5, apiV4Url: 'http://127.0.0.1:9/api/v4' }, projectDir),
        ...variables,
      },
      mount: job,
      workdir: projectDir,
      command: ['sh', '-c', '/app/server'],
    });
    console.log(`smoke gitlab deploy: exit ${String(deploy.code)} in ${deploy.seconds.toFixed(1)} s`);
    expect(deploy.code, deploy.text).toBe(0);
    const workspace = emulator.state().workspaces.find((w) => w.name === 'shop-!5');
    expect(workspace, 'workspace shop-!5').toBeDefined();
    expect(workspace?.vpnConfig).toBe('office');
    expect(lastLine(deploy)).toMatch(/^✔ Preview created/);
    const dotenv = readFileSync(path.join(job, 'deploy.env'), 'utf8');
    expect(dotenv).toContain(`DYNAMIC_ENVIRONMENT_URL=https://${workspace?.devDomain ?? ''}`);
    for (const secret of [DEMO_TOKEN, GITLAB_JOB_TOKEN]) expect(deploy.text + dotenv).not.toContain(secret);

    const stopDir = freshDir('gitlab-stop'); // GIT_STRATEGY: none, no checkout
    const stop = await buildahRun(container, {
      env: {
        ...gitlabJobEnv(
          { mergeRequestIid: 5, stop: true, apiV4Url: 'http://127.0.0.1:9/api/v4' },
          projectDir,
        ),
        ...variables,
      },
      mount: stopDir,
      workdir: projectDir,
      command: ['sh', '-c', '/app/server'],
    });
    console.log(`smoke gitlab stop: exit ${String(stop.code)} in ${stop.seconds.toFixed(1)} s`);
    expect(stop.code, stop.text).toBe(0);
    expect(emulator.state().workspaces.some((w) => w.name === 'shop-!5')).toBe(false);
  });

  it("Bitbucket: the image's ENTRYPOINT with the pipe's variables deploys and writes the output variables", async () => {
    const { container, config } = fromArchive('bitbucket-pipe');
    expectLabels(config);
    expect(config.Entrypoint).toEqual(['node', '/app/dist/index.js']);
    const cloneDir = '/opt/atlassian/pipelines/agent/build';
    const step = freshDir('bitbucket-step');
    writeFileSync(path.join(step, 'pipe-variables.env'), '');
    const run = await buildahRun(container, {
      env: {
        ...bitbucketStepEnv({ pullRequestId: 9, apiUrl: 'http://127.0.0.1:9' }, cloneDir),
        BITBUCKET_PIPELINES_VARIABLES_PATH: `${cloneDir}/pipe-variables.env`,
        ...userVariables(emulator, ''),
        ACCESS_TOKEN: '',
      },
      mount: step,
      workdir: cloneDir,
      command: config.Entrypoint ?? [],
    });
    console.log(`smoke bitbucket deploy: exit ${String(run.code)} in ${run.seconds.toFixed(1)} s`);
    expect(run.code, run.text).toBe(0);
    const workspace = emulator.state().workspaces.find((w) => w.name === 'shop-pr-9');
    expect(workspace, 'workspace shop-pr-9').toBeDefined();
    expect(lastLine(run)).toMatch(/^✔ Preview created/);
    expect(readFileSync(path.join(step, 'pipe-variables.env'), 'utf8')).toBe(
      `CODESPHERE_URL=https://${workspace?.devDomain ?? ''}\nCODESPHERE_WORKSPACE_ID=${String(workspace?.id)}\n`,
    );
  });
});
