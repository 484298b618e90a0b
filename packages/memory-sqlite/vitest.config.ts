import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // The two-process test runs child processes on the compiled package: compile it first (into .test-build/).
    globalSetup: ['test/build-once.ts'],
  },
});
