export { ORIGINAL_SCHEMA } from './original-schema.js';
export { sqliteCodecs, UNREADABLE_TIMESTAMP } from './sqlite-codecs.js';
export { mapSqliteError, type SqliteErrorContext } from './sqlite-errors.js';
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  MIN_SQLITE_VERSION,
  SqliteConversationMemory,
  type SqliteMemoryOptions,
} from './sqlite-memory.js';
export { readSchemaVersion, sqliteMigrations } from './sqlite-migrations.js';
