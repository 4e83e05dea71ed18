/**
 * action.yml, the code and the README agree: every input the code reads and every output it
 * writes is declared, the official action's inputs keep their names and defaults, and the
 * README's tables are the ones generated from action.yml.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INPUTS } from '../../github-action/src/inputs.js';
import { OUTPUT } from '../../github-action/src/github-platform.js';
import {
  OFFICIAL_INPUTS,
  readActionMetadata,
  readmePath,
  renderUsage,
  updateReadme,
} from './readme-usage.js';

const metadata = readActionMetadata();

describe('github-action/action.yml', () => {
  it('runs the committed bundle on node24', () => {
    expect(metadata.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  it('declares exactly the inputs the code reads', () => {
    expect(Object.keys(metadata.inputs).sort()).toEqual([...INPUTS].sort());
  });

  it('declares exactly the outputs the code writes', () => {
    expect(Object.keys(metadata.outputs).sort()).toEqual(Object.values(OUTPUT).sort());
  });

  it.each([
    ['plan', 'Boost'],
    ['onDemand', 'false'],
    ['restricted', 'false'],
    ['apiUrl', 'https://codesphere.com'],
  ])('keeps the official default of %s (%s)', (name, value) => {
    expect(String(metadata.inputs[name]?.default)).toBe(value);
  });

  it('keeps every official input name', () => {
    for (const name of OFFICIAL_INPUTS) expect(metadata.inputs[name], name).toBeDefined();
  });

  it('does not require email/password (an API token may replace them) but requires team', () => {
    expect(metadata.inputs['email']?.required).toBe(false);
    expect(metadata.inputs['password']?.required).toBe(false);
    expect(metadata.inputs['team']?.required).toBe(true);
  });

  it('defaults github-token to the workflow token', () => {
    expect(metadata.inputs['github-token']?.default).toBe('${{ github.token }}');
  });
});

describe('README section github', () => {
  it('has the inputs and outputs tables generated from action.yml', async () => {
    const readme = readFileSync(readmePath, 'utf8');
    const expected = updateReadme(readme, await renderUsage(metadata));
    expect(
      readme === expected,
      'docs/github-action.md is out of date: run "npx tsx test/github-action/readme-usage.ts" and commit it',
    ).toBe(true);
  });
});
