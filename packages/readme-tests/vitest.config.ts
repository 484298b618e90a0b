import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Real PostgreSQL for the examples that use it: MEMORY_TEST_POSTGRES_URL, or an embedded server.
    globalSetup: ['@flux-rag/test-postgres/global-setup'],
  },
});
