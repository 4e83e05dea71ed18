/**
 * Vitest globalSetup: the adapter tests run the built bundles (`<adapter>/dist/index.js`) as
 * processes, so every bundle the selected test files need is rebuilt unless it provably comes from
 * the current sources. Proof is a stamp in `.tmp/bundle-stamps.json`: SHA-256 of the build's inputs
 * (shared/, `<adapter>/src/`, package and lock files, tsconfig.json, the installed packages) and of
 * the dist/ that build wrote; a bundle is reused only when both still match. A test file needs the
 * bundles of its directory (BUNDLES_BY_DIR), narrowed by the command line's file filters; where
 * those cannot be read for sure, every bundle counts (a needless build costs a minute, a stale
 * bundle a wrong result). `CODESPHERE_BUNDLES=all` builds every stale bundle.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Adapter = 'github-action' | 'gitlab-image' | 'bitbucket-pipe' | 'cli';
const ADAPTERS: Adapter[] = ['github-action', 'gitlab-image', 'bitbucket-pipe', 'cli'];
/** The three CI adapters (the suites that run on every platform need each). */
const CI_ADAPTERS: Adapter[] = ['github-action', 'gitlab-image', 'bitbucket-pipe'];

/** Test directories (under test/) whose files run bundles, and which. */
const BUNDLES_BY_DIR: Record<string, Adapter[]> = {
  'github-action': ['github-action'],
  'gitlab-image': ['gitlab-image'],
  'bitbucket-pipe': ['bitbucket-pipe'],
  platforms: CI_ADAPTERS,
  demo: ['github-action'],
  release: CI_ADAPTERS,
  trust: CI_ADAPTERS,
  ci: CI_ADAPTERS,
  landscapes: CI_ADAPTERS,
  'private-data': CI_ADAPTERS,
  // The npm package's test packs cli/dist as a built tree would.
  'cli-package': ['cli'],
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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
  '--maxConcurrency',
  '--sequence.seed',
]);

/** `--max-workers` and `--maxWorkers` are one flag to vitest (cac): compare them camel-cased. */
function camelFlag(flag: string): string {
  return flag.replace(/(?<=\w)-(\w)/g, (_, c: string) => c.toUpperCase());
}

/**
 * The positional file filters of the vitest command line (after `run`), e.g. ['test/core'].
 * `vitest related <sources>` names source files, not test files: it may run any test, so it
 * yields no filter (every bundle).
 */
export function fileFilters(argv: string[]): string[] {
  const start = argv.findIndex((arg) => arg === 'run' || arg === 'related' || arg === 'watch');
  if (argv[start] === 'related') return [];
  const filters: string[] = [];
  for (let i = start < 0 ? 2 : start + 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('-')) {
      if (!arg.includes('=') && VALUE_FLAGS.has(camelFlag(arg))) i++;
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
  // vitest's filters match a test file when its path contains them, compared in lower case, after
  // vitest took a `:<line>` suffix off (vitest 4, filterFiles and parseFilter).
  const forms = filters.map((raw) => {
    const f = raw.replace(/:\d+$/, '');
    return [f, path.relative(repoRoot, path.resolve(f)).split(path.sep).join('/')].map((x) =>
      x.toLowerCase(),
    );
  });
  const matches = (t: string, form: string[]): boolean => form.some((f) => t.toLowerCase().includes(f));
  // A filter that matches no test file is most likely the value of a flag this parser does not
  // know (vitest then runs everything): build every bundle rather than trust a stale one.
  const unmatched = forms.some((form) => !tests.some((t) => matches(t, form)));
  const selected =
    filters.length === 0 || unmatched ? tests : tests.filter((t) => forms.some((form) => matches(t, form)));
  const needed = new Set<Adapter>();
  for (const test of selected)
    for (const adapter of BUNDLES_BY_DIR[test.split('/')[1] ?? ''] ?? []) needed.add(adapter);
  return needed;
}

/**
 * The files ncc reads to build the adapter's bundle, sorted. The dependencies count by what is
 * installed (npm's node_modules/.package-lock.json, rewritten by every install), not only by the
 * lockfile: an install that changed node_modules but not this tree's package-lock.json (a worktree
 * whose node_modules is another checkout's) must not leave a bundle of the old packages trusted.
 */
export function inputFiles(adapter: Adapter): string[] {
  return [
    ...walk(path.join(repoRoot, 'shared'), () => true),
    ...walk(path.join(repoRoot, adapter, 'src'), () => true),
    // The CLI bundles the emulator (its `emulator` command).
    ...(adapter === 'cli' ? walk(path.join(repoRoot, 'emulator'), () => true) : []),
    ...['package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/.package-lock.json'].map((f) =>
      path.join(repoRoot, f),
    ),
  ]
    .filter((file) => existsSync(file))
    .sort();
}

/** The hash of everything ncc reads to build the adapter's bundle (inputFiles). */
export function inputsHash(adapter: Adapter): string {
  const hash = createHash('sha256');
  for (const file of inputFiles(adapter)) {
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

/**
 * The hash of everything the build wrote to `<adapter>/dist/`: index.js and every chunk ncc split
 * off for a dynamic `import()` (the GitHub Action's lazily loaded @actions/* code), so a chunk
 * edited, lost or left over from another build is noticed too. Undefined without dist/index.js.
 */
export function distHash(adapter: Adapter, dist = path.join(repoRoot, adapter, 'dist')): string | undefined {
  if (!existsSync(path.join(dist, 'index.js'))) return undefined;
  const hash = createHash('sha256');
  for (const file of walkAll(dist).sort())
    hash.update(path.relative(dist, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** Every file under `dir` (walk() skips dist/ and node_modules/; a bundle's dist/ has neither). */
function walkAll(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walkAll(full, out);
    else out.push(full);
  }
  return out;
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
 * `tsx scripts/fresh-bundles.ts --stamp`, run by `npm run build` right after it built every
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
