/**
 * `npm run package`: assembles everything a release publishes into release/ (git-ignored).
 *
 *   release/github-action/      the action repository's tree: action.yml at its root, dist/, a
 *                               README about the action alone, LICENSE (Marketplace layout), and
 *                               package.json + local-action.mjs for @github/local-action
 *   release/gitlab-component/   the CI/CD Catalog component project: templates/, README, LICENSE
 *   release/images/*.oci.tar    the GitLab image and the Bitbucket pipe image (scripts/release/images.ts)
 *
 * Options: --no-images skips the images. Without it the images are part of the promise: what is
 * missing to build them is installed where it can be (`.ci/tools` with npm, buildah and mmdebstrap
 * with apt-get as root), and anything still missing fails the run (exit 1) with every missing
 * prerequisite named at once. It never exits 0 without the images unless --no-images says so.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import {
  buildImage,
  ensureLocalBase,
  hasCommand,
  imageSpecs,
  licenseText,
  mebibytes,
  missingImagePrerequisites,
  node24,
  releaseDir,
  type BuiltImage,
} from './images.js';
import { docFileOf } from './docs.js';
import { readReleaseConfig, repoRoot, type ReleaseConfig } from './release-config.js';
import { staleFiles } from './sync.js';

export const actionTreeDir = path.join(releaseDir, 'github-action');
export const componentTreeDir = path.join(releaseDir, 'gitlab-component');
export const componentTemplate = path.join(repoRoot, 'gitlab-image/templates/preview.yml');

/** The text between `<!-- section:name -->` and its end marker, in whichever doc holds it (docs.ts). */
export function readmeSection(
  name: string,
  readme = readFileSync(path.join(repoRoot, docFileOf(name)), 'utf8'),
): string {
  const start = readme.indexOf(`<!-- section:${name} -->`);
  const end = readme.indexOf(`<!-- /section:${name} -->`);
  if (start < 0 || end < start) throw new Error(`README.md has no "${name}" section markers`);
  return readme.slice(start + `<!-- section:${name} -->`.length, end).trim();
}

/** Relative links of a doc (`from`, repository-relative) point into the source repository at this release's tag. */
function absoluteLinks(markdown: string, release: ReleaseConfig, from = 'README.md'): string {
  return markdown.replace(
    /\]\((?!https?:|#|mailto:)([^)]+)\)/g,
    (_, link: string) =>
      `](${release.sourceUrl}/blob/v${release.version}/${path.posix.normalize(path.posix.join(path.posix.dirname(from), link))})`,
  );
}

/** Drops a `### heading` subsection (up to the next heading of the same or higher level). */
function dropSubsection(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return markdown;
  const next = markdown.slice(start + heading.length + 2).search(/\n#{2,3} /);
  return next < 0
    ? markdown.slice(0, start)
    : markdown.slice(0, start) + markdown.slice(start + heading.length + 2 + next);
}

/**
 * The action repository's README: the main README's GitHub section (its snippets and the inputs
 * and outputs tables generated from action.yml), headings lifted one level, minus what only
 * applies to this source repository (the demo), links made absolute.
 */
export function actionReadme(release: ReleaseConfig): string {
  const action = parse(readFileSync(path.join(repoRoot, 'github-action/action.yml'), 'utf8')) as {
    name: string;
    description: string;
  };
  let body = readmeSection('github').replace(/<!--[\s\S]*?-->\n?/g, '');
  body = dropSubsection(`\n${body}`, '### See it work: `npm run demo`').trim();
  body = body
    .replace(/^## GitHub Action\n/, '')
    .replace(/^\s*`github-action\/` gives/, 'This action gives')
    .replace(/^(#{3,6}) /gm, (_, hashes: string) => `${hashes.slice(1)} `);
  return [
    `# ${action.name}`,
    '',
    action.description.trim(),
    '',
    `Built from [${release.sourceRepository}](${release.sourceUrl}) v${release.version}; the GitLab CI component and the Bitbucket pipe live there too.`,
    '',
    absoluteLinks(body, release, docFileOf('github')),
    '',
    '## License',
    '',
    `${release.license}, see [LICENSE](LICENSE).`,
    '',
  ].join('\n');
}

const componentInputSchema = z.object({
  description: z.string(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  type: z.enum(['string', 'boolean', 'number', 'array']).optional(),
  options: z.array(z.string()).optional(),
});
export const componentSpecSchema = z.object({
  spec: z.object({ inputs: z.record(z.string(), componentInputSchema) }),
});

/** The component's `spec:` (first YAML document of the template). */
export function readComponentSpec(
  text = readFileSync(componentTemplate, 'utf8'),
): z.infer<typeof componentSpecSchema> {
  const [spec] = text.split(/^---$/m);
  return componentSpecSchema.parse(parse(spec ?? ''));
}

/** The component project's README: usage and an inputs table generated from `spec: inputs:`. */
export function componentReadme(release: ReleaseConfig): string {
  const { inputs } = readComponentSpec().spec;
  const rows = Object.entries(inputs).map(([name, input]) => {
    const value = input.default === undefined ? '(required)' : `\`${String(input.default)}\``;
    const options = input.options ? ` One of ${input.options.map((o) => `\`${o}\``).join(', ')}.` : '';
    return `| \`${name}\` | ${value} | ${input.description.replace(/\|/g, '\\|')}${options} |`;
  });
  const usage = stringify({
    include: [{ component: release.componentReference, inputs: { team: 'My Team', vpn_config: 'office' } }],
  });
  return [
    '# Codesphere preview (GitLab CI/CD component)',
    '',
    "A Codesphere preview workspace for every merge request, connected to your team's VPN config;",
    'stopped with the merge request, pruned on a schedule.',
    `Built from [${release.sourceRepository}](${release.sourceUrl}) v${release.version}.`,
    '',
    '```yaml',
    usage.trim(),
    '```',
    '',
    'Jobs: `codesphere-preview` (merge request pipelines), `codesphere-preview-stop` (the',
    "environment's manual stop job) and `codesphere-prune` (scheduled pipelines). Store",
    '`CODESPHERE_API_TOKEN` and `GITLAB_ACCESS_TOKEN` as masked CI/CD variables; they are set only on',
    'these jobs.',
    '',
    '## Inputs',
    '',
    '| Input | Default | Description |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '## License',
    '',
    `${release.license}, see [LICENSE](LICENSE).`,
    '',
  ].join('\n');
}

/** The version of @actions/core the bundle holds (the one installed here). */
function bundledCoreVersion(): string {
  const file = path.join(repoRoot, 'node_modules/@actions/core/package.json');
  return z.object({ version: z.string() }).parse(JSON.parse(readFileSync(file, 'utf8'))).version;
}

/**
 * The action repository's package.json: what tools that run an action from its tree expect at its
 * root. dist/ is self-contained and the runner installs nothing; the one dependency is for
 * `@github/local-action`, which stubs the @actions/core that `npm install` puts beside
 * local-action.mjs (not @actions/github: the bundle's GitHub client is its own).
 */
export function actionTreePackage(release: ReleaseConfig): Record<string, unknown> {
  return {
    name: release.actionRepository.split('/').pop(),
    version: release.version,
    private: true,
    description:
      'The Codesphere preview deployment GitHub Action (built; its source is the repository below).',
    license: release.license,
    repository: { type: 'git', url: `git+${release.sourceUrl}.git` },
    type: 'module',
    main: 'dist/index.js',
    engines: { node: '>=24' },
    dependencies: { '@actions/core': bundledCoreVersion() },
  };
}

/**
 * Installs what the images need and this machine can install: `.ci/tools` (Node 24) with npm, and
 * buildah and mmdebstrap with apt-get when running as root. Returns what is still missing.
 */
export function installImagePrerequisites(log: (line: string) => void = console.log): string[] {
  if (!existsSync(node24)) {
    log('installing .ci/tools (Node 24 for the images): npm ci --prefix .ci/tools');
    try {
      execFileSync('npm', ['ci', '--prefix', '.ci/tools', '--no-audit', '--no-fund'], {
        cwd: repoRoot,
        stdio: 'inherit',
      });
    } catch {
      log('npm ci --prefix .ci/tools failed');
    }
  }
  const tools = ['buildah', 'mmdebstrap'].filter((tool) => !hasCommand(tool));
  if (tools.length && process.getuid?.() === 0) {
    log(`installing ${tools.join(' and ')} with apt-get`);
    try {
      execFileSync(
        'sh',
        [
          '-c',
          `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${tools.join(' ')}`,
        ],
        {
          stdio: 'inherit',
        },
      );
    } catch {
      log(`apt-get could not install ${tools.join(' and ')}`);
    }
  }
  return missingImagePrerequisites();
}

/**
 * The action's own repository tree, in `dir` (release/github-action/ by default). Returns `dir`;
 * throws when github-action/dist has not been built.
 */
export function assembleActionTree(release = readReleaseConfig(), dir = actionTreeDir): string {
  const source = path.join(repoRoot, 'github-action');
  const metadata = parse(readFileSync(path.join(source, 'action.yml'), 'utf8')) as { runs: { main: string } };
  if (!existsSync(path.join(source, metadata.runs.main))) {
    throw new Error(
      `github-action/${metadata.runs.main} is missing: run "npm run build:github-action" first.`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // action.yml's runs.main is relative to the file, so the same file works at the tree's root.
  cpSync(path.join(source, 'action.yml'), path.join(dir, 'action.yml'));
  cpSync(path.join(source, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(source, 'local-action.mjs'), path.join(dir, 'local-action.mjs'));
  writeFileSync(path.join(dir, 'README.md'), actionReadme(release));
  writeFileSync(path.join(dir, 'LICENSE'), licenseText());
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(actionTreePackage(release), null, 2)}\n`);
  return dir;
}

/** release/gitlab-component/: the component project (templates/ at its root). */
export function assembleComponentTree(release = readReleaseConfig()): string {
  rmSync(componentTreeDir, { recursive: true, force: true });
  mkdirSync(path.join(componentTreeDir, 'templates'), { recursive: true });
  cpSync(path.join(repoRoot, 'gitlab-image/templates'), path.join(componentTreeDir, 'templates'), {
    recursive: true,
  });
  writeFileSync(path.join(componentTreeDir, 'README.md'), componentReadme(release));
  writeFileSync(path.join(componentTreeDir, 'LICENSE'), licenseText());
  return componentTreeDir;
}

/** Builds both images (the local base first) and prints sizes and timings. */
export function packageImages(log: (line: string) => void = console.log): BuiltImage[] {
  const base = ensureLocalBase(log);
  log(
    base.cached
      ? `base ${base.reference}: from the cache`
      : `base ${base.reference}: built in ${base.seconds.toFixed(1)} s`,
  );
  return imageSpecs().map((spec) => {
    const built = buildImage(spec, base.reference);
    log(
      `image ${built.reference}: built in ${built.buildSeconds.toFixed(1)} s, ` +
        `${path.relative(repoRoot, built.archive)} ${mebibytes(built.archiveBytes)}`,
    );
    return built;
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const release = readReleaseConfig();
  const stale = staleFiles(release);
  if (stale.length) {
    console.error(`Release names are not current in ${stale.join(', ')}: run "npm run release:sync".`);
    process.exit(1);
  }
  console.log(`packaging ${release.version} into ${path.relative(process.cwd(), releaseDir) || '.'}/`);
  console.log(`github-action tree: ${path.relative(repoRoot, assembleActionTree(release))}`);
  console.log(`gitlab-component tree: ${path.relative(repoRoot, assembleComponentTree(release))}`);
  if (process.argv.includes('--no-images')) {
    console.log('images: skipped (--no-images)');
  } else {
    const missing = installImagePrerequisites();
    if (missing.length) {
      console.error(
        `images: cannot build them; missing:\n${missing.map((item) => `  - ${item}`).join('\n')}\n` +
          'Install these, or run "npm run package -- --no-images" for the two trees alone.',
      );
      process.exit(1);
    }
    packageImages();
  }
  console.log(`package: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
