export {
  DEFAULT_POSTGRES_DSN,
  LIBPQ_KEYWORDS,
  type PostgresLocation,
  postgresBackend,
} from './postgres-backend.js';
export { postgresCodecs } from './postgres-codecs.js';
export { isUnavailable, mapPostgresError } from './postgres-errors.js';
export { SchemaIntrospector, SchemaScopedPostgresDialect } from './postgres-introspector.js';
export {
  PostgresConversationMemory,
  type PostgresMemoryOptions,
} from './postgres-memory.js';
export {
  type MigratePostgresOptions,
  migratePostgres,
  postgresMigrations,
  postgresSchemaCatalog,
} from './postgres-migrations.js';
export { POOL_DEFAULTS, type PostgresConnectionOptions } from './postgres-pool.js';
export { type ConnectionProbe, probeConnection } from './postgres-pooler.js';
export type { PostgresServerHealth } from './postgres-read-routing.js';
export { type PostgresReplicaOptions, REPLICA_DEFAULTS } from './postgres-replica-options.js';
export type { PostgresStoreHealth } from './postgres-routed-memory.js';
export { type PostgresDialectOptions, postgresDialect } from './postgres-sql-dialect.js';
