/**
 * Where the user docs live: README.md (quick-starts) and docs/*.md, CONTRIBUTING.md, RELEASING.md
 * (the rest). Sections keep their `<!-- section:name -->` markers wherever they moved, so the
 * generators, the CI-file lint and the release names find them by name, not by file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './release-config.js';

/** Every user doc, repository-relative: README.md first, then docs/ (not docs/design/), then the root guides. */
export function docFiles(): string[] {
  const docsDir = path.join(repoRoot, 'docs');
  const docs = existsSync(docsDir)
    ? readdirSync(docsDir)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : [];
  return ['README.md', ...docs, 'CONTRIBUTING.md', 'RELEASING.md'].filter((file) =>
    existsSync(path.join(repoRoot, file)),
  );
}

/** The doc holding `<!-- section:name -->`; throws naming the section when none does. */
export function docFileOf(name: string): string {
  const file = docFiles().find((candidate) =>
    readFileSync(path.join(repoRoot, candidate), 'utf8').includes(`<!-- section:${name} -->`),
  );
  if (!file) throw new Error(`no doc has the "${name}" section markers (README.md, docs/*.md)`);
  return file;
}
