export { decodeMetadataText, type SqlCodecs } from './codecs.js';
export { type CompiledStatement, compileOnce, type RunCompiled } from './compiled-statement.js';
export type { Database, MessagesTable, SessionsTable, StoredJson, StoredTimestamp } from './database.js';
export {
  latestSchemaVersion,
  type MigrateOptions,
  type MigrationSet,
  migrateToLatest,
  schemaVersionOf,
} from './migrate.js';
export { toMessage, toPortableMessage, toPortableSession, toSession, toSessionSummary } from './rows.js';
export { recountSessions, SqlConversationMemory, type SqlMemoryOptions } from './sql-memory.js';
export { UNREADABLE_TIMESTAMP } from './unreadable-timestamp.js';
