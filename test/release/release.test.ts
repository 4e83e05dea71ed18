/**
 * One name, one version: package.json names what a release publishes, every snippet and piece
 * of metadata users or registries read is derived from it, and nothing is left as a placeholder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { readComponentSpec } from '../../scripts/release/package.js';
import { readReleaseConfig, repoRoot } from '../../scripts/release/release-config.js';
import { docFiles } from '../../scripts/release/docs.js';
import { DERIVED_FILES, staleFiles } from '../../scripts/release/sync.js';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const release = readReleaseConfig();

/** Everything a user copies or a registry reads. */
const PUBLISHED_FILES = [
  ...docFiles(),
  'bitbucket-pipe/README.md',
  'bitbucket-pipe/pipe.yml',
  'bitbucket-pipe/Dockerfile',
  'bitbucket-pipe/CHANGELOG.md',
  'github-action/action.yml',
  'gitlab-image/Dockerfile',
  'gitlab-image/templates/preview.yml',
];

/** What "fill this in yourself" looks like in a snippet. */
const PLACEHOLDERS = [
  /your-org/i,
  /my-org/i,
  /<registry>/i,
  /<owner>/i,
  /<version>/i,
  /\bOWNER\/REPO\b/,
  /\bTODO\b/,
  /\bFIXME\b/,
  /x\.y\.z/i,
  /codesphere-deploy[\w-]*:latest\b/,
  /codesphere-deploy[\w-]*@(main|master)\b/,
];

function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

/** Every reference to one of our artefacts, wherever it appears in a published file. */
function references(text: string): { kind: string; value: string }[] {
  const found: { kind: string; value: string }[] = [];
  for (const match of text.matchAll(/uses:\s+([^\s'"`]*codesphere-deploy[^\s'"`]*)/g))
    found.push({ kind: 'action', value: match[1] ?? '' });
  for (const match of text.matchAll(
    /(?<!docker:\/\/)\b([a-z0-9.-]+\/[^\s'"`]*codesphere-deploy-gitlab[^\s'"`]*)/g,
  ))
    found.push({ kind: 'gitlab image', value: match[1] ?? '' });
  for (const match of text.matchAll(/(docker:\/\/[^\s'"`]+)/g))
    found.push({ kind: 'pipe', value: match[1] ?? '' });
  for (const match of text.matchAll(/component:\s+([^\s'"`]*\/preview@[^\s'"`]*)/g))
    found.push({ kind: 'component', value: match[1] ?? '' });
  return found;
}

describe('one name, one version (package.json)', () => {
  it('has a release version, an MIT LICENSE at the root and a CHANGELOG entry for the version', () => {
    expect(release.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(release.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(read('bitbucket-pipe/CHANGELOG.md')).toContain(`## ${release.version}`);
  });

  it('every derived file is current (npm run release:sync writes them)', () => {
    expect(staleFiles(release)).toEqual([]);
  });

  it('a new version or namespace reaches every derived file', () => {
    const pkg = JSON.parse(read('package.json')) as { version: string; release: Record<string, string> };
    const moved = readReleaseConfig(
      JSON.stringify({
        ...pkg,
        version: '7.8.9',
        release: { ...pkg.release, imageNamespace: 'registry.acme.test/tools' },
      }),
    );
    for (const { file, render } of DERIVED_FILES) {
      const rendered = render(read(file), moved);
      expect(rendered, file).not.toBe(read(file));
      expect(rendered, file).not.toContain(release.gitlabImage);
      expect(rendered, file).not.toContain(release.bitbucketImage);
    }
  });

  it.each(PUBLISHED_FILES)('%s has no placeholder', (file) => {
    const text = read(file);
    for (const pattern of PLACEHOLDERS)
      expect(text, `${file} matches ${String(pattern)}`).not.toMatch(pattern);
  });

  it.each(PUBLISHED_FILES)('%s references the action, images, pipe and component as released', (file) => {
    const expected: Record<string, string> = {
      action: release.actionReference,
      'gitlab image': release.gitlabImage,
      pipe: release.pipeReference,
      component: release.componentReference,
    };
    for (const { kind, value } of references(read(file)))
      expect(value, `${file}: ${kind}`).toBe(expected[kind]);
  });

  it('the READMEs show every artefact by its released name', () => {
    const snippets = [...docFiles(), 'bitbucket-pipe/README.md']
      .flatMap((file) => codeBlocks(read(file)))
      .join('\n');
    const kinds = new Set(references(snippets).map((reference) => reference.kind));
    expect([...kinds].sort()).toEqual(['action', 'component', 'gitlab image', 'pipe']);
    // The snippets parse as YAML (a broken snippet is as bad as a placeholder).
    for (const block of docFiles().flatMap((file) => [...read(file).matchAll(/```yaml\n([\s\S]*?)```/g)])) {
      for (const doc of parseAllDocuments(block[1] ?? '')) expect(doc.errors, block[1]).toEqual([]);
    }
  });

  it('the component names its image by the released reference, and pipe.yml its source repository', () => {
    expect(readComponentSpec().spec.inputs['image']?.default).toBe(release.gitlabImage);
    const pipe = parse(read('bitbucket-pipe/pipe.yml')) as { image: string; repository: string };
    expect(pipe.image).toBe(release.bitbucketImage);
    expect(pipe.repository).toBe(release.sourceUrl);
  });

  it('the Dockerfiles label the images with the version, source and license of package.json', () => {
    for (const file of ['gitlab-image/Dockerfile', 'bitbucket-pipe/Dockerfile']) {
      const text = read(file);
      expect(text, file).toMatch(/^ARG BASE=node:24-alpine$/m);
      expect(text, file).toContain(`ARG VERSION=${release.version}\n`);
      expect(text, file).toContain(`ARG SOURCE=${release.sourceUrl}\n`);
      for (const label of ['source', 'version', 'revision', 'created', 'licenses'])
        expect(text, `${file}: ${label}`).toMatch(
          new RegExp(`org\\.opencontainers\\.image\\.${label}="\\$\\{[A-Z]+\\}"`),
        );
    }
  });
});
