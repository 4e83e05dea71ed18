/**
 * Which bundles the globalSetup builds for a command line, and what counts as their inputs.
 * (The build itself is exercised by every adapter test run: see fresh-bundles.ts.)
 */
import { describe, expect, it } from 'vitest';
import { fileFilters, inputsHash, neededBundles } from './fresh-bundles.js';

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

  it('builds all three for the whole suite, none for emulator tests, the adapter of an adapter test', () => {
    expect([...neededBundles([])].sort()).toEqual(['bitbucket-pipe', 'github-action', 'gitlab-image']);
    expect([...neededBundles(['test/emulator-tests/faults.test.ts', 'test/core'])]).toEqual([]);
    expect([...neededBundles(['test/gitlab-image/inputs.test.ts'])]).toEqual(['gitlab-image']);
    // a bare name matches as vitest matches it: a substring of the path
    expect([...neededBundles(['races'])].sort()).toEqual(['bitbucket-pipe', 'github-action', 'gitlab-image']);
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
});
