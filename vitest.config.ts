import { defineConfig } from 'vitest/config';

// One device per test file; at most two forks on the 2-core machine (DESIGN.md).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
