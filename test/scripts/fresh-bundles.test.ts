/**
 * Which bundles the globalSetup builds for a command line, and what counts as their inputs.
 * (The build itself is exercised by every adapter test run: see fresh-bundles.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { distHash, fileFilters, inputFiles, inputsHash, neededBundles } from '../../scripts/fresh-bundles.js';

describe('fresh bundles', () => {
  it('reads the file filters of a vitest command line, skipping flags and their values', () => {
    const argv = [
      'node',
      'vitest',
      'run',
      '--dir',
      'test',
      '--maxWorkers',
      '2',
      'test/gitlab-image',
      '--bail=1',
      'races',
    ];
    expect(fileFilters(argv)).toEqual(['test/gitlab-image', 'races']);
    expect(fileFilters(['node', 'vitest', 'run', '--dir', 'test', '--maxWorkers', '2'])).toEqual([]);
  });

  it('builds all four for the whole suite, none for emulator tests, the adapter of an adapter test', () => {
    expect([...neededBundles([])].sort()).toEqual(['bitbucket-pipe', 'cli', 'github-action', 'gitlab-image']);
    expect([...neededBundles(['test/emulator/faults.test.ts', 'test/core'])]).toEqual([]);
    expect([...neededBundles(['test/gitlab-image/gitlab-image.test.ts'])]).toEqual(['gitlab-image']);
    // a bare name matches as vitest matches it: a substring of the path
    expect([...neededBundles(['races'])].sort()).toEqual(['bitbucket-pipe', 'github-action', 'gitlab-image']);
    // the suites that run on every platform need every bundle
    expect([...neededBundles(['test/platforms/inputs.test.ts'])].sort()).toEqual([
      'bitbucket-pipe',
      'github-action',
      'gitlab-image',
    ]);
    expect([...neededBundles(['test/cli-package/pack.test.ts'])]).toEqual(['cli']);
    expect([...neededBundles(['test/cli/exit-codes.test.ts'])]).toEqual([]);
    expect([...neededBundles(['test/release/action-tree.test.ts'])].sort()).toEqual([
      'bitbucket-pipe',
      'github-action',
      'gitlab-image',
    ]);
  });

  it('hashes the sources each bundle is built from: shared/ and its own src/', () => {
    const github = inputsHash('github-action');
    expect(github).toMatch(/^[0-9a-f]{64}$/);
    expect(inputsHash('github-action')).toBe(github);
    expect(inputsHash('gitlab-image')).not.toBe(github);
  });

  it('counts the installed packages as an input, not only the lockfile of this tree', () => {
    const files = inputFiles('github-action').map((f) =>
      path.relative(process.cwd(), f).split(path.sep).join('/'),
    );
    expect(files).toContain('package-lock.json');
    expect(files).toContain('node_modules/.package-lock.json');
    expect(files).toContain('shared/version.ts');
    expect(files).toContain('github-action/src/index.ts');
  });

  it('never selects fewer bundles than vitest runs: case, :line suffix, kebab-case flags, related', () => {
    const needs = (...args: string[]): string[] =>
      [...neededBundles(fileFilters(['node', 'vitest', ...args]))].sort();
    const all = ['bitbucket-pipe', 'cli', 'github-action', 'gitlab-image'];
    // vitest compares filters in lower case and takes a `:<line>` off
    expect(needs('run', 'GitHub-Action')).toEqual(['github-action']);
    expect(needs('run', 'test/gitlab-image/gitlab-image.test.ts:42')).toEqual(['gitlab-image']);
    // `--max-workers 1` is `--maxWorkers 1` to vitest: '1' is no filter, the whole suite runs
    expect(needs('run', '--max-workers', '1', '--test-timeout', '60000')).toEqual(all);
    expect(needs('run', '--maxConcurrency', '3')).toEqual(all);
    // related names sources, whose tests may be any adapter's
    expect(needs('related', 'github-action/src/index.ts', '--run')).toEqual(all);
    // still narrow where the command line is clear
    expect(needs('run', 'test/core', '--max-workers', '1')).toEqual([]);
  });

  it("hashes every file of a bundle's dist/, the chunks of a dynamic import() too", () => {
    const dist = mkdtempSync(path.join(tmpdir(), 'fresh-bundles-'));
    try {
      expect(distHash('github-action', dist)).toBeUndefined();
      writeFileSync(path.join(dist, 'index.js'), 'main');
      writeFileSync(path.join(dist, '413.index.js'), 'chunk');
      const built = distHash('github-action', dist);
      writeFileSync(path.join(dist, '413.index.js'), 'chunk edited by hand');
      expect(distHash('github-action', dist)).not.toBe(built);
      writeFileSync(path.join(dist, '413.index.js'), 'chunk');
      expect(distHash('github-action', dist)).toBe(built);
      mkdirSync(path.join(dist, 'sub'));
      writeFileSync(path.join(dist, 'sub', '9.index.js'), 'left over');
      expect(distHash('github-action', dist)).not.toBe(built);
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
