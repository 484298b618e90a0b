import { MIGRATION_TABLE, type SchemaCatalog } from '@flux-rag/memory-core/sql';
import pg from 'pg';

/**
 * A connection of the migrator to PostgreSQL, source or target: named in `pg_stat_activity`, in UTC (timestamps
 * are read and written as UTC text), and failing within 10 s when the server does not answer. Connected, with
 * its idle errors swallowed: a dropped connection surfaces as the rejection of the next query instead of an
 * unhandled `error` event.
 */
export async function connectMigrationClient(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString,
    application_name: 'flux-rag-migrator',
    options: '-c TimeZone=UTC',
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
