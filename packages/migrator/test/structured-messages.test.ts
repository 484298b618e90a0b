import path from 'node:path';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { describe, expect, it } from 'vitest';
import { migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';
import { perTestScratch, readEverything } from './helpers.js';

/*
 * Schema version 7's columns travel both ways: payload (JSON text, byte for byte: key order kept),
 * format and digest, and a message id used in two sessions; verification compares them.
 */

const PAYLOAD = {
  id: 'msg-1',
  role: 'assistant',
  parts: [
    { type: 'text', text: 'hi \\u0000 is escaped text here' },
    { type: 'reasoning', signature: 'z9', a: 1 },
  ],
  z: 1,
  b: { y: [1, 2.5, null, true], a: 'é🙂' },
};

describe('migrate - structured messages (schema version 7)', () => {
  const scratch = perTestScratch();

  async function sourceFile(): Promise<string> {
    const file = path.join(scratch.dir, 'source.db');
    const store = new SqliteConversationMemory({ filename: file });
    try {
      const a = await store.createSession({ title: 'a' });
      const b = await store.createSession({ title: 'b' });
      await store.addMessage(a, { id: 'shared', role: 'user', content: 'plain' });
      await store.addMessage(a, {
        id: 'rich',
        role: 'assistant',
        content: 'hi there',
        payload: PAYLOAD,
        format: 'ai-sdk/ui-message',
      });
      await store.addMessage(b, {
        id: 'shared',
        role: 'user',
        content: 'same id, other session',
        payload: [1],
      });
      await store.addMessage(b, { role: 'tool', content: '', payload: 'a string payload', format: 'x' });
    } finally {
      await store.close();
    }
    return file;
  }

  it('SQLite to PostgreSQL and back - payload, format and digest kept, verified, read back equal', async () => {
    const source = await sourceFile();
    const options = { sqlitePath: source, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    const report = await migrateSqliteToPostgres(options);
    expect(report.ok).toBe(true);
    expect(report.verification).toMatchObject({ status: 'passed', sessions: 2, messages: 4 });

    const sqlite = new SqliteConversationMemory({ filename: source });
    const postgres = new PostgresConversationMemory({
      connectionString: testPostgresUrl(),
      schema: scratch.schema,
    });
    try {
      const everything = await readEverything(sqlite);
      expect(await readEverything(postgres)).toEqual(everything);
      const rich = Object.values(everything.byId)
        .flatMap((s) => s.history)
        .find((m) => m.id === 'rich')!;
      expect(rich.payload).toEqual(PAYLOAD);
      expect(rich.format).toBe('ai-sdk/ui-message');
      // The text itself, key order included, as JSON.stringify wrote it.
      const stored = await withClient(testPostgresUrl(), (client) =>
        client.query(`SELECT payload, digest FROM "${scratch.schema}".messages WHERE id = 'rich'`),
      );
      expect(stored.rows[0].payload).toBe(JSON.stringify(PAYLOAD));
      expect(stored.rows[0].digest).toMatch(/^[0-9a-f]{64}$/);

      const back = path.join(scratch.dir, 'back.db');
      const returned = await migratePostgresToSqlite({ ...options, sqlitePath: back });
      expect(returned.ok).toBe(true);
      expect(returned.verification).toMatchObject({ status: 'passed', messages: 4 });
      const laptop = new SqliteConversationMemory({ filename: back });
      try {
        expect(await readEverything(laptop)).toEqual(everything);
      } finally {
        await laptop.close();
      }
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  it('verifyOnly - a payload or format changed in the target is a mismatch of its session; the digest cache alone is not', async () => {
    const source = await sourceFile();
    const options = { sqlitePath: source, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    expect((await migrateSqliteToPostgres(options)).ok).toBe(true);
    for (const change of [`payload = replace(payload, '"z":1', '"z":2')`, `format = 'other'`]) {
      const touched = await withClient(testPostgresUrl(), async (client) => {
        await client.query('BEGIN');
        const before = await client.query(
          `SELECT payload, format, digest FROM "${scratch.schema}".messages WHERE id = 'rich'`,
        );
        const changed = await client.query(
          `UPDATE "${scratch.schema}".messages SET ${change} WHERE id = 'rich' RETURNING session_id`,
        );
        await client.query('COMMIT');
        return { sessionId: changed.rows[0].session_id as string, before: before.rows[0] };
      });
      const report = await migrateSqliteToPostgres({ ...options, verifyOnly: true });
      expect(report.ok, change).toBe(false);
      expect(report.verification.mismatches.map((m) => m.sessionId)).toEqual([touched.sessionId]);
      await withClient(testPostgresUrl(), (client) =>
        client.query(
          `UPDATE "${scratch.schema}".messages SET payload = $1, format = $2, digest = $3 WHERE id = 'rich'`,
          [touched.before.payload, touched.before.format, touched.before.digest],
        ),
      );
      expect((await migrateSqliteToPostgres({ ...options, verifyOnly: true })).ok).toBe(true);
    }
    // A message imported or written by the Python app has no stored digest; it is the same message.
    await withClient(testPostgresUrl(), (client) =>
      client.query(`UPDATE "${scratch.schema}".messages SET digest = NULL WHERE id = 'rich'`),
    );
    expect((await migrateSqliteToPostgres({ ...options, verifyOnly: true })).ok).toBe(true);
  });
});
