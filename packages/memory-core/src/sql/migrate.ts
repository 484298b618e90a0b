import type { Kysely } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { SchemaVersionError } from '../errors.js';

/**
 * Schema versions are migration names `NNNN_description`, numbered the same in every SQL backend so that
 * "schema version 2" means the same tables everywhere.
 */
export type MigrationSet = Readonly<Record<string, Migration>>;

/** Options of {@link migrateToLatest}. */
export interface MigrateOptions {
  /** Schema holding Kysely's bookkeeping tables (PostgreSQL); default the connection's search path. */
  migrationTableSchema?: string;
  /** Names the database in error messages, without credentials (a file path or a masked DSN). */
  location: string;
}

/**
 * Brings the database to the latest schema version through Kysely's `Migrator` (transactional where the
 * dialect allows, under the dialect's migration lock) and returns the version it is at. A database that has
 * executed a migration this code does not know was written by a newer version: it is refused with a
 * `SchemaVersionError` before anything is written.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
export async function migrateToLatest(db: Kysely<any>, migrations: MigrationSet, options: MigrateOptions) {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    ...(options.migrationTableSchema ? { migrationTableSchema: options.migrationTableSchema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    const newer = /previously executed migration (\S+) is missing/.exec(
      String((error as Error).message ?? error),
    );
    if (newer) {
      throw new SchemaVersionError(
        `${options.location} has schema version ${schemaVersionOf(newer[1]!)}, newer than this library knows ` +
          `(${latestSchemaVersion(migrations)}): upgrade @flux-rag packages before opening it`,
      );
    }
    throw error;
  }
  return latestSchemaVersion(migrations);
}

/** The version number of a migration name (`0002_insertion_order` is 2). */
export function schemaVersionOf(name: string): number {
  return Number.parseInt(name.slice(0, 4), 10);
}

/** The highest version a set of migrations reaches. */
export function latestSchemaVersion(migrations: MigrationSet): number {
  return Math.max(0, ...Object.keys(migrations).map(schemaVersionOf));
}
