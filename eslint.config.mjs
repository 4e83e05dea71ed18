// Type-aware lint: the rules that catch real CI bugs (floating promises, any leaking in).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

import path from 'node:path';

const ROOT = import.meta.dirname;
const ADAPTERS = ['github-action/src', 'gitlab-image/src', 'bitbucket-pipe/src', 'cli/src'];

/**
 * Where a repository-relative path (extension dropped) sits in the house: a layer of shared/
 * (shared/index.ts has the map), an adapter, or `outside`.
 */
function placeOf(rel) {
  const p = rel.replace(/\.(ts|js|mts|mjs|cts|cjs)$/, '');
  if (p === 'shared/index') return 'door';
  if (p === 'shared/ci/index') return 'ci-door';
  if (/^shared\/(errors|outcomes|reporter|clock|version)$/.test(p)) return 'base';
  for (const dir of ['request', 'codesphere', 'workflow', 'ci', 'gateway']) {
    if (p === `shared/${dir}` || p.startsWith(`shared/${dir}/`)) return dir;
  }
  if (p === 'shared' || p.startsWith('shared/')) return 'shared-other';
  for (const adapter of ADAPTERS) {
    if (p === adapter || p.startsWith(`${adapter}/`)) return adapter;
  }
  if (p === 'emulator' || p.startsWith('emulator/')) return 'emulator';
  return p === 'package.json' ? 'package.json' : 'outside';
}

// What each place may import (by resolved target, so `./../x`, `../ci/../workflow` and the like
// are judged by where they land). The base (errors, outcomes, reporter, clock, version) sits under
// every layer and imports nothing above it.
const CORE = ['request', 'codesphere', 'workflow', 'base'];
const MAY_IMPORT = {
  base: { values: ['base', 'package.json'] },
  request: { values: ['request', 'base'] },
  codesphere: { values: ['codesphere', 'request', 'base'] },
  workflow: { values: CORE },
  door: { values: CORE },
  ci: { values: ['ci', 'ci-door', 'door'] },
  'ci-door': { values: ['ci', 'ci-door', 'door'] },
  gateway: { values: ['gateway', 'base'] },
  'shared-other': { values: [] },
};
for (const adapter of ADAPTERS) MAY_IMPORT[adapter] = { values: [adapter, 'door', 'ci-door'] };
// The CLI is also the door to the emulator and the gateway helper (its `emulator` and `gateway` commands).
MAY_IMPORT['cli/src'].values.push('emulator', 'gateway');

const WHY = {
  request: 'request/ is the bottom layer: it imports none of workflow/, codesphere/, ci/, gateway/.',
  codesphere: 'codesphere/ (the API client) imports none of workflow/, ci/, gateway/.',
  workflow: 'workflow/ never imports ci/ or gateway/.',
  door: 'shared/index.ts is the core: it never imports ci/ or gateway/.',
  ci: 'ci/ uses the core through its door only: ../index.js.',
  'ci-door': 'ci/ uses the core through its door only: ../index.js.',
  gateway: 'gateway/ stands apart: it shares nothing with the workflow.',
  base: 'errors/outcomes/reporter/clock/version sit under every layer: they import none of the layers.',
  'shared-other': 'every file of shared/ belongs to a layer (shared/index.ts has the map).',
};
for (const adapter of ADAPTERS) {
  WHY[adapter] = 'Adapters import only shared/index.js and shared/ci/index.js.';
}

/**
 * house/layers: every way a module can name another (import, import type, export ... from,
 * export * from, dynamic import(), require(), import x = require()) is resolved against the
 * importing file and checked against MAY_IMPORT. A dynamic import or require whose specifier is
 * not a string literal cannot be checked, so it is refused in shared/ and the adapters. Bare
 * specifiers (packages) are left to no-restricted-imports.
 */
const layersRule = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const from = placeOf(file);
    const rules = MAY_IMPORT[from];
    if (!rules) return {};
    const check = (node, source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') {
        context.report({
          node,
          message: `A module name must be a string literal here, so the layers can be checked. ${WHY[from]}`,
        });
        return;
      }
      const spec = source.value;
      if (!spec.startsWith('.') && !spec.startsWith('/')) return;
      const target = path.resolve(path.dirname(context.filename), spec);
      const rel = path.relative(ROOT, target).split(path.sep).join('/');
      const to = placeOf(rel);
      if (rules.values.includes(to)) return;
      context.report({ node, message: `'${spec}' (${to}) may not be imported from ${from}. ${WHY[from]}` });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' &&
        check(node, node.moduleReference.expression),
      CallExpression: (node) => {
        const callee = node.callee;
        const named = (n) => callee.type === 'Identifier' && callee.name === n;
        if (named('require') || (callee.type === 'MemberExpression' && callee.object.name === 'require')) {
          check(node, node.arguments[0]);
        }
        // createRequire hands out a require the rule cannot follow.
        if (named('createRequire')) {
          context.report({
            node,
            message: `createRequire is not used here: import the module, so the layers can be checked. ${WHY[from]}`,
          });
        }
      },
    };
  },
};

/** The house's own lint rules (exported for test/core/lint-layers.test.ts). */
export const housePlugin = { rules: { layers: layersRule } };

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // The platform boundary: shared/ is the core and never touches a CI platform.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:process', 'process'].map((name) => ({
            name,
            importNames: ['env', 'default'],
            message: 'shared/ reads no environment; adapters pass values in.',
          })),
          patterns: ['@actions/*'],
        },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'shared/ reads no environment; adapters pass values in.',
        },
      ],
      // The other ways to the same object: globalThis.process.env, process['env'] via a global
      // alias, and node:process's env export.
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MemberExpression'][object.property.name='process']",
          message: 'shared/ reads no environment; adapters pass values in.',
        },
      ],
    },
  },
  {
    // The layers (shared/index.ts has the map) and the adapters' two doors, by resolved path.
    files: ['shared/**/*.ts', ...ADAPTERS.map((adapter) => `${adapter}/**/*.ts`)],
    plugins: { house: housePlugin },
    rules: { 'house/layers': 'error' },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: null },
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
);
