/**
 * Writes every published name and version where users and registries read them, from
 * package.json (scripts/release/release-config.ts): the README's and the pipe README's install
 * snippets, pipe.yml's `image:` and `repository:`, the Dockerfiles' label defaults and the GitLab
 * component's default image. Change the version or a name in package.json, then:
 *
 *   npm run release:sync            # rewrite the files
 *   npx tsx scripts/release/sync.ts    # exit 1 and list the files that are not current
 */
import { docFiles } from './docs.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readReleaseConfig, repoRoot, type ReleaseConfig } from './release-config.js';

/** One file and how its published names are derived from the release config. */
export interface DerivedFile {
  /** Path relative to the repository root. */
  file: string;
  render: (text: string, release: ReleaseConfig) => string;
}

/** The references any markdown snippet may hold: the action, both images, the component. */
function snippetReferences(text: string, release: ReleaseConfig): string {
  return (
    text
      .replace(/(uses:\s+)[^\s'"]*codesphere-deploy[^\s'"]*@[^\s'"]+/g, `$1${release.actionReference}`)
      .replace(/(image:\s+)[^\s'"]*codesphere-deploy-gitlab[^\s'"]*/g, `$1${release.gitlabImage}`)
      // The component's inputs table shows the image default in backticks.
      .replace(/`[^\s'"`]*codesphere-deploy-gitlab[^\s'"`]*`/g, `\`${release.gitlabImage}\``)
      .replace(/docker:\/\/[^\s'"]*codesphere-deploy-bitbucket[^\s'"]*/g, release.pipeReference)
      .replace(/(component:\s+)[^\s'"]*\/preview@[^\s'"]+/g, `$1${release.componentReference}`)
  );
}

function dockerfile(text: string, release: ReleaseConfig): string {
  return text
    .replace(/^ARG VERSION=.*$/m, `ARG VERSION=${release.version}`)
    .replace(/^ARG SOURCE=.*$/m, `ARG SOURCE=${release.sourceUrl}`)
    .replace(/^ARG LICENSE=.*$/m, `ARG LICENSE=${release.license}`);
}

/** An action reference, an image of ours, or the component: what snippetReferences rewrites. */
const RELEASED_NAME = /codesphere-deploy-action@|codesphere-deploy-(gitlab|bitbucket)[:@]|\/preview@/;

export const DERIVED_FILES: DerivedFile[] = [
  // The docs that show an artefact by its released name (the others have nothing to keep current).
  ...docFiles()
    .filter((file) => RELEASED_NAME.test(readFileSync(path.join(repoRoot, file), 'utf8')))
    .map((file) => ({ file, render: snippetReferences })),
  { file: 'bitbucket-pipe/README.md', render: snippetReferences },
  {
    file: 'bitbucket-pipe/pipe.yml',
    render: (text, release) =>
      text
        .replace(/^image: .*$/m, `image: ${release.bitbucketImage}`)
        .replace(/^repository: .*$/m, `repository: ${release.sourceUrl}`),
  },
  { file: 'gitlab-image/Dockerfile', render: dockerfile },
  { file: 'bitbucket-pipe/Dockerfile', render: dockerfile },
  {
    file: 'gitlab-image/templates/preview.yml',
    render: (text, release) =>
      text.replace(/(default:\s+)[^\s'"]*codesphere-deploy-gitlab[^\s'"]*/g, `$1${release.gitlabImage}`),
  },
];

/** The files whose content differs from what the release config derives (relative paths). */
export function staleFiles(release = readReleaseConfig()): string[] {
  return DERIVED_FILES.filter(({ file, render }) => {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    return render(text, release) !== text;
  }).map(({ file }) => file);
}

/** Rewrites the stale files; returns their paths. */
export function writeDerivedFiles(release = readReleaseConfig()): string[] {
  const stale = staleFiles(release);
  for (const { file, render } of DERIVED_FILES.filter((derived) => stale.includes(derived.file))) {
    const full = path.join(repoRoot, file);
    writeFileSync(full, render(readFileSync(full, 'utf8'), release));
  }
  return stale;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    const written = writeDerivedFiles();
    console.log(written.length ? `updated ${written.join(', ')}` : 'all release names are current');
  } else {
    const stale = staleFiles();
    console.log(
      stale.length
        ? `not current: ${stale.join(', ')} (npm run release:sync)`
        : 'all release names are current',
    );
    process.exitCode = stale.length ? 1 : 0;
  }
}
