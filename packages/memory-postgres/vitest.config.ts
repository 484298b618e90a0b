import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The suite through a replica has its own config (vitest.replica-conformance.config.ts), which CI runs.
    exclude: ['**/node_modules/**', 'test/replica-conformance/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real PostgreSQL for every test: MEMORY_TEST_POSTGRES_URL, or an embedded server started for the run.
    // PgBouncer tests: one line when they are skipped (not installed), a failure when CI requires them.
    globalSetup: ['@flux-rag/test-postgres/global-setup', '@flux-rag/test-postgres/pgbouncer-setup'],
  },
});
