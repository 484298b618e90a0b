import type pg from 'pg';

/**
 * Runs `work` in one transaction on a client of `pool`, as a hand-written write on raw pg does: `BEGIN`, the work,
 * `COMMIT`; `ROLLBACK` when the work throws; the client released either way. The raw sides of the benches use it.
 */
export async function rawTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
