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
    // Kysely creates its bookkeeping table before it compares, so the record can be read here: a migration it
    // holds that this code does not know means a newer library wrote the database.
    const table = options.migrationTableSchema ? db.withSchema(options.migrationTableSchema) : db;
    const recorded = await table
      .selectFrom(MIGRATION_TABLE)
      .select('name')
      .execute()
      .then((rows) => rows.map((row) => String(row.name)))
      .catch(() => []);
    refuseUnknownMigrations(recorded, migrations, options.location);
    throw error;
  }
  return latestSchemaVersion(migrations);
}

/** Kysely's bookkeeping table: one row per migration applied, named `NNNN_description`. */
export const MIGRATION_TABLE = 'kysely_migration';

/**
 * Refuses, with a `SchemaVersionError` naming the version, a database that recorded a migration `known` does not
 * hold: a newer version of these packages wrote it. Nothing has been written when this throws.
 */
export function refuseUnknownMigrations(
  recorded: readonly string[],
  known: MigrationSet,
  location: string,
): void {
  const unknown = recorded.filter((name) => !Object.hasOwn(known, name));
  if (unknown.length === 0) return;
  throw new SchemaVersionError(
    `${location} has schema version ${Math.max(...unknown.map(schemaVersionOf))}, newer than this library ` +
      `knows (${latestSchemaVersion(known)}): upgrade @flux-rag packages before opening it`,
  );
}

/**
 * What {@link readSchemaVersion} needs to know of a database, answered by the dialect (each has its own
 * catalog: `sqlite_master`, `to_regclass`, ...), synchronously (better-sqlite3) or not (pg, Kysely).
 */
export interface SchemaCatalog<Sync extends boolean = boolean> {
  /** True when the table `name` exists in the store's schema (or file). */
  hasTable(name: string): Sync extends true ? boolean : boolean | Promise<boolean>;
  /** The names recorded in {@link MIGRATION_TABLE}; asked only when that table exists. */
  recordedMigrations(): Sync extends true
    ? readonly string[]
    : readonly string[] | Promise<readonly string[]>;
}

/**
 * The schema version a database is at, the one answer for every backend and the migrator: the version of the
 * highest migration recorded in {@link MIGRATION_TABLE}; else 1 when it has the `sessions` and `messages`
 * tables (the original Python schema, which records no migrations); else 0 (nothing there yet). Reads only.
 * Synchronous when the catalog is.
 */
export function readSchemaVersion(catalog: SchemaCatalog<true>): number;
export function readSchemaVersion(catalog: SchemaCatalog): Promise<number>;
export function readSchemaVersion(catalog: SchemaCatalog): number | Promise<number> {
  return then(catalog.hasTable(MIGRATION_TABLE), (hasRecord) =>
    then(hasRecord ? catalog.recordedMigrations() : [], (names) => {
      if (names.length > 0) return Math.max(...names.map(schemaVersionOf));
      return then(catalog.hasTable('sessions'), (sessions) =>
        sessions ? then(catalog.hasTable('messages'), (messages) => (messages ? 1 : 0)) : 0,
      );
    }),
  );
}

/** `f(value)`, awaited only when `value` is a promise, so that a synchronous catalog gives a synchronous answer. */
function then<T, U>(value: T | Promise<T>, f: (resolved: T) => U | Promise<U>): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** The version number of a migration name (`0002_insertion_order` is 2). */
export function schemaVersionOf(name: string): number {
  return Number.parseInt(name.slice(0, 4), 10);
}

/** The highest version a set of migrations reaches. */
export function latestSchemaVersion(migrations: MigrationSet): number {
  return Math.max(0, ...Object.keys(migrations).map(schemaVersionOf));
}
