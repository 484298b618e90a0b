import { withClient } from '@flux-rag/test-postgres';
import pgDriver from 'pg';
import { describe, expect, it } from 'vitest';
import { usePostgres } from './support.js';

/*
 * Contract 1.1's editing on PostgreSQL, where the write path (not triggers) keeps the counters and session rows
 * are locked with FOR UPDATE: counters equal the rows after every edit, concurrent merge patches all apply.
 */

const pg = usePostgres();

async function counters(schema: string) {
  return withClient(pg.url, async (client) => {
    const stored = await client.query(
      `SELECT id, message_count AS n, last_message_at AS last FROM "${schema}".sessions ORDER BY id`,
    );
    const truth = await client.query(
      `SELECT s.id, count(m.seq)::int AS n, max(m.created_at) AS last FROM "${schema}".sessions s
       LEFT JOIN "${schema}".messages m ON m.session_id = s.id GROUP BY s.id ORDER BY s.id`,
    );
    return { stored: stored.rows, truth: truth.rows };
  });
}

const msg = (id: string, content = id) => ({ id, role: 'user', content });

describe('history editing on PostgreSQL', () => {
  it('every edit - message_count and last_message_at equal the rows', async () => {
    const store = await pg.store();
    const s = await store.createSession();
    const other = await store.createSession();
    await store.upsertMessages(s, [msg('a'), msg('b'), msg('c'), msg('d')]);
    await store.upsertMessages(other, [msg('a', 'same id, other session')]);
    const check = async () => {
      const c = await counters(store.schema);
      expect(c.stored).toEqual(c.truth);
    };
    await check();
    expect(await store.upsertMessages(s, [{ ...msg('b'), content: 'B' }, msg('e')])).toMatchObject({
      appended: 1,
      replaced: 1,
    });
    await check();
    expect(await store.rewriteHistory(s, { after: 'b', messages: [msg('c', 'again')] })).toEqual({
      removed: ['c', 'd', 'e'],
      ids: ['c'],
    });
    await check();
    expect(await store.deleteMessages(s, ['a'])).toBe(1);
    await check();
    expect((await store.popMessage(s))?.content).toBe('again');
    await check();
    expect((await store.getHistory(s)).map((m) => [m.id, m.content])).toEqual([['b', 'B']]);
    expect((await store.getHistory(other)).map((m) => m.content)).toEqual(['same id, other session']);
    expect(await store.rewriteHistory(s, { after: null, messages: [] })).toEqual({ removed: ['b'], ids: [] });
    await check();
    expect((await store.getSessions()).find((x) => x.id === s)).toMatchObject({
      messageCount: 0,
      lastMessageAt: null,
    });
  });

  it('upsertMessages - the last write carries the session update: BEGIN, lock, digests, write, COMMIT', async () => {
    const pool = new pgDriver.Pool({ connectionString: pg.url, max: 1 });
    const sent: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
        const [first] = args as [string | { text: string }];
        sent.push((typeof first === 'string' ? first : first.text).trim().split(/\s+/)[0]!.toLowerCase());
        return query(...args);
      };
    });
    try {
      const store = await pg.store({ pool });
      const s = await store.createSession();
      await store.upsertMessages(s, [msg('a'), msg('b')]);
      const check = async () => {
        const c = await counters(store.schema);
        expect(c.stored).toEqual(c.truth);
      };
      const statements = async (call: () => Promise<unknown>) => {
        sent.length = 0;
        await call();
        return [...sent];
      };
      const updatedAt = async () => (await store.getSession(s))!.updatedAt.getTime();
      let before = await updatedAt();
      // One replaced: the replacement and the session's activity time in one statement.
      expect(await statements(() => store.upsertMessages(s, [msg('a', 'A'), msg('b')]))).toEqual([
        'begin',
        'select',
        'select',
        'with',
        'commit',
      ]);
      expect(await updatedAt()).toBeGreaterThan(before);
      await check();
      // Two replaced: the first alone, the second with the session.
      expect(await statements(() => store.upsertMessages(s, [msg('a', 'A2'), msg('b', 'B2')]))).toEqual([
        'begin',
        'select',
        'select',
        'update',
        'with',
        'commit',
      ]);
      // Replaced and appended: the appended rows travel with the counters.
      expect(
        await statements(() => store.upsertMessages(s, [msg('a', 'A3'), msg('b', 'B2'), msg('c')])),
      ).toEqual(['begin', 'select', 'select', 'update', 'with', 'commit']);
      await check();
      // 1,201 appended: two INSERTs of 500, then the last 201 with the session update.
      before = await updatedAt();
      const many = Array.from({ length: 1_201 }, (_, i) => msg(`n${i}`));
      expect(await statements(() => store.upsertMessages(s, many))).toEqual([
        'begin',
        'select',
        'select',
        'insert',
        'insert',
        'with',
        'commit',
      ]);
      expect(await updatedAt()).toBeGreaterThan(before);
      await check();
      expect((await store.getHistory(s)).map((m) => m.id)).toEqual(['a', 'b', 'c', ...many.map((m) => m.id)]);
      expect((await store.getHistory(s, { limit: 2 })).map((m) => m.content)).toEqual(['n1199', 'n1200']);
      // Nothing changed: nothing written, the activity time kept.
      before = await updatedAt();
      expect(await statements(() => store.upsertMessages(s, [msg('a', 'A3')]))).toEqual([
        'begin',
        'select',
        'select',
        'commit',
      ]);
      expect(await updatedAt()).toBe(before);
      await check();
    } finally {
      await pool.end();
    }
  });

  it('updateSession - concurrent merge patches from two stores all apply (the row is locked)', async () => {
    const a = await pg.store();
    const b = await pg.store({ schema: a.schema });
    const s = await a.createSession({ metadata: {} });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).updateSession(s, { metadataPatch: { [`k${i}`]: i } }),
      ),
    );
    expect(Object.keys((await a.getSession(s))!.metadata).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `k${i}`).sort(),
    );
  });

  it('purgeSessions - idle sessions go with their messages and operations, in batches; NULL is counted', async () => {
    const store = await pg.store();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await store.createSession();
      await store.upsertMessages(id, [msg('m')], { operationId: 'op' });
      ids.push(id);
    }
    const fresh = await store.createSession();
    await withClient(pg.url, async (client) => {
      await client.query(
        `UPDATE "${store.schema}".sessions SET updated_at = '2020-01-01Z' WHERE id = ANY($1)`,
        [ids],
      );
      await client.query(`UPDATE "${store.schema}".sessions SET updated_at = NULL WHERE id = $1`, [ids[0]]);
    });
    const result = await store.purgeSessions({ inactiveBefore: new Date('2021-01-01Z'), batchSize: 2 });
    expect(result).toEqual({ sessions: 4, messages: 4, unreadable: 1 });
    expect((await store.getSessions()).map((x) => x.id).sort()).toEqual([ids[0], fresh].sort());
    const left = await withClient(pg.url, (client) =>
      client.query(`SELECT session_id FROM "${store.schema}".message_operations`),
    );
    expect(left.rows).toEqual([{ session_id: ids[0] }]);
  });
});
