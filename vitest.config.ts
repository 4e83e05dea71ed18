import { defineConfig } from 'vitest/config';

/**
 * - setupFiles turns on the emulator's contract recording for every suite
 *   (test/contract/record-contract.setup.ts).
 */
export default defineConfig({
  test: {
    setupFiles: ['test/contract/record-contract.setup.ts'],
  },
});
