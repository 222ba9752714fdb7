import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests build network namespaces and run capture agents; keep them from
    // competing for the two cores with each other.
    fileParallelism: false,
    reporters: ['default'],
    benchmark: { include: ['benchmarks/**/*.bench.ts'] },
  },
});
