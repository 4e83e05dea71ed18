/**
 * The one place that names what a release publishes: package.json's `version`, `repository` and
 * `release` block. Every install snippet, image reference, pipe.yml, the images' labels and the
 * GitLab component's default image are derived from it (scripts/release/sync.ts writes them,
 * test/release/release.test.ts fails on any drift or placeholder).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const ownerName = z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, 'owner/name');
const imageName = z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*$/, 'a lower-case image name');

const packageSchema = z.object({
  name: z.string(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'a release version X.Y.Z'),
  license: z.string(),
  repository: z.object({
    url: z
      .string()
      .regex(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/, 'git+https://github.com/<owner>/<name>.git'),
  }),
  release: z.object({
    /** GitHub repository that holds only the action (action.yml at its root, for the Marketplace). */
    actionRepository: ownerName,
    /** Registry and namespace both images are pushed to, e.g. ghcr.io/<org>. */
    imageNamespace: z.string().regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/, 'registry/namespace'),
    gitlabImage: imageName,
    bitbucketImage: imageName,
    /** <gitlab host>/<group>/<project> of the CI/CD Catalog component project. */
    gitlabComponentProject: z.string().regex(/^[a-z0-9.-]+(\/[A-Za-z0-9._-]+)+$/, 'host/group/project'),
  }),
});

/** What a release is called and where it goes, derived from package.json. */
export interface ReleaseConfig {
  /** X.Y.Z, package.json's version; the git tag is `v<version>`. */
  version: string;
  /** `v<major>`: the tag users pin the action to, moved on every release. */
  majorTag: string;
  license: string;
  /** owner/name of this (source) repository on GitHub. */
  sourceRepository: string;
  /** https URL of the source repository, the images' `org.opencontainers.image.source`. */
  sourceUrl: string;
  actionRepository: string;
  /** `uses:` value of the action in workflows: `<actionRepository>@<majorTag>`. */
  actionReference: string;
  /** Full image references with the version tag. */
  gitlabImage: string;
  bitbucketImage: string;
  /** `pipe:` value: Bitbucket's reference to a pipe by its image. */
  pipeReference: string;
  gitlabComponentProject: string;
  /** `component:` value for the preview component, pinned to the version. */
  componentReference: string;
}

/** Reads package.json (or the given text) into the release names; throws a zod error naming the bad field. */
export function readReleaseConfig(
  text = readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
): ReleaseConfig {
  const pkg = packageSchema.parse(JSON.parse(text));
  const sourceRepository = pkg.repository.url
    .replace(/^git\+https:\/\/github\.com\//, '')
    .replace(/\.git$/, '');
  const major = pkg.version.split('.')[0] ?? '0';
  const image = (name: string) => `${pkg.release.imageNamespace}/${name}:${pkg.version}`;
  const bitbucketImage = image(pkg.release.bitbucketImage);
  return {
    version: pkg.version,
    majorTag: `v${major}`,
    license: pkg.license,
    sourceRepository,
    sourceUrl: `https://github.com/${sourceRepository}`,
    actionRepository: pkg.release.actionRepository,
    actionReference: `${pkg.release.actionRepository}@v${major}`,
    gitlabImage: image(pkg.release.gitlabImage),
    bitbucketImage,
    pipeReference: `docker://${bitbucketImage}`,
    gitlabComponentProject: pkg.release.gitlabComponentProject,
    componentReference: `${pkg.release.gitlabComponentProject}/preview@${pkg.version}`,
  };
}
