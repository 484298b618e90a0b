import {
  type DatabaseIntrospector,
  type DialectAdapter,
  type Kysely,
  PostgresAdapter,
  PostgresDialect,
  type PostgresDialectConfig,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';

/**
 * What Kysely's `Migrator` asks the database before migrating (does the schema exist, do its bookkeeping tables
 * exist), answered from the store's own schema only. Kysely's `PostgresIntrospector` reads every column of every
 * table in the database, resolving each schema by name: slow on a large shared database, and failing with
 * "schema ... does not exist" when another application drops a schema meanwhile (seen in the test runs).
 * Tables come back without their columns, which the migrator does not read.
 */
export class SchemaIntrospector implements DatabaseIntrospector {
  // biome-ignore lint/suspicious/noExplicitAny: reads the catalogs, not the store's tables
  readonly #db: Kysely<any>;
  readonly #schema: string;

  // biome-ignore lint/suspicious/noExplicitAny: reads the catalogs, not the store's tables
  constructor(db: Kysely<any>, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ${this.#schema}
    `.execute(this.#db);
    return rows.map((row) => ({ name: row.name }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; kind: string }>`
      SELECT c.relname AS name, c.relkind AS kind
      FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS ns ON ns.oid = c.relnamespace
      WHERE ns.nspname = ${this.#schema} AND c.relkind IN ('r', 'v', 'p', 'f')
    `.execute(this.#db);
    return rows.map((row) => ({
      name: row.name,
      schema: this.#schema,
      isView: row.kind === 'v',
      isForeign: row.kind === 'f',
      columns: [],
    }));
  }
}

/** The key of Kysely's own migration lock (its `PostgresAdapter`'s), so that both versions exclude each other. */
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

/**
 * Kysely's PostgreSQL adapter, but a migrator given a transaction takes its lock with `pg_advisory_xact_lock`,
 * released by COMMIT or ROLLBACK. Kysely's session lock, taken and released by separate statements, survives
 * neither a transaction pooler (the unlock may run on another server connection, and the lock stays held on
 * the first one for as long as the pooler keeps it) nor a failed migration (the unlock fails in the aborted
 * transaction). Outside a transaction a transaction lock would be released at once, so Kysely's stays.
 */
export class TransactionLockPostgresAdapter extends PostgresAdapter {
  override async acquireMigrationLock(...[db, options]: MigrationLockArguments) {
    if (!db.isTransaction) return super.acquireMigrationLock(db, options);
    await sql`SELECT pg_advisory_xact_lock(${sql.lit(KYSELY_MIGRATION_LOCK)}::bigint)`.execute(db);
  }

  override async releaseMigrationLock(...[db, options]: MigrationLockArguments) {
    if (!db.isTransaction) return super.releaseMigrationLock(db, options);
  }
}

type MigrationLockArguments = Parameters<DialectAdapter['acquireMigrationLock']>;

/**
 * Kysely's PostgreSQL dialect with introspection limited to one schema (see {@link SchemaIntrospector}), and
 * migration locks that end with their transaction (see {@link TransactionLockPostgresAdapter}).
 */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  readonly #schema: string;

  constructor(config: PostgresDialectConfig, schema: string) {
    super(config);
    this.#schema = schema;
  }

  override createAdapter(): DialectAdapter {
    return new TransactionLockPostgresAdapter();
  }

  // biome-ignore lint/suspicious/noExplicitAny: matches Dialect.createIntrospector
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.#schema);
  }
}
