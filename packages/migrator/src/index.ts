export { canonicalJson } from './canonical-json.js';
export { generateLegacyFile, type LegacyFileOptions } from './legacy-file-generator.js';
export { migratePostgresToSqlite, migrateSqliteToPostgres } from './migrate-sqlite-to-postgres.js';
export type { MigrationProgress } from './migration-engine.js';
export { describeError, MigrationError, type MigrationErrorCode } from './migration-errors.js';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_CONTENT_BYTES,
  type MigrationOptions,
} from './migration-options.js';
export {
  formatReport,
  type InvalidRowReport,
  type MigrationReport,
  REPORT_LIST_LIMIT,
  type TableReport,
  type VerificationReport,
} from './migration-report.js';
export { createProgressBar, type ProgressBar } from './progress-bar.js';
export type { SessionMismatch } from './row-digest.js';
export {
  type InvalidReason,
  type Judgement,
  judgeMessage,
  judgeSession,
  type MessageRow,
  type OnInvalid,
  type RawMessage,
  type RawSession,
  RECOVERED_METADATA,
  RECOVERED_TITLE,
  type RowAction,
  type RowProblem,
  type RuleContext,
  type SessionRow,
} from './row-rules.js';
export { WORKER_LIMITS } from './run-isolated.js';
export { createTimestampReader, type TimestampReader } from './source-timezone.js';
