import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Process-level adapter tests spawn bundles; two workers fit our 2-core machines.
    maxWorkers: 2,
  },
});
