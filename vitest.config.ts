import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Suites spawn anvil and node processes; two cores do not reward more parallelism.
    maxWorkers: 2,
    pool: 'forks',
  },
});
