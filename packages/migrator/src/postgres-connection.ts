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
 * The schema version of the store in `schema`, read from the backend's Kysely migration table: 1 (the original
 * Python schema) when there is no such table or it is empty. Call only when the schema's tables exist.
 */
export async function readSchemaVersion(client: pg.Client, schema: string): Promise<number> {
  const table = await client.query<{ n: string | null }>('SELECT to_regclass($1) AS n', [
    `${pg.escapeIdentifier(schema)}.kysely_migration`,
  ]);
  if (!table.rows[0]?.n) return 1;
  const result = await client.query<{ name: string | null }>(
    `SELECT max(name) AS name FROM ${pg.escapeIdentifier(schema)}.kysely_migration`,
  );
  const name = result.rows[0]?.name;
  return name ? Number.parseInt(name.slice(0, 4), 10) : 1;
}
