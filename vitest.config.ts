import { defineConfig } from 'vitest/config';

/**
 * - globalSetup builds the adapter bundles the selected tests run (*\/dist/index.js) when their
 *   inputs changed since the last build, so a test never runs a stale bundle
 *   (scripts/fresh-bundles.ts).
 * - setupFiles turns on the emulator's contract recording for every suite
 *   (test/contract/record-contract.setup.ts).
 * - The timeouts are `npm test`'s, so a targeted `npx vitest run <file>` behaves as the suite does
 *   (process-level tests spawn bundles that take seconds on a loaded 2-core machine).
 */
export default defineConfig({
  test: {
    globalSetup: ['scripts/fresh-bundles.ts'],
    setupFiles: ['test/contract/record-contract.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
