export { ORIGINAL_SCHEMA } from './original-schema.js';
export { type SqliteLocation, sqliteBackend } from './sqlite-backend.js';
export { sqliteCodecs, UNREADABLE_TIMESTAMP } from './sqlite-codecs.js';
export { DEFAULT_SQLITE_PATH } from './sqlite-defaults.js';
export { mapSqliteError, type SqliteErrorContext } from './sqlite-errors.js';
export { PYTHON_COLUMNS } from './sqlite-file-inspection.js';
export {
  DEFAULT_BUSY_TIMEOUT_MS,
  MIN_SQLITE_VERSION,
  MIN_WRITER_SQLITE_VERSION,
  SqliteConversationMemory,
  type SqliteMemoryOptions,
} from './sqlite-memory.js';
export { SQLITE_SCHEMA_VERSION, sqliteMigrations, sqliteSchemaCatalog } from './sqlite-migrations.js';
export { type SqliteConnection, sqliteDialect } from './sqlite-sql-dialect.js';
export {
  planSqliteUpgrade,
  type SqliteUpgradeOptions,
  type SqliteUpgradePlan,
  type SqliteUpgradeResult,
  type SqliteUpgradeRunOptions,
  upgradeSqliteFile,
} from './sqlite-upgrade.js';
