import { withClient } from '@flux-rag/test-postgres';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';

const pg = usePostgres();

describe('prepared statements', () => {
  it('reads - keep working after another process adds a column under a prepared SELECT *', async () => {
    const store = await pg.store();
    const id = await store.createSession({ title: 'before' });
    // Prepared on every pooled connection the store has used so far.
    for (let i = 0; i < 5; i++) await Promise.all([store.getSessions(), store.getSession(id)]);
    await withClient(pg.url, (c) =>
      c.query(`ALTER TABLE "${store.schema}".sessions ADD COLUMN extra INTEGER`),
    );
    for (let i = 0; i < 5; i++) {
      const [sessions, session] = await Promise.all([store.getSessions(), store.getSession(id)]);
      expect(sessions.map((s) => s.title)).toEqual(['before']);
      expect(session!.title).toBe('before');
    }
    await store.addMessage(id, { role: 'user', content: 'still writes' });
    expect(await store.getHistory(id)).toHaveLength(1);
  });

  it('option - preparedStatements: false runs every statement unnamed, with the same results', async () => {
    // One connection: pg_prepared_statements lists the statements of the session it is run in.
    const store = await pg.store({ preparedStatements: false, pool: { connectionString: pg.url, max: 1 } });
    const id = await store.createSession();
    await store.addMessage(id, { role: 'user', content: 'x' });
    expect((await store.getSessions())[0]!.messageCount).toBe(1);
    const prepared = await store.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_prepared_statements',
    );
    expect(prepared.rows[0]!.n).toBe(0);
  });

  it('default - statements the store ran are prepared on its connections', async () => {
    const store = await pg.store({ pool: { connectionString: pg.url, max: 1 } });
    const id = await store.createSession();
    await store.getHistory(id, { limit: 5 });
    const prepared = await store.pool.query<{ statement: string }>(
      'SELECT statement FROM pg_prepared_statements',
    );
    expect(
      prepared.rows.some((r) => /order by "created_at" desc, "seq" desc limit \$2/.test(r.statement)),
    ).toBe(true);
  });
});
