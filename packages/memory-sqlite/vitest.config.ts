import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // The two-process test runs child processes on the built package: build it first.
    globalSetup: ['test/build-once.ts'],
  },
});
