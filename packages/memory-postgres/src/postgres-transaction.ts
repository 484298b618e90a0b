import type { RunCompiled } from '@flux-rag/memory-core/sql';
import { AbortedTransactionError, type PostgresPool, type QueryResult } from 'kysely';

/**
 * Runs `work` in a transaction on one connection of `pool` (the pool Kysely's dialect uses, so statements
 * are prepared and named as on every other path): BEGIN, the statements, COMMIT; ROLLBACK when anything
 * throws, and the error stands. It is what `db.transaction().execute()` does, without building a query
 * executor, a connection provider and a `Transaction` instance per call, which cost more client CPU than the
 * two statements of an `addMessage`.
 *
 * Like Kysely's PostgreSQL driver, a COMMIT that PostgreSQL answers with ROLLBACK (the transaction was aborted
 * by an error `work` swallowed) throws `AbortedTransactionError`, and a connection whose ROLLBACK failed is
 * destroyed rather than returned to the pool in an unknown state; so is one whose BEGIN failed.
 */
export async function runInTransaction<T>(
  pool: PostgresPool,
  work: (run: RunCompiled) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    try {
      await client.query('BEGIN', []);
    } catch (error) {
      broken = true;
      throw error;
    }
    try {
      const result = await work(async (query) => {
        const { command, rowCount, rows } = await client.query<never>(query.sql, query.parameters);
        const counted =
          command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
        const result: QueryResult<never> = { rows: rows ?? [] };
        return counted ? { ...result, numAffectedRows: BigInt(rowCount ?? 0) } : result;
      });
      const { command } = await client.query('COMMIT', []);
      if (command === 'ROLLBACK') throw new AbortedTransactionError();
      return result;
    } catch (error) {
      if (!(error instanceof AbortedTransactionError)) {
        await client.query('ROLLBACK', []).catch(() => {
          broken = true;
        });
      }
      throw error;
    }
  } finally {
    client.release(broken);
  }
}
