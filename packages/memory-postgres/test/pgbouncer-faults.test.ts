import { pgBouncerForTests } from '@flux-rag/test-postgres';
import { describe, vi } from 'vitest';
import { describeFaults } from './fault-suite.js';

// The fault tests with PgBouncer (transaction mode, default settings) between the stores and the server.
const pgbouncer = pgBouncerForTests();
// A restart is noticed after PgBouncer's server_login_retry (15 s by default).
vi.setConfig({ testTimeout: 90_000 });

describe.skipIf('missing' in pgbouncer)('through PgBouncer (pool_mode = transaction)', () => {
  describeFaults('pgbouncer');
});
