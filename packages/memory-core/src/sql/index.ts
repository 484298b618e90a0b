export { decodeMetadataText, type SqlCodecs } from './codecs.js';
export {
  type CompiledStatement,
  compileForScope,
  compileOnce,
  type RunCompiled,
  type ScopedStatement,
} from './compiled-statement.js';
export type {
  Database,
  MessageOperationsTable,
  MessagesTable,
  SessionsTable,
  StoredJson,
  StoredTimestamp,
} from './database.js';
export {
  latestSchemaVersion,
  MIGRATION_TABLE,
  type MigrateOptions,
  type MigrationSet,
  migrateToLatest,
  readSchemaVersion,
  refuseUnknownMigrations,
  type SchemaCatalog,
  schemaVersionOf,
} from './migrate.js';
export { toMessage, toPortableMessage, toPortableSession, toSession, toSessionSummary } from './rows.js';
export {
  mapErrorByPhase,
  onConflictDoNothing,
  type PhasedErrorMapping,
  rowComparisonBefore,
  type SqlDialect,
  type SqlErrorPhase,
  type SqlHealth,
  type SqlInsert,
  type SqlMetadataFilter,
  type SqlSearch,
  type SqlSearchRequest,
  type SqlSearchRow,
  type SqlTable,
} from './sql-dialect.js';
export { recountSessions, SqlConversationMemory, type SqlMemoryOptions } from './sql-memory.js';
export {
  type ColumnKind,
  type ColumnOrigin,
  type ColumnSpec,
  columnsOf,
  type DataColumnOf,
  dataColumns,
  dataSelectList,
  MESSAGES_TABLE,
  originalColumns,
  SESSIONS_TABLE,
  selectList,
  type TableDescription,
} from './tables.js';
export { UNREADABLE_TIMESTAMP } from './unreadable-timestamp.js';
