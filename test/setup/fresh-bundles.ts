/**
 * Vitest globalSetup: the adapter tests run the built bundles (`<adapter>/dist/index.js`) as
 * processes, so before any test runs, every bundle the selected test files need is rebuilt unless
 * it provably comes from the current sources. Proof is a stamp in `.tmp/bundle-stamps.json` (git
 * ignores .tmp/): the SHA-256 of the build's inputs (shared/, `<adapter>/src/`, package.json,
 * package-lock.json, tsconfig.json) and of the dist/index.js that build wrote. A bundle is reused
 * only when both still match; a missing stamp, changed sources, or a dist/index.js from elsewhere
 * (a checkout, a merge, a hand edit) all mean a build (`npm run build:<adapter>`, 20-60 s each).
 *
 * Which bundles: a test file needs the bundles of its directory (BUNDLES_BY_DIR). The files are
 * the ones vitest will run: every test file, narrowed by the command line's file filters
 * (`npx vitest run test/gitlab-image/inputs.test.ts` builds the GitLab bundle only; an emulator
 * test builds none). `CODESPHERE_BUNDLES=all` builds every stale bundle whatever is selected.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Adapter = 'github-action' | 'gitlab-image' | 'bitbucket-pipe';
const ADAPTERS: Adapter[] = ['github-action', 'gitlab-image', 'bitbucket-pipe'];

/** Test directories (under test/) whose files run bundles, and which. */
const BUNDLES_BY_DIR: Record<string, Adapter[]> = {
  'github-action': ['github-action'],
  'gitlab-image': ['gitlab-image'],
  'bitbucket-pipe': ['bitbucket-pipe'],
  demo: ['github-action'],
  release: ADAPTERS,
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const stampFile = path.join(repoRoot, '.tmp', 'bundle-stamps.json');

/** vitest flags that take a value as the next argument (so that value is not a file filter). */
const VALUE_FLAGS = new Set([
  '--maxWorkers',
  '--minWorkers',
  '--testTimeout',
  '--hookTimeout',
  '--teardownTimeout',
  '--dir',
  '--root',
  '-r',
  '--config',
  '-c',
  '--reporter',
  '--outputFile',
  '--project',
  '-t',
  '--testNamePattern',
  '--pool',
  '--shard',
  '--environment',
  '--bail',
  '--retry',
  '--mode',
  '--exclude',
]);

/** The positional file filters of the vitest command line (after `run`), e.g. ['test/core']. */
export function fileFilters(argv: string[]): string[] {
  const start = argv.findIndex((arg) => arg === 'run' || arg === 'related' || arg === 'watch');
  const filters: string[] = [];
  for (let i = start < 0 ? 2 : start + 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    filters.push(arg);
  }
  return filters;
}

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, keep, out);
    else if (keep(full)) out.push(full);
  }
  return out;
}

/** The bundles the selected test files need. */
export function neededBundles(filters: string[]): Set<Adapter> {
  const tests = walk(path.join(repoRoot, 'test'), (file) => /\.test\.ts$/.test(file)).map((file) =>
    path.relative(repoRoot, file).split(path.sep).join('/'),
  );
  // vitest's filters match a test file when its path contains them.
  const normalized = filters.map((f) => path.relative(repoRoot, path.resolve(f)).split(path.sep).join('/'));
  const selected =
    filters.length === 0
      ? tests
      : tests.filter((t) => filters.some((f, i) => t.includes(f) || t.includes(normalized[i] ?? f)));
  const needed = new Set<Adapter>();
  for (const test of selected)
    for (const adapter of BUNDLES_BY_DIR[test.split('/')[1] ?? ''] ?? []) needed.add(adapter);
  return needed;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash of everything ncc reads to build the adapter's bundle. */
export function inputsHash(adapter: Adapter): string {
  const files = [
    ...walk(path.join(repoRoot, 'shared'), () => true),
    ...walk(path.join(repoRoot, adapter, 'src'), () => true),
    ...['package.json', 'package-lock.json', 'tsconfig.json'].map((f) => path.join(repoRoot, f)),
  ]
    .filter((file) => existsSync(file))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

type Stamps = Partial<Record<Adapter, { inputs: string; dist: string }>>;

function readStamps(): Stamps {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8')) as Stamps;
  } catch {
    return {};
  }
}

function distHash(adapter: Adapter): string | undefined {
  const file = path.join(repoRoot, adapter, 'dist', 'index.js');
  return existsSync(file) ? sha256(readFileSync(file)) : undefined;
}

function build(adapter: Adapter): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', `build:${adapter}`], {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build:${adapter} failed (exit ${code})`)),
    );
  });
}

/** vitest globalSetup entry: rebuilds every needed bundle that is not provably fresh. */
export default async function freshBundles(): Promise<void> {
  const needed =
    process.env.CODESPHERE_BUNDLES === 'all' ? new Set(ADAPTERS) : neededBundles(fileFilters(process.argv));
  const stamps = readStamps();
  for (const adapter of ADAPTERS) {
    if (!needed.has(adapter)) continue;
    const inputs = inputsHash(adapter);
    const stamp = stamps[adapter];
    if (stamp && stamp.inputs === inputs && stamp.dist === distHash(adapter)) continue;
    const started = Date.now();
    console.log(`fresh-bundles: building ${adapter} (${stamp ? 'sources or dist changed' : 'no stamp'})`);
    await build(adapter);
    const dist = distHash(adapter);
    if (!dist) throw new Error(`npm run build:${adapter} wrote no ${adapter}/dist/index.js`);
    stamps[adapter] = { inputs, dist };
    mkdirSync(path.dirname(stampFile), { recursive: true });
    writeFileSync(stampFile, `${JSON.stringify(stamps, null, 2)}\n`);
    console.log(`fresh-bundles: ${adapter} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/**
 * `tsx test/setup/fresh-bundles.ts --stamp`, run by `npm run build` right after it built every
 * bundle from the sources in the work tree: records their stamps, so the next test run does not
 * build them again (CI builds once, checks dist against the commit, then tests).
 */
function stampAll(): void {
  const stamps = readStamps();
  for (const adapter of ADAPTERS) {
    const dist = distHash(adapter);
    if (dist) stamps[adapter] = { inputs: inputsHash(adapter), dist };
  }
  mkdirSync(path.dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, `${JSON.stringify(stamps, null, 2)}\n`);
}

if (
  process.argv.includes('--stamp') &&
  process.argv[1] &&
  fileURLToPath(import.meta.url) === path.resolve(process.argv[1])
) {
  stampAll();
}
