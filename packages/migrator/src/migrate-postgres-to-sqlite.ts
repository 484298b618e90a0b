import { runMigration } from './migration-engine.js';
import { type MigrationOptions, resolveOptions } from './migration-options.js';
import type { MigrationReport } from './migration-report.js';
import { openPostgresSource } from './postgres-source.js';
import { openSqliteTarget } from './sqlite-target.js';

/**
 * The reverse direction, for taking production data to a laptop: copies a PostgreSQL store (any schema
 * version) into a SQLite file, created or upgraded through `@flux-rag/memory-sqlite`'s own migrations, with
 * the guarantees of `migrateSqliteToPostgres`: rules for invalid rows, ids, microsecond timestamps and `seq`
 * kept, bulk load into an empty file (one transaction, indexes built after) or merge into a file holding rows
 * (rows present skipped, one transaction per batch), verification with the same checksums. The PostgreSQL
 * source is read in one `REPEATABLE READ` snapshot and never written. `sourceTimezone` applies to the naive
 * `TIMESTAMP` columns of a schema-version-1 database only.
 */
export async function migratePostgresToSqlite(options: MigrationOptions): Promise<MigrationReport> {
  const o = resolveOptions(options);
  const source = await openPostgresSource({ connectionString: o.postgresDsn, schema: o.schema });
  return runMigration({
    direction: 'postgres-to-sqlite',
    mode: o.mode,
    source,
    openTarget: async (setup) => {
      try {
        return await openSqliteTarget({ filename: o.sqlitePath, setup });
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
