import path from 'node:path';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';
import { expectSameContent, legacyCopy, perTestScratch, readEverything } from './helpers.js';

describe('migratePostgresToSqlite - production data to a laptop', () => {
  const scratch = perTestScratch();
  beforeEach(async () => {
    await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
  });

  it('migrate - SQLite then returns for every session exactly what PostgreSQL returned', async () => {
    const target = path.join(scratch.dir, 'laptop.db');
    const options = { sqlitePath: target, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    const report = await migratePostgresToSqlite(options);
    expect(report.ok).toBe(true);
    expect(report.direction).toBe('postgres-to-sqlite');
    expect(report.target.load).toBe('bulk');
    expect(report.tables.messages).toMatchObject({ read: 947, written: 947 });
    expect(report.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });

    await expectSameContent(target, { connectionString: testPostgresUrl(), schema: scratch.schema });
    // seq came along: the legacy rowids, through PostgreSQL, into the new file's rowids.
    const legacy = new BetterSqlite3(legacyCopy(scratch.dir, 'again.db'), { readonly: true });
    const laptop = new BetterSqlite3(target, { readonly: true });
    const pairs = (db: BetterSqlite3.Database, key: string) =>
      Object.fromEntries(db.prepare(`SELECT id, ${key} FROM messages`).raw(true).all() as [string, number][]);
    expect(pairs(laptop, 'seq')).toEqual(pairs(legacy, 'rowid'));
    legacy.close();
    laptop.close();

    const again = await migratePostgresToSqlite(options);
    expect(again.tables.messages).toMatchObject({ written: 0, alreadyPresent: 947 });
    expect(again.summary).toMatch(/^wrote 0 rows/);
  });

  it('merge - into a file holding its own rows: nothing of it is touched, seq conflicts take new values', async () => {
    const target = path.join(scratch.dir, 'laptop.db');
    const mine = new SqliteConversationMemory({ filename: target });
    const own = await mine.createSession({ title: 'mine' });
    for (let i = 0; i < 5; i++) await mine.addMessage(own, { role: 'user', content: `local ${i}` });
    const before = await readEverything(mine);
    await mine.close();
    const report = await migratePostgresToSqlite({
      sqlitePath: target,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    expect(report.ok).toBe(true);
    expect(report.target.load).toBe('merge');
    expect(report.tables.messages.written).toBe(947);
    const after = new SqliteConversationMemory({ filename: target });
    try {
      expect(await after.getHistory(own)).toEqual(before.byId[own]!.history);
      expect((await after.getSessions({ limit: 1000 })).length).toBe(41);
    } finally {
      await after.close();
    }
  });
});
