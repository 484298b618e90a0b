import { MIGRATION_TABLE, type SchemaCatalog } from '@flux-rag/memory-core/sql';
import pg from 'pg';

/**
 * A connection of the migrator to PostgreSQL, source or target: named in `pg_stat_activity`, and failing
 * within 10 s when the server does not answer. Connected, with its idle errors swallowed: a dropped connection
 * surfaces as the rejection of the next query instead of an unhandled `error` event. No startup `options`
 * (PgBouncer refuses them) and nothing set on the session (behind a transaction-mode pooler the next
 * transaction may run on another server connection): each transaction sets the TimeZone to UTC itself, with
 * {@link UTC_TRANSACTION} (timestamps are read and written as UTC text).
 */
export async function connectMigrationClient(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString,
    application_name: 'flux-rag-migrator',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/** UTC for the rest of the current transaction: what survives a transaction-mode pooler. */
export const UTC_TRANSACTION = "SET LOCAL TimeZone TO 'UTC'";

/**
 * What core's `readSchemaVersion` reads of the store in `schema`, over the migrator's own connection (the same
 * catalog queries as `@flux-rag/memory-postgres`'s `postgresSchemaCatalog`, which needs a Kysely instance).
 */
export function clientSchemaCatalog(client: pg.Client, schema: string): SchemaCatalog {
  return {
    async hasTable(name) {
      const found = await client.query<{ n: string | null }>('SELECT to_regclass($1) AS n', [
        `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`,
      ]);
      return Boolean(found.rows[0]?.n);
    },
    async recordedMigrations() {
      const result = await client.query<{ name: string }>(
        `SELECT name FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(MIGRATION_TABLE)}`,
      );
      return result.rows.map((row) => row.name);
    },
  };
}
