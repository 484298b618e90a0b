import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The factory opens real stores: MEMORY_TEST_POSTGRES_URL, or an embedded server started for the run.
    globalSetup: ['@flux-rag/test-postgres/global-setup'],
  },
});
