export {
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresServer,
  freePort,
  startEmbeddedPostgres,
} from './embedded-server.js';
export {
  findPgBouncer,
  PGBOUNCER_DIRECTORIES,
  type PgBouncerAvailability,
  type PgBouncerOptions,
  pgBouncerForTests,
  pgBouncerRequired,
  REQUIRE_PGBOUNCER_VARIABLE,
  startPgBouncer,
  type TestPgBouncer,
} from './pgbouncer.js';
export {
  findSystemBinDir,
  type ReplicaPair,
  type ReplicaPairOptions,
  startReplicaPair,
} from './replica.js';
export {
  createTestDatabase,
  createTestSchema,
  type TestDatabase,
  type TestNameOptions,
  type TestSchema,
  uniqueName,
} from './test-schema.js';
export {
  maskPassword,
  startTestPostgres,
  TEST_URL_VARIABLE,
  type TestPostgres,
  withClient,
} from './test-server.js';
