import type { MigrationProgress } from './migration-engine.js';
import { runMigration } from './migration-engine.js';
import type { ResolvedOptions } from './migration-options.js';
import type { MigrationReport } from './migration-report.js';
import { openPostgresSource } from './postgres-source.js';
import { openPostgresTarget } from './postgres-target.js';
import { openSqliteSource } from './sqlite-source.js';
import { openSqliteTarget } from './sqlite-target.js';

/** Which way rows go. */
export type Direction = MigrationReport['direction'];

/** Runs one migration on the calling thread, options already validated. */
export async function runDirection(
  direction: Direction,
  o: ResolvedOptions,
  onProgress: ((progress: MigrationProgress) => void) | undefined,
): Promise<MigrationReport> {
  const forward = direction === 'sqlite-to-postgres';
  const source = forward
    ? openSqliteSource(o.sqlitePath)
    : await openPostgresSource({ connectionString: o.postgresDsn, schema: o.schema });
  return runMigration({
    direction,
    mode: o.mode,
    source,
    openTarget: async (setup) => {
      try {
        return forward
          ? await openPostgresTarget({ connectionString: o.postgresDsn, schema: o.schema, setup })
          : await openSqliteTarget({ filename: o.sqlitePath, setup });
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
    ...(onProgress ? { onProgress } : {}),
  });
}
