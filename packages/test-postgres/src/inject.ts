import { inject } from 'vitest';
import { TEST_URL_VARIABLE } from './test-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the run's PostgreSQL server, provided by `@flux-rag/test-postgres/global-setup`. */
    memoryTestPostgresUrl: string;
  }
}

/**
 * Inside a vitest test file: the URL of the run's server, as the global setup provided it. Throws when the
 * vitest config lacks `globalSetup: ['@flux-rag/test-postgres/global-setup']`, so a misconfigured run fails
 * instead of testing nothing.
 */
export function testPostgresUrl(): string {
  const url = inject('memoryTestPostgresUrl');
  if (!url) {
    throw new Error(
      `No PostgreSQL server for this run: add globalSetup: ['@flux-rag/test-postgres/global-setup'] to the ` +
        `vitest config (it uses ${TEST_URL_VARIABLE} or starts an embedded server)`,
    );
  }
  return url;
}
