import { runMigration } from './migration-engine.js';
import { type MigrationOptions, resolveOptions } from './migration-options.js';
import type { MigrationReport } from './migration-report.js';
import { openPostgresTarget } from './postgres-target.js';
import { openSqliteSource } from './sqlite-source.js';

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
 * - streaming: memory is bounded by the batch, not the file.
 * Throws `ValidationError` for bad options, `MigrationError` when the source cannot be read or the target
 * written (messages masked), `BackendUnavailableError` when PostgreSQL cannot be reached.
 */
export async function migrateSqliteToPostgres(options: MigrationOptions): Promise<MigrationReport> {
  const o = resolveOptions(options);
  const source = openSqliteSource(o.sqlitePath);
  return runMigration({
    direction: 'sqlite-to-postgres',
    mode: o.mode,
    source,
    openTarget: async (setup) => {
      try {
        return await openPostgresTarget({ connectionString: o.postgresDsn, schema: o.schema, setup });
      } catch (error) {
        await source.close();
        throw error;
      }
    },
    onInvalid: o.onInvalid,
    batchSize: o.batchSize,
    maxContentBytes: o.maxContentBytes,
    sourceTimezone: o.sourceTimezone,
    rejectsPath: o.rejectsPath,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
}
