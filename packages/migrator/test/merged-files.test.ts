import path from 'node:path';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { generateLegacyFile, migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';
import { perTestScratch, readEverything } from './helpers.js';

/** JSON text with object keys sorted: JSONB keeps its own key order and escapes, the legacy files Python's. */
function canonical(text: string): string {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => [k, sort(v)]),
          )
        : value;
  return JSON.stringify(sort(JSON.parse(text)));
}

/** Python's isoformat() leaves out a zero fraction; the reverse direction writes six digits: the same instant. */
const micros = (at: unknown) => (typeof at === 'string' && at.length === 19 ? `${at}.000000` : at);

/**
 * Every message and session of a SQLite file as comparable text (metadata canonical), and each session's
 * message ids in reading order.
 */
function contents(file: string, order: 'rowid' | 'seq') {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const messages = db
      .prepare('SELECT id, session_id, role, content, created_at, metadata FROM messages')
      .raw(true)
      .all()
      .map((row) => {
        const values = row as unknown[];
        return JSON.stringify([...values.slice(0, 4), micros(values[4]), canonical(values[5] as string)]);
      });
    const sessions = db
      .prepare('SELECT id, title, created_at, metadata FROM sessions')
      .raw(true)
      .all()
      .map((row) => {
        const values = row as unknown[];
        return JSON.stringify([...values.slice(0, 2), micros(values[2]), canonical(values[3] as string)]);
      });
    const ordered = db
      .prepare(`SELECT session_id, id FROM messages ORDER BY session_id, created_at, ${order}`)
      .raw(true)
      .all() as [string, string][];
    const bySession: Record<string, string[]> = {};
    for (const [session, id] of ordered) {
      bySession[session] ??= [];
      bySession[session].push(id);
    }
    return { messages, sessions, bySession };
  } finally {
    db.close();
  }
}

describe('two SQLite files merged into one PostgreSQL schema, then reversed', () => {
  const scratch = perTestScratch();

  it('merge keeps seq unique and each file order; the reverse writes exactly the union', async () => {
    const files = [1, 2].map((seed) => {
      const file = path.join(scratch.dir, `legacy-${seed}.db`);
      generateLegacyFile({ path: file, sessions: 10, messages: 200, seed });
      return file;
    });
    const target = { postgresDsn: testPostgresUrl(), schema: scratch.schema };
    const first = await migrateSqliteToPostgres({ ...target, sqlitePath: files[0]! });
    expect(first.target.load).toBe('bulk');
    const second = await migrateSqliteToPostgres({ ...target, sqlitePath: files[1]! });
    expect(second.ok).toBe(true);
    expect(second.target.load).toBe('merge');
    expect(second.tables.messages.written).toBe(200);

    // Both files' rowids run 1..200: copied as they were, they gave 400 rows with 200 distinct seq values.
    const seqs = await withClient(testPostgresUrl(), async (c) => {
      const r = await c.query(
        `SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM "${scratch.schema}".messages`,
      );
      return r.rows[0] as { n: number; d: number };
    });
    expect(seqs).toEqual({ n: 400, d: 400 });
    // Each file's order of messages within a session (timestamp, then rowid) is PostgreSQL's order.
    const postgres = new PostgresConversationMemory({
      connectionString: testPostgresUrl(),
      schema: scratch.schema,
    });
    try {
      for (const file of files) {
        for (const [sessionId, ids] of Object.entries(contents(file, 'rowid').bySession)) {
          expect((await postgres.getHistory(sessionId)).map((m) => m.id)).toEqual(ids);
        }
      }
      // A third run adds nothing and the identity hands out values above every seq.
      const again = await migrateSqliteToPostgres({ ...target, sqlitePath: files[1]! });
      expect(again.tables.messages.written).toBe(0);

      const laptop = path.join(scratch.dir, 'laptop.db');
      const reverse = await migratePostgresToSqlite({ ...target, sqlitePath: laptop });
      expect(reverse.ok).toBe(true);
      expect(reverse.tables.messages).toMatchObject({ read: 400, written: 400 });
      expect(reverse.verification).toMatchObject({ status: 'passed', sessions: 20, messages: 400 });

      // Exactly the union of the two files: every row, nothing more, and every session's order.
      const [a, b] = files.map((file) => contents(file, 'rowid'));
      const union = contents(laptop, 'seq');
      expect(union.messages.sort()).toEqual([...a!.messages, ...b!.messages].sort());
      expect(union.sessions.sort()).toEqual([...a!.sessions, ...b!.sessions].sort());
      expect(union.bySession).toEqual({ ...a!.bySession, ...b!.bySession });
      const sqlite = new SqliteConversationMemory({ filename: laptop });
      try {
        expect(await readEverything(sqlite)).toEqual(await readEverything(postgres));
      } finally {
        await sqlite.close();
      }
    } finally {
      await postgres.close();
    }
  });

  it("a schema merged by an earlier version (duplicate seq) reverses after the README's repair", async () => {
    const files = [3, 4].map((seed) => {
      const file = path.join(scratch.dir, `legacy-${seed}.db`);
      generateLegacyFile({ path: file, sessions: 5, messages: 60, seed });
      return file;
    });
    const target = { postgresDsn: testPostgresUrl(), schema: scratch.schema };
    for (const file of files) await migrateSqliteToPostgres({ ...target, sqlitePath: file });
    const q = (text: string) =>
      withClient(testPostgresUrl(), async (c) => {
        await c.query(`SET search_path TO "${scratch.schema}"`);
        return (await c.query(text)).rows;
      });
    // What the earlier version left: the second file's messages with the rowids of their file, 1 to 60.
    await q('UPDATE messages SET seq = seq - 60 WHERE seq > 60');
    expect(await q('SELECT count(DISTINCT seq)::int AS d FROM messages')).toEqual([{ d: 60 }]);
    const laptop = path.join(scratch.dir, 'laptop.db');
    await expect(migratePostgresToSqlite({ ...target, sqlitePath: laptop })).rejects.toThrow(/UNIQUE|seq/);

    // The repair given in the README, verbatim.
    await q(`WITH o AS (SELECT id, row_number() OVER (ORDER BY seq, id) AS n FROM messages)
      UPDATE messages AS m SET seq = o.n FROM o WHERE m.id = o.id`);
    await q(`SELECT setval(pg_get_serial_sequence('messages', 'seq'), (SELECT max(seq) FROM messages))`);
    expect(await q('SELECT count(DISTINCT seq)::int AS d FROM messages')).toEqual([{ d: 120 }]);
    const reverse = await migratePostgresToSqlite({
      ...target,
      sqlitePath: path.join(scratch.dir, 'again.db'),
    });
    expect(reverse.ok).toBe(true);
    expect(reverse.tables.messages).toMatchObject({ read: 120, written: 120 });
    const [a, b] = files.map((file) => contents(file, 'rowid'));
    const union = contents(path.join(scratch.dir, 'again.db'), 'seq');
    expect(union.messages.sort()).toEqual([...a!.messages, ...b!.messages].sort());
    expect(union.bySession).toEqual({ ...a!.bySession, ...b!.bySession });
  });
});
