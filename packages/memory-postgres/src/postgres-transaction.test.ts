import { withClient } from '@flux-rag/test-postgres';
import { AbortedTransactionError, CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { openPool } from './postgres-pool.js';
import { runInTransaction } from './postgres-transaction.js';

const pg = usePostgres();

/** A store-like pool of one connection (prepared statements on) and a table to write to. */
async function setup() {
  const schema = await pg.schema();
  const opened = openPool({ pool: pg.pool({ max: 1 }) });
  await opened.pool.query(`CREATE TABLE "${schema}".t (id int PRIMARY KEY)`);
  const insert = (id: number) => CompiledQuery.raw(`INSERT INTO "${schema}".t (id) VALUES ($1)`, [id]);
  const ids = async () =>
    (await opened.pool.query<{ id: number }>(`SELECT id FROM "${schema}".t ORDER BY id`)).rows.map(
      (r) => r.id,
    );
  return { ...opened, insert, ids };
}

describe('runInTransaction', () => {
  it('commits - the statements land, their affected-row counts are returned', async () => {
    const { dialectPool, insert, ids } = await setup();
    const counts = await runInTransaction(dialectPool, async (run) => {
      const first = await run(insert(1));
      const second = await run(insert(2));
      return [first.numAffectedRows, second.numAffectedRows];
    });
    expect(counts).toEqual([1n, 1n]);
    expect(await ids()).toEqual([1, 2]);
  });

  it('work throws - rolls back what it wrote, the error stands, the connection goes back to the pool', async () => {
    const { pool, dialectPool, insert, ids } = await setup();
    const failure = new Error('refused after the first insert');
    await expect(
      runInTransaction(dialectPool, async (run) => {
        await run(insert(1));
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await ids()).toEqual([]);
    // One connection in the pool: a connection not released would make this wait forever.
    await runInTransaction(dialectPool, (run) => run(insert(3)));
    expect(await ids()).toEqual([3]);
    expect(pool.totalCount).toBe(1);
  });

  it('a statement error swallowed by work - AbortedTransactionError, nothing committed', async () => {
    const { dialectPool, insert, ids } = await setup();
    await expect(
      runInTransaction(dialectPool, async (run) => {
        await run(insert(1));
        await run(insert(1)).catch(() => {});
      }),
    ).rejects.toBeInstanceOf(AbortedTransactionError);
    expect(await ids()).toEqual([]);
    await runInTransaction(dialectPool, (run) => run(insert(2)));
    expect(await ids()).toEqual([2]);
  });

  it('the connection dies inside the transaction - it is destroyed, not handed out again', async () => {
    const { pool, dialectPool, insert, ids } = await setup();
    await expect(
      runInTransaction(dialectPool, async (run) => {
        await run(insert(1));
        const { rows } = await run(CompiledQuery.raw('SELECT pg_backend_pid() AS pid'));
        const { pid } = rows[0] as { pid: number };
        await withClient(pg.url, (c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
        await run(insert(2));
      }),
    ).rejects.toThrow();
    expect(pool.totalCount).toBe(0);
    await runInTransaction(dialectPool, (run) => run(insert(3)));
    expect(await ids()).toEqual([3]);
  });
});
