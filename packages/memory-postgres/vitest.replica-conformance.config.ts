import { defineConfig } from 'vitest/config';

// The conformance suite on stores reading through a streaming replica (CI runs it; see the README's Tests).
export default defineConfig({
  test: {
    include: ['test/replica-conformance/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['@flux-rag/test-postgres/global-setup'],
  },
});
