// Type-aware lint: the rules that catch real CI bugs (floating promises, any leaking in).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * One layer of shared/ (shared/index.ts has the map): files matching `files` may not import a
 * specifier matching `forbidden`, nor any CI platform package.
 */
function layer(files, forbidden, message) {
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { group: ['@actions/*'], message: 'The core never touches a CI platform.' },
              { regex: forbidden, message },
            ],
          },
        ],
      },
    },
  ];
}

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
      'no-restricted-imports': ['error', { patterns: ['@actions/*'] }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'shared/ reads no environment; adapters pass values in.',
        },
      ],
    },
  },
  ...layer(
    'shared/request/**/*.ts',
    '(^|/)(workflow|codesphere|ci|gateway)(/|$)',
    'request/ is the bottom layer: it imports none of workflow/, codesphere/, ci/, gateway/.',
  ),
  ...layer(
    'shared/codesphere/**/*.ts',
    '(^|/)(workflow|ci|gateway)(/|$)',
    'codesphere/ (the API client) imports none of workflow/, ci/, gateway/.',
  ),
  ...layer('shared/workflow/**/*.ts', '(^|/)(ci|gateway)(/|$)', 'workflow/ never imports ci/ or gateway/.'),
  ...layer(
    'shared/ci/**/*.ts',
    '^\\.\\./(?!index\\.js$)',
    'ci/ uses the core through its door only: ../index.js.',
  ),
  {
    // Adapters enter the core through its two doors only.
    files: ['github-action/src/**/*.ts', 'gitlab-image/src/**/*.ts', 'bitbucket-pipe/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)shared/(?!index\\.js$|ci/index\\.js$)',
              message: 'Adapters import only shared/index.js and shared/ci/index.js.',
            },
          ],
        },
      ],
    },
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
