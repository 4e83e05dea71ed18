/**
 * What cannot be run here (no Docker engine), checked statically so the images cannot silently
 * break: each Dockerfile's COPY sources exist after `npm run build`, its entry path is the one the
 * docs tell users to call, and the pipe's metadata, README and code agree on image and variables.
 */
import { docFileOf } from '../../scripts/release/docs.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PIPE_VARIABLES } from '../../bitbucket-pipe/src/main.js';
import { COMMON_VARIABLES } from '../../shared/ci/variables.js';
import { repoRoot } from '../doubles/run-entry.js';
import { pipeReadmePath, pipeReference, readmeIsCurrent, readPipeYml } from './pipe-readme.js';

interface Dockerfile {
  from: string[];
  copies: Array<{ sources: string[]; destination: string }>;
  entrypoint: string | undefined;
  cmd: string | undefined;
}

/** Enough of the Dockerfile syntax for our two files: continuation lines, comments, COPY, FROM, ENTRYPOINT, CMD. */
function readDockerfile(file: string): Dockerfile {
  const logical = readFileSync(file, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const result: Dockerfile = { from: [], copies: [], entrypoint: undefined, cmd: undefined };
  // ARG defaults before the first FROM may name the base (`ARG BASE=node:24-alpine`, `FROM ${BASE}`).
  const args: Record<string, string> = {};
  for (const line of logical) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const operands = rest.filter((arg) => !arg.startsWith('--'));
    switch (instruction.toUpperCase()) {
      case 'ARG': {
        const [name = '', value = ''] = (operands[0] ?? '').split('=');
        if (result.from.length === 0) args[name] = value;
        break;
      }
      case 'FROM':
        result.from.push(
          (operands[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_, name: string) => args[name] ?? ''),
        );
        break;
      case 'COPY':
        result.copies.push({
          sources: operands.slice(0, -1),
          destination: operands[operands.length - 1] ?? '',
        });
        break;
      case 'ENTRYPOINT':
        result.entrypoint = line.slice(instruction.length).trim();
        break;
      case 'CMD':
        result.cmd = line.slice(instruction.length).trim();
        break;
    }
  }
  return result;
}

/** Where a COPY source ends up in the image, for `dist/` -> `/app/dist/`-style directory copies. */
function imagePath(copy: { sources: string[]; destination: string }, source: string, file: string): string {
  const dest = copy.destination;
  if (dest.endsWith('/') && source.endsWith('/')) return path.posix.join(dest, file);
  if (dest.endsWith('/')) return path.posix.join(dest, path.posix.basename(source));
  return dest;
}

function shipped(dockerfile: Dockerfile, relative: string): string | undefined {
  for (const copy of dockerfile.copies) {
    for (const source of copy.sources) {
      if (source === relative) return imagePath(copy, source, '');
      if (source.endsWith('/') && relative.startsWith(source)) {
        return imagePath(copy, source, relative.slice(source.length));
      }
    }
  }
  return undefined;
}

function readmeSection(name: string): string {
  const readme = readFileSync(path.join(repoRoot, docFileOf(name)), 'utf8');
  const start = readme.indexOf(`<!-- section:${name} -->`);
  const end = readme.indexOf(`<!-- /section:${name} -->`);
  return start >= 0 && end > start ? readme.slice(start, end) : '';
}

function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

const adapters = [
  { name: 'gitlab-image', context: path.join(repoRoot, 'gitlab-image') },
  { name: 'bitbucket-pipe', context: path.join(repoRoot, 'bitbucket-pipe') },
];

describe.each(adapters)('$name/Dockerfile', ({ context }) => {
  const dockerfile = readDockerfile(path.join(context, 'Dockerfile'));

  it('builds on a small Node 24 base with a shell', () => {
    expect(dockerfile.from).toHaveLength(1);
    expect(dockerfile.from[0]).toMatch(/^node:24(\.\d+)*-(alpine|slim|bookworm-slim)/);
  });

  it('COPYs only sources that exist after the build, including the bundle and its package.json', () => {
    for (const copy of dockerfile.copies) {
      for (const source of copy.sources) {
        expect(existsSync(path.join(context, source)), `${source} (run "npm run build" first)`).toBe(true);
      }
    }
    expect(shipped(dockerfile, 'dist/index.js')).toBe('/app/dist/index.js');
    // Without it node would have to guess that the bundle is an ES module.
    expect(shipped(dockerfile, 'dist/package.json')).toBe('/app/dist/package.json');
    const pkg = JSON.parse(readFileSync(path.join(context, 'dist/package.json'), 'utf8')) as {
      type?: string;
    };
    expect(pkg.type).toBe('module');
  });
});

describe('GitLab image entry', () => {
  const context = path.join(repoRoot, 'gitlab-image');
  const dockerfile = readDockerfile(path.join(context, 'Dockerfile'));

  it('ships /app/server, an executable shell script that runs the bundle', () => {
    expect(shipped(dockerfile, 'server')).toBe('/app/server');
    const server = readFileSync(path.join(context, 'server'), 'utf8');
    expect(server.startsWith('#!/bin/sh\n')).toBe(true);
    expect(server).toMatch(/^exec node \/app\/dist\/index\.js "\$@"$/m);
    expect(statSync(path.join(context, 'server')).mode & 0o111, 'executable bits').not.toBe(0);
  });

  it('keeps a neutral entrypoint and a shell, so GitLab can feed it the job script', () => {
    expect(dockerfile.entrypoint).toBe('[]');
    expect(dockerfile.cmd).toBe('["/bin/sh"]');
  });

  it('is what the README tells GitLab users to run', () => {
    const section = readmeSection('gitlab');
    expect(section, 'README section gitlab').not.toBe('');
    type Job = { image?: string | { name?: string }; script?: string[]; extends?: string };
    const jobs = yamlBlocks(section).flatMap((block) => {
      const config = (parse(block) ?? {}) as Record<string, Job>;
      // `extends:` a hidden job: the job's image and script are the template's unless it sets its own.
      return Object.entries(config)
        .filter(([name]) => !name.startsWith('.'))
        .map(([, job]) => ({ ...(job?.extends ? config[job.extends] : {}), ...job }));
    });
    const ours = jobs.filter((job) => {
      const image = typeof job?.image === 'string' ? job.image : job?.image?.name;
      return image?.includes('codesphere-deploy-gitlab') === true;
    });
    expect(ours.length, 'jobs using the image').toBeGreaterThanOrEqual(3);
    for (const job of ours) expect(job.script).toEqual(['/app/server']);
  });
});

describe('Bitbucket pipe packaging', () => {
  const context = path.join(repoRoot, 'bitbucket-pipe');
  const dockerfile = readDockerfile(path.join(context, 'Dockerfile'));
  const pipe = readPipeYml();

  it('runs the bundle as the ENTRYPOINT', () => {
    expect(dockerfile.entrypoint).toBe('["node", "/app/dist/index.js"]');
  });

  it("has pipe.yml in Atlassian's format with a pinned image", () => {
    expect(pipe.image).toMatch(/:\d+\.\d+\.\d+$/);
    expect(pipe.category).toBe('Deployment');
    const changelog = readFileSync(path.join(context, 'CHANGELOG.md'), 'utf8');
    expect(changelog, 'CHANGELOG has the image version').toContain(`## ${pipe.image.split(':')[1] ?? ''}`);
  });

  it('lists exactly the variables the pipe reads', () => {
    const documented = pipe.variables.map((variable) => variable.name).sort();
    expect(documented).toEqual([...COMMON_VARIABLES, ...PIPE_VARIABLES].sort());
  });

  it('has a README whose YAML Definition and Variables table are generated from pipe.yml', async () => {
    expect(await readmeIsCurrent(), 'run: npx tsx test/bitbucket-pipe/pipe-readme.ts --write').toBe(true);
    const readme = readFileSync(pipeReadmePath, 'utf8');
    for (const heading of [
      '## YAML Definition',
      '## Variables',
      '## Details',
      '## Prerequisites',
      '## Examples',
    ]) {
      expect(readme).toContain(heading);
    }
  });

  it('references the pipe by its image, and uses only its variables, in every example', () => {
    const names = new Set(pipe.variables.map((variable) => variable.name));
    const docs = {
      'bitbucket-pipe/README.md': readFileSync(pipeReadmePath, 'utf8'),
      'README.md': readmeSection('bitbucket'),
    };
    expect(docs['README.md'], 'README section bitbucket').not.toBe('');
    for (const [file, markdown] of Object.entries(docs)) {
      const steps: Array<{ pipe?: unknown; variables?: Record<string, unknown> }> = [];
      const collect = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(collect);
        else if (node && typeof node === 'object') {
          if ('pipe' in node) steps.push(node);
          Object.values(node).forEach(collect);
        }
      };
      for (const block of yamlBlocks(markdown))
        for (const doc of parseAllDocuments(block)) collect(doc.toJS());
      expect(steps.length, `${file} has pipe examples`).toBeGreaterThan(0);
      for (const step of steps) {
        expect(step.pipe, file).toBe(pipeReference(pipe));
        for (const name of Object.keys(step.variables ?? {}))
          expect(names.has(name), `${file}: ${name}`).toBe(true);
      }
    }
  });
});
