import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real PostgreSQL for every test: MEMORY_TEST_POSTGRES_URL, or an embedded server started for the run.
    // The PgBouncer test file fails when CI requires PgBouncer and it is missing;
    // the one line saying those tests were skipped is memory-postgres's (one line for the whole run).
    globalSetup: ['@flux-rag/test-postgres/global-setup'],
  },
});
