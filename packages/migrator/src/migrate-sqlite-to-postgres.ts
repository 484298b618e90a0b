import { type MigrationOptions, resolveOptions } from './migration-options.js';
import type { MigrationReport } from './migration-report.js';
import { canIsolate, runIsolated } from './run-isolated.js';

/**
 * Copies a SQLite conversation-memory file (written by the original Python code or by
 * `@flux-rag/memory-sqlite`, at any schema version) into PostgreSQL, created or upgraded through
 * `@flux-rag/memory-postgres`'s own migrations. Guarantees:
 * - nothing is lost silently: every row is judged before it is written; under `fail` (default) any invalid
 *   row means nothing is written; under `skip`/`repair` every row not written as it was is in the report and
 *   the rejects file;
 * - ids, microsecond timestamps and insertion order (`seq`) are kept; the identity sequence is moved past
 *   them; `message_count` and `last_message_at` are computed from the messages written;
 * - idempotent and resumable: into an empty target the load is one transaction (all or nothing); into a
 *   target holding rows, rows whose id is present are skipped and each batch commits on its own, so a re-run
 *   after success writes 0 rows and a re-run after a kill writes exactly what is missing;
 * - verified: per-session counts and order-independent checksums are compared with the source after the
 *   copy (`report.verification`); any difference names the session and makes `report.ok` false;
 * - streaming, bounded memory: pages of rows, in a worker thread with a bounded heap (`isolate`).
 * Throws `ValidationError` for bad options, `MigrationError` when the source cannot be read or the target
 * written (messages masked), `BackendUnavailableError` when PostgreSQL cannot be reached.
 */
export async function migrateSqliteToPostgres(options: MigrationOptions): Promise<MigrationReport> {
  return run('sqlite-to-postgres', options);
}

/**
 * The reverse direction, for taking production data to a laptop: copies a PostgreSQL store (any schema
 * version) into a SQLite file, created or upgraded through `@flux-rag/memory-sqlite`'s own migrations, with
 * the guarantees of {@link migrateSqliteToPostgres}: rules for invalid rows, ids, microsecond timestamps and
 * `seq` kept, bulk load into an empty file (one transaction, indexes built after) or merge into a file holding
 * rows (rows present skipped, one transaction per batch), verification with the same checksums. The
 * PostgreSQL source is read in one `REPEATABLE READ` snapshot and never written. `sourceTimezone` applies to
 * the naive `TIMESTAMP` columns of a schema-version-1 database only.
 */
export async function migratePostgresToSqlite(options: MigrationOptions): Promise<MigrationReport> {
  return run('postgres-to-sqlite', options);
}

async function run(
  direction: MigrationReport['direction'],
  options: MigrationOptions,
): Promise<MigrationReport> {
  const o = resolveOptions(options);
  if (o.isolate && canIsolate()) return runIsolated(direction, o, o.onProgress);
  // Loaded only here: on the isolated path the drivers live in the worker alone.
  const { runDirection } = await import('./run-direction.js');
  return runDirection(direction, o, o.onProgress);
}
