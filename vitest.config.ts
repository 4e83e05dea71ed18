import { defineConfig } from 'vitest/config';

/**
 * - globalSetup builds the adapter bundles the selected tests run (*\/dist/index.js) when their
 *   inputs changed since the last build, so a test never runs a stale bundle
 *   (scripts/fresh-bundles.ts).
 * - setupFiles turns on the emulator's contract recording for every suite
 *   (test/contract/record-contract.setup.ts).
 */
export default defineConfig({
  test: {
    globalSetup: ['scripts/fresh-bundles.ts'],
    setupFiles: ['test/contract/record-contract.setup.ts'],
  },
});
