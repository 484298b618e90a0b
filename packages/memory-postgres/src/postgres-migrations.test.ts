import { SchemaVersionError } from '@flux-rag/memory-core';
import { withClient } from '@flux-rag/test-postgres';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';

/** The tables exactly as the original Python (asyncpg) backend created them, for the adoption tests. */
const PYTHON_TABLES = `
  CREATE TABLE sessions (
    id VARCHAR(36) PRIMARY KEY, title TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    metadata JSONB DEFAULT '{}');
  CREATE TABLE messages (
    id VARCHAR(36) PRIMARY KEY,
    session_id VARCHAR(36) NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role VARCHAR(50) NOT NULL, content TEXT NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, metadata JSONB DEFAULT '{}');`;

const pg = usePostgres();

const query = <T>(text: string, values: unknown[] = []) =>
  withClient(pg.url, async (client) => (await client.query(text, values)).rows as T[]);

describe('schema', () => {
  it('init - creates the tables with the documented types, keys and indexes', async () => {
    const store = await pg.store();
    await store.init();
    const columns = await query<Record<string, string>>(
      `SELECT table_name, column_name, data_type, character_maximum_length::text AS len, collation_name,
              is_nullable, is_identity, column_default
       FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [store.schema],
    );
    const column = (table: string, name: string) =>
      columns.find((c) => c.table_name === table && c.column_name === name);
    for (const [table, name] of [
      ['sessions', 'id'],
      ['messages', 'id'],
      ['messages', 'session_id'],
    ] as const) {
      expect(column(table, name)).toMatchObject({
        data_type: 'character varying',
        len: '255',
        collation_name: 'C',
      });
    }
    for (const [table, name] of [
      ['sessions', 'created_at'],
      ['sessions', 'updated_at'],
      ['sessions', 'last_message_at'],
      ['messages', 'created_at'],
    ] as const) {
      expect(column(table, name)?.data_type).toBe('timestamp with time zone');
    }
    expect(column('sessions', 'owner_id')).toMatchObject({
      len: '255',
      collation_name: 'C',
      is_nullable: 'YES',
    });
    expect(column('sessions', 'metadata')?.data_type).toBe('jsonb');
    expect(column('messages', 'metadata')?.data_type).toBe('jsonb');
    expect(column('messages', 'seq')).toMatchObject({
      data_type: 'bigint',
      is_identity: 'YES',
      is_nullable: 'NO',
    });
    expect(column('sessions', 'message_count')).toMatchObject({
      data_type: 'integer',
      is_nullable: 'NO',
      column_default: '0',
    });
    const [fk] = await query<{ definition: string }>(
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint
       WHERE contype = 'f' AND conrelid = $1::regclass`,
      [`"${store.schema}".messages`],
    );
    expect(fk!.definition).toMatch(/REFERENCES .*sessions\(id\) ON DELETE CASCADE/);
    const indexes = await query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [store.schema],
    );
    const definitions = indexes.map((i) => i.indexdef.replace(/ ON \S+ USING btree/, ''));
    expect(definitions).toContain('CREATE INDEX idx_messages_history (session_id, created_at, seq)');
    expect(definitions).toContain('CREATE INDEX idx_sessions_activity (updated_at DESC, id DESC)');
    expect(definitions).toContain(
      'CREATE INDEX idx_sessions_owner_activity (owner_id, updated_at DESC, id DESC)',
    );
    expect(definitions).toContain('CREATE INDEX idx_sessions_created (created_at DESC, id DESC)');
    expect(definitions).toContain(
      'CREATE INDEX idx_sessions_owner_created (owner_id, created_at DESC, id DESC)',
    );
    expect(definitions).toContain(
      `CREATE INDEX idx_sessions_metadata ON ${store.schema}.sessions USING gin (metadata jsonb_path_ops)`,
    );
    expect(definitions).toContain(
      `CREATE INDEX idx_messages_search ON ${store.schema}.messages USING gin (${store.schema}.message_search_vector(content))`,
    );
  });

  it('init - records schema version 7 under the same migration names as SQLite', async () => {
    const store = await pg.store();
    expect((await store.check()).schemaVersion).toBe(7);
    const rows = await query<{ name: string }>(
      `SELECT name FROM "${store.schema}".kysely_migration ORDER BY name`,
    );
    expect(rows.map((r) => r.name)).toEqual([
      '0001_original_schema',
      '0002_insertion_order_and_counts',
      '0003_owner_scope',
      '0004_search_and_filters',
      '0005_shared_writers',
      '0006_timestamp_order',
      '0007_structured_messages',
    ]);
  });

  it('init - adopts a database written by the original Python backend, reading naive timestamps as UTC', async () => {
    const schema = await pg.schema();
    await withClient(pg.url, async (client) => {
      // Run in a session whose TimeZone is not UTC: the upgrade must not depend on it.
      await client.query("SET TimeZone = 'America/New_York'");
      await client.query(`SET search_path = "${schema}"`);
      await client.query(`
        ${PYTHON_TABLES}
        CREATE INDEX idx_messages_session ON messages(session_id, created_at);
        INSERT INTO sessions VALUES
          ('old-a', 'first', '2024-01-01 10:00:00.123456', '2024-01-01 10:05:00.5', '{"tag":"a"}'),
          ('old-b', NULL, '2024-01-02 09:00:00', '2024-01-02 09:00:00', '{}'),
          ('old-c', '', '2024-01-03 09:00:00', '2024-01-03 09:00:00', NULL);
        INSERT INTO messages VALUES
          ('m3', 'old-a', 'assistant', 'third', '2024-01-01 10:05:00.5', '{"sources":[1]}'),
          ('m1', 'old-a', 'user', 'first', '2024-01-01 10:01:00.000001', '{}'),
          ('m2b', 'old-a', 'tool', 'tie b', '2024-01-01 10:02:00', '{}'),
          ('m2a', 'old-a', 'tool', 'tie a', '2024-01-01 10:02:00', NULL),
          ('n1', 'old-b', 'user', 'only', '2024-01-02 09:00:00', '{}');
      `);
    });
    const store = await pg.store({ schema });
    const history = await store.getHistory('old-a');
    expect(history.map((m) => m.id)).toEqual(['m1', 'm2a', 'm2b', 'm3']);
    expect(history[0]!.createdAt.toISOString()).toBe('2024-01-01T10:01:00.000Z');
    expect(history[3]!.metadata).toEqual({ sources: [1] });
    expect(history[1]!.metadata).toEqual({});
    const sessions = await store.getSessions();
    expect(sessions.map((s) => [s.id, s.messageCount, s.lastMessageAt?.toISOString() ?? null])).toEqual([
      ['old-c', 0, null],
      ['old-b', 1, '2024-01-02T09:00:00.000Z'],
      ['old-a', 4, '2024-01-01T10:05:00.500Z'],
    ]);
    expect(sessions[2]).toMatchObject({ title: 'first', metadata: { tag: 'a' } });
    expect(sessions[0]).toMatchObject({ title: '', metadata: {} });
    const exported = [];
    for await (const record of store.exportRecords({ sessionIds: ['old-a'] })) exported.push(record);
    expect(exported[0]).toMatchObject({ createdAt: '2024-01-01T10:00:00.123456Z' });
    expect(exported[1]).toMatchObject({ id: 'm1', createdAt: '2024-01-01T10:01:00.000001Z' });
    // New messages go after the legacy ones, even at an equal timestamp.
    const added = await store.addMessage('old-a', { role: 'user', content: 'new' });
    const seqs = await query<{ id: string; seq: string }>(
      `SELECT id, seq FROM "${schema}".messages ORDER BY seq`,
    );
    expect(seqs.at(-1)!.id).toBe(added);
    expect((await store.getHistory('old-a')).at(-1)!.id).toBe(added);
    expect((await store.getSessions()).find((s) => s.id === 'old-a')!.messageCount).toBe(5);
  });

  it('init - legacy NULL timestamps read and sort as the epoch: first in history, listed by every sessions walk', async () => {
    const schema = await pg.schema();
    await withClient(pg.url, async (client) => {
      await client.query(`SET search_path = "${schema}"`);
      await client.query(`
        ${PYTHON_TABLES}
        INSERT INTO sessions VALUES
          ('dated', 't', '2024-01-02 09:00:00', '2024-01-02 09:00:00', '{}'),
          ('undated', 't', NULL, NULL, '{}'),
          ('older', 't', '2024-01-01 09:00:00', '2024-01-01 09:00:00', '{}');
        INSERT INTO messages VALUES
          ('a', 'dated', 'user', 'a', '2024-01-02 09:00:01', '{}'),
          ('b', 'dated', 'user', 'b', NULL, '{}'),
          ('c', 'dated', 'user', 'c', '2024-01-02 09:00:00', '{}');
      `);
    });
    const store = await pg.store({ schema });
    const history = await store.getHistory('dated');
    expect(history.map((m) => m.id)).toEqual(['b', 'c', 'a']);
    expect(history[0]!.createdAt.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    for (const limit of [1, 2, 3]) {
      const walked: string[] = [];
      let before: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await store.getHistoryPage(
          'dated',
          { limit, before },
        );
        walked.unshift(...page.items.map((m) => m.id));
        before = page.nextCursor;
      } while (before !== null && walked.length < 10);
      expect(walked).toEqual(['b', 'c', 'a']);
      const sessions: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await store.getSessionsPage({
          limit,
          cursor,
        });
        sessions.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor;
      } while (cursor !== null && sessions.length < 10);
      expect(sessions).toEqual(['dated', 'older', 'undated']);
    }
  });

  it('init - refuses a database a newer version wrote, with SchemaVersionError, writing nothing', async () => {
    const schema = await pg.schema(false);
    await (await pg.store({ schema })).init();
    await query(
      `INSERT INTO "${schema}".kysely_migration (name, timestamp) VALUES ('0099_future', now()::text)`,
    );
    const newer = await pg.store({ schema });
    const error = await newer.createSession().catch((e: unknown) => e);
    expect(SchemaVersionError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('99');
    expect(await query(`SELECT * FROM "${schema}".sessions`)).toEqual([]);
  });

  it('schema - two stores on different schemas of one database never see each other', async () => {
    const [a, b] = await Promise.all([pg.store(), pg.store()]);
    const inA = await a.createSession({ id: 'same-id', title: 'a' });
    await a.addMessage(inA, { role: 'user', content: 'in a' });
    expect(await b.getSessions()).toEqual([]);
    expect(await b.getSession('same-id')).toBeNull();
    await b.createSession({ id: 'same-id', title: 'b' });
    await b.clearAll();
    expect((await a.getSession('same-id'))!.title).toBe('a');
    expect(await a.getHistory('same-id')).toHaveLength(1);
    expect((await a.check()).sessions).toBe(1);
    expect((await b.check()).sessions).toBe(0);
  });

  it('schema - a missing schema is created, and public works as the default', async () => {
    const schema = await pg.schema(false);
    const store = await pg.store({ schema });
    await store.createSession();
    expect(await query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).toHaveLength(1);
    const database = await import('@flux-rag/test-postgres').then((m) => m.createTestDatabase(pg.url));
    try {
      const inPublic = new (await import('./index.js')).PostgresConversationMemory({
        connectionString: database.url,
      });
      expect(inPublic.schema).toBe('public');
      await inPublic.createSession({ id: 'p' });
      expect((await inPublic.check()).location).toContain('(schema public)');
      await inPublic.close();
    } finally {
      await database.drop();
    }
  });

  it('init - instances starting at once on one empty schema all succeed', async () => {
    const schema = await pg.schema(false);
    const stores = await Promise.all(Array.from({ length: 6 }, () => pg.store({ schema })));
    const ids = await Promise.all(stores.map((store, i) => store.createSession({ id: `s${i}` })));
    expect(ids).toHaveLength(6);
    expect((await stores[0]!.check()).sessions).toBe(6);
  });
});

describe('schema setup beside other applications', () => {
  it('init - succeeds while another session keeps creating and dropping schemas in the same database', async () => {
    let churning = true;
    // Kysely's own introspection read every schema by name and failed when one was dropped meanwhile.
    const churn = withClient(pg.url, async (client) => {
      for (let i = 0; churning; i++) {
        await client.query(
          `CREATE SCHEMA churn_${process.pid}_${i}; CREATE TABLE churn_${process.pid}_${i}.t (x int)`,
        );
        await client.query(`DROP SCHEMA churn_${process.pid}_${i} CASCADE`);
      }
    });
    try {
      for (let round = 0; round < 8; round++) {
        const stores = await Promise.all(Array.from({ length: 3 }, () => pg.store()));
        await Promise.all(stores.map((store) => store.createSession()));
      }
    } finally {
      churning = false;
      await churn;
    }
  });
});
