import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, tempFile } from '../test/support.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { type SqliteMemoryConnection, SqliteMemoryDriver } from './sqlite-driver.js';

const dir = tempDir();
const opened: Database.Database[] = [];

afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
});

function open(path: string, timeout = 0): Database.Database {
  const db = new Database(path, { timeout });
  db.pragma('journal_mode = WAL');
  opened.push(db);
  return db;
}

async function connectionOf(db: Database.Database, statementCacheSize?: number) {
  const driver = new SqliteMemoryDriver({ database: () => db, busyTimeoutMs: 1000, statementCacheSize });
  await driver.init();
  return { driver, connection: (await driver.acquireConnection()) as SqliteMemoryConnection };
}

// biome-ignore lint/suspicious/noExplicitAny: raw test tables
function kyselyOn(db: Database.Database, busyTimeoutMs: number): Kysely<any> {
  return new Kysely({ dialect: new SqliteMemoryDialect({ database: () => db, busyTimeoutMs }) });
}

describe('SqliteMemoryDriver statement cache', () => {
  it('prepares a statement once per SQL text', async () => {
    const db = new Database(':memory:');
    opened.push(db);
    const { connection } = await connectionOf(db);
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((text: string) => {
      prepared.push(text);
      return prepare(text);
    }) as typeof db.prepare;
    for (let i = 0; i < 5; i++) {
      const { rows } = await connection.executeQuery(CompiledQuery.raw('SELECT ? AS n', [i]));
      expect(rows).toEqual([{ n: i }]);
    }
    expect(prepared).toEqual(['SELECT ? AS n']);
    expect(connection.cachedStatements).toBe(1);
  });

  it('stays within its bound, evicting the oldest statement', async () => {
    const db = new Database(':memory:');
    opened.push(db);
    const { connection } = await connectionOf(db, 3);
    for (let i = 0; i < 10; i++) await connection.executeQuery(CompiledQuery.raw(`SELECT ${i} AS n`));
    expect(connection.cachedStatements).toBe(3);
  });

  it('does not cache very long statements (bulk inserts)', async () => {
    const db = new Database(':memory:');
    opened.push(db);
    const { connection } = await connectionOf(db);
    const long = `SELECT ${Array.from({ length: 2000 }, (_, i) => i).join(', ')}`;
    const { rows } = await connection.executeQuery(CompiledQuery.raw(long));
    expect(Object.keys(rows[0] as object)).toHaveLength(2000);
    expect(connection.cachedStatements).toBe(0);
  });

  it('reports changes and the last rowid of writes', async () => {
    const db = new Database(':memory:');
    opened.push(db);
    const { connection } = await connectionOf(db);
    await connection.executeQuery(CompiledQuery.raw('CREATE TABLE t (x)'));
    const result = await connection.executeQuery(CompiledQuery.raw('INSERT INTO t VALUES (1), (2)'));
    expect(result.numAffectedRows).toBe(2n);
    expect(result.insertId).toBe(2n);
  });
});

describe('SqliteMemoryDriver transactions', () => {
  it('beginTransaction - takes the write lock up front (BEGIN IMMEDIATE), even before any write', async () => {
    const path = tempFile(dir);
    const other = open(path);
    other.exec('CREATE TABLE t (x)');
    const db = kyselyOn(open(path), 1000);
    await db.transaction().execute(async (trx) => {
      await sql`SELECT count(*) FROM t`.execute(trx);
      expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    });
    other.exec('BEGIN IMMEDIATE; ROLLBACK');
    await db.destroy();
  });

  it('a locked file - waits asynchronously: the holder, on the same thread, finishes and the write goes in', async () => {
    const path = tempFile(dir);
    const holder = open(path);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
    const db = kyselyOn(open(path), 5000);
    // If the wait blocked the thread, this timer could not fire before the busy timeout.
    setTimeout(() => holder.exec('COMMIT'), 100);
    const started = Date.now();
    await db.transaction().execute((trx) => sql`INSERT INTO t VALUES (2)`.execute(trx));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(holder.prepare('SELECT x FROM t ORDER BY x').pluck().all()).toEqual([1, 2]);
    await db.destroy();
  });

  it('a locked file - autocommit writes wait too', async () => {
    const path = tempFile(dir);
    const holder = open(path);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE');
    const db = kyselyOn(open(path), 5000);
    setTimeout(() => holder.exec('COMMIT'), 50);
    await sql`INSERT INTO t VALUES (3)`.execute(db);
    expect(holder.prepare('SELECT x FROM t').pluck().all()).toEqual([3]);
    await db.destroy();
  });

  it('a file locked past the timeout - fails with SQLITE_BUSY after about busyTimeoutMs', async () => {
    const path = tempFile(dir);
    const holder = open(path);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE');
    const db = kyselyOn(open(path), 150);
    const started = Date.now();
    await expect(
      db.transaction().execute((trx) => sql`INSERT INTO t VALUES (1)`.execute(trx)),
    ).rejects.toThrow(expect.objectContaining({ code: 'SQLITE_BUSY' }));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(2000);
    holder.exec('ROLLBACK');
    await db.destroy();
  });

  it('rolls back a failed transaction', async () => {
    const path = tempFile(dir);
    const raw = open(path);
    raw.exec('CREATE TABLE t (x)');
    const db = kyselyOn(raw, 1000);
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`INSERT INTO t VALUES (1)`.execute(trx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(raw.inTransaction).toBe(false);
    expect(raw.prepare('SELECT count(*) FROM t').pluck().get()).toBe(0);
    await db.destroy();
  });

  it('destroy - leaves the database open for its owner', async () => {
    const raw = new Database(':memory:');
    opened.push(raw);
    const db = kyselyOn(raw, 1000);
    await sql`SELECT 1`.execute(db);
    await db.destroy();
    expect(raw.open).toBe(true);
  });
});
