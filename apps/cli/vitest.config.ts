import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Each test runs the CLI as processes many times over; in the full run, beside the PostgreSQL suites on
    // 2 cores, a 20-second test took over 60 s.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Real PostgreSQL for the process tests: MEMORY_TEST_POSTGRES_URL, or an embedded server started for the run.
    globalSetup: ['./test/built-binary.ts', '@flux-rag/test-postgres/global-setup'],
  },
});
