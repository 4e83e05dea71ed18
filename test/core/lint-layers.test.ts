// The layers are kept by lint: every way a module can name another is checked
// against where it lands, so no spelling of a path, dynamic import() or require() slips by.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
// The project's own lint config (an untyped .mjs, hence the import by URL).
const { default: config } = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.mjs')).href)) as {
  default: Linter.Config[];
};

/** Lints `code` as if it stood at `file` (repository-relative), with the project's own config. */
function lint(file: string, code: string): string[] {
  const linter = new Linter({ cwd: ROOT, configType: 'flat' });
  // The type-aware rules need files on disk; the rules under test do not.
  const untyped = [...config, tseslint.configs.disableTypeChecked as Linter.Config];
  return linter
    .verify(code, untyped, { filename: path.join(ROOT, file) })
    .filter((m) =>
      ['house/layers', 'no-restricted-imports', 'no-restricted-properties', 'no-restricted-syntax'].includes(
        m.ruleId ?? '',
      ),
    )
    .map((m) => m.message);
}

describe('lint keeps the layers', () => {
  const sneaks: [string, string][] = [
    ['shared/request/probe.ts', "export * from '../workflow/deploy.js';"],
    ['shared/request/probe.ts', "export const m = () => import('../workflow/deploy.js');"],
    ['shared/request/probe.ts', "export { deploy } from '../index.js';"],
    ['shared/codesphere/probe.ts', "import { deploy } from '../index.js'; export const d = deploy;"],
    ['shared/workflow/probe.ts', "export const m = () => import('../ci/index.js');"],
    [
      'shared/workflow/probe.ts',
      "import { createRequire } from 'node:module'; export const r = createRequire(import.meta.url)('../ci/index.js');",
    ],
    ['shared/workflow/probe.ts', "export const r = require('../gateway/index.js');"],
    ['shared/ci/probe.ts', "import { deploy } from '../workflow/deploy.js'; export const d = deploy;"],
    ['shared/ci/probe.ts', "import { deploy } from '../workflow/deploy.js'; export const d = deploy;"],
    ['shared/ci/probe.ts', 'export const m = (name: string) => import(name);'],
    ['shared/probe.ts', "export * from './ci/index.js';"],
    ['shared/gateway/probe.ts', "import { deploy } from '../workflow/deploy.js'; export const d = deploy;"],
    ['gitlab-image/src/probe.ts', "export const m = () => import('../../shared/workflow/deploy.js');"],
    ['gitlab-image/src/probe.ts', "export * from '../../shared/workflow/deploy.js';"],
    [
      'bitbucket-pipe/src/probe.ts',
      "import { main } from '../../gitlab-image/src/main.js'; export const m = main;",
    ],
    [
      'github-action/src/probe.ts',
      "import x = require('../../shared/codesphere/client.js'); export const y = x;",
    ],
    ['shared/request/probe.ts', 'export const e = globalThis.process.env;'],
    ['shared/request/probe.ts', "import { env } from 'node:process'; export const e = env;"],
    ['shared/request/probe.ts', "import * as p from 'node:process'; export const e = p.env;"],
    [
      'shared/errors.ts',
      "import type { TeardownResult } from './workflow/results.js'; export type T = TeardownResult;",
    ],
    ['shared/errors.ts', "import { redact } from './request/secrets.js'; export const r = redact;"],
  ];
  it.each(sneaks)('%s refuses: %s', (file, code) => {
    expect(lint(file, code)).not.toEqual([]);
  });

  const allowed: [string, string][] = [
    [
      'shared/ci/probe.ts',
      "import { deploy } from '../index.js'; import { x } from './note.js'; export const d = [deploy, x];",
    ],
    ['shared/workflow/probe.ts', "import { redact } from '../request/secrets.js'; export const r = redact;"],
    [
      'shared/errors.ts',
      "import type { TeardownResult } from './outcomes.js'; export type T = TeardownResult;",
    ],
    [
      'gitlab-image/src/probe.ts',
      "import { deploy } from '../../shared/index.js'; import { x } from '../../shared/ci/index.js'; import { y } from './main.js'; export const z = [deploy, x, y];",
    ],
    ['github-action/src/probe.ts', "export const load = () => import('@actions/core');"],
  ];
  it.each(allowed)('%s allows: %s', (file, code) => {
    expect(lint(file, code)).toEqual([]);
  });
});
