import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, tempFile } from '../test/support.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import { migrateSqlite, SQLITE_SCHEMA_VERSION, sqliteMigrations } from './sqlite-migrations.js';

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const { '0007_structured_messages': _, ...upToVersion6 } = sqliteMigrations;

/** A file at schema version 6 with the rows the rebuild must keep, opened with plain better-sqlite3. */
async function version6File() {
  const path = tempFile(dir);
  const raw = new Database(path, { timeout: 0 });
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
  const db = new Kysely<any>({
    dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
  });
  cleanups.push(async () => {
    await db.destroy();
    raw.close();
  });
  expect(await migrateSqlite(db, raw, path, upToVersion6)).toBe(6);
  const session = raw.prepare(
    'INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES (?, ?, ?, ?, ?)',
  );
  session.run('s1', 'one', '2025-03-01T10:00:00.000000', '2025-03-01T10:00:00.000000', '{}');
  session.run('s2', 'two', '2025-03-01T11:00:00.000000', '2025-03-01T11:00:00.000000', '{}');
  const message = raw.prepare(
    'INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  message.run('m1', 's1', 'user', 'aurora borealis', '2025-03-01T10:00:01.000000', '{}');
  // A legacy timestamp form: version 6 keys it in created_order, which the rebuild must copy.
  message.run('m2', 's1', 'assistant', 'northern 東京都 lights', '2025-03-01 10:00:02', '{"a":1}');
  message.run('m3', 's2', 'user', 'unrelated', '2025-03-01T11:00:01.000000', '{}');
  // Gaps in seq: a deleted row, so that kept seqs are told from renumbered ones.
  raw.prepare("DELETE FROM messages WHERE id = 'm1'").run();
  message.run('m4', 's1', 'user', 'aurora again', '2025-03-01T10:00:03.000000', '{}');
  return { path, raw, db };
}

const rows = (raw: Database.Database) =>
  raw
    .prepare(
      'SELECT seq, id, session_id, role, content, created_at, metadata, created_order FROM messages ORDER BY seq',
    )
    .all();
const counts = (raw: Database.Database) =>
  raw.prepare('SELECT id, message_count, last_message_at FROM sessions ORDER BY id').all();
const search = (raw: Database.Database, table: string, query: string) =>
  raw.prepare(`SELECT rowid FROM ${table} WHERE ${table} MATCH ? ORDER BY rowid`).pluck().all(query);

describe('schema version 7 (0007_structured_messages)', () => {
  it('upgrade - rebuilds messages keeping every row, seq, created_order, search index and counts', async () => {
    const { path, raw, db } = await version6File();
    const before = rows(raw);
    const countsBefore = counts(raw);
    const words = search(raw, 'messages_fts', 'aurora');
    const trigrams = search(raw, 'messages_fts_trigram', '"東京都"');
    expect(words).toHaveLength(1);
    expect(trigrams).toHaveLength(1);
    expect(before.some((row) => (row as { created_order: string | null }).created_order !== null)).toBe(true);

    expect(await migrateSqlite(db, raw, path)).toBe(SQLITE_SCHEMA_VERSION);
    expect(rows(raw)).toEqual(before);
    expect(counts(raw)).toEqual(countsBefore);
    expect(search(raw, 'messages_fts', 'aurora')).toEqual(words);
    expect(search(raw, 'messages_fts_trigram', '"東京都"')).toEqual(trigrams);
    expect(raw.prepare('SELECT DISTINCT payload, format, digest FROM messages').all()).toEqual([
      { payload: null, format: null, digest: null },
    ]);
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    // The history read still seeks its index (not a scan of the rebuilt table).
    const plan = raw
      .prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM messages WHERE session_id = 's1'
         ORDER BY coalesce(created_order, created_at), seq`,
      )
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('idx_messages_history');
  });

  it('triggers recreated - search, counts and created_order follow inserts, updates and deletes', async () => {
    const { path, raw, db } = await version6File();
    await migrateSqlite(db, raw, path);
    // The six columns the Python app names: payload, format and digest stay NULL.
    raw
      .prepare(
        `INSERT INTO messages (id, session_id, role, content, created_at, metadata)
         VALUES ('p1', 's2', 'user', 'zephyr', '2025-03-01T12:00:00.000000', '{}'),
                ('p0', 's1', 'user', 'early', '2025-03-01 09:00:00', '{}')`,
      )
      .run();
    expect(raw.prepare("SELECT created_order FROM messages WHERE id = 'p0'").pluck().get()).toBe(
      '2025-03-01T09:00:00.000000',
    );
    const p1 = raw.prepare("SELECT seq, created_order, payload FROM messages WHERE id = 'p1'").get() as {
      seq: number;
      created_order: string | null;
      payload: string | null;
    };
    expect(p1.created_order).toBeNull();
    expect(p1.payload).toBeNull();
    expect(search(raw, 'messages_fts', 'zephyr')).toEqual([p1.seq]);
    expect(counts(raw)).toContainEqual({
      id: 's2',
      message_count: 2,
      last_message_at: '2025-03-01T12:00:00.000000',
    });
    // An in-place replacement (what upsertMessages writes) moves the search index, not the counts.
    raw.prepare("UPDATE messages SET content = 'mistral', payload = '[1]' WHERE id = 'p1'").run();
    expect(search(raw, 'messages_fts', 'zephyr')).toEqual([]);
    expect(search(raw, 'messages_fts', 'mistral')).toEqual([p1.seq]);
    expect(counts(raw)).toContainEqual({
      id: 's2',
      message_count: 2,
      last_message_at: '2025-03-01T12:00:00.000000',
    });
    raw.prepare("DELETE FROM messages WHERE id = 'p1'").run();
    expect(search(raw, 'messages_fts', 'mistral')).toEqual([]);
    expect(counts(raw)).toContainEqual({
      id: 's2',
      message_count: 1,
      last_message_at: '2025-03-01T11:00:01.000000',
    });
  });

  it('ids - unique per session: the same id in two sessions is allowed, twice in one is refused', async () => {
    const { path, raw, db } = await version6File();
    await migrateSqlite(db, raw, path);
    const insert = raw.prepare(
      "INSERT INTO messages (id, session_id, role, content, created_at) VALUES (?, ?, 'user', 'x', '2025-03-02T00:00:00.000000')",
    );
    insert.run('m3', 's1');
    expect(() => insert.run('m3', 's1')).toThrow(
      /UNIQUE constraint failed: messages.session_id, messages.id/,
    );
    const long = 'x'.repeat(255);
    insert.run(long, 's2');
    expect(
      raw.prepare('SELECT session_id FROM messages WHERE id = ? ORDER BY session_id').pluck().all('m3'),
    ).toEqual(['s1', 's2']);
  });

  it('message_operations - deleted with their session, also by a writer with foreign keys off', async () => {
    const { path, raw, db } = await version6File();
    await migrateSqlite(db, raw, path);
    const op = raw.prepare(
      "INSERT INTO message_operations (session_id, operation_id, request_digest, result, seq) VALUES (?, ?, 'd', '{}', ?)",
    );
    op.run('s1', 'op-1', 1);
    op.run('s1', 'op-2', 2);
    op.run('s2', 'op-1', 1);
    expect(() => op.run('s1', 'op-1', 3)).toThrow(/UNIQUE constraint failed/);
    raw.pragma('foreign_keys = OFF');
    raw.prepare("DELETE FROM sessions WHERE id = 's1'").run();
    raw.pragma('foreign_keys = ON');
    expect(raw.prepare('SELECT session_id, operation_id FROM message_operations').all()).toEqual([
      { session_id: 's2', operation_id: 'op-1' },
    ]);
    const plan = raw
      .prepare(
        "EXPLAIN QUERY PLAN SELECT operation_id FROM message_operations WHERE session_id = 's2' ORDER BY seq DESC",
      )
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('idx_message_operations_seq');
  });

  it('the store - writes the same message id into two sessions of an upgraded file', async () => {
    const { path, raw, db } = await version6File();
    await db.destroy();
    raw.close();
    cleanups.pop();
    const store = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => store.close());
    await store.addMessage('s2', { id: 'm2', role: 'user', content: 'same id, other session' });
    expect((await store.getHistory('s2')).map((m) => m.id)).toEqual(['m3', 'm2']);
    expect((await store.getHistory('s1')).map((m) => m.id)).toEqual(['m2', 'm4']);
    await expect(store.addMessage('s2', { id: 'm2', role: 'user', content: 'again' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });
});
