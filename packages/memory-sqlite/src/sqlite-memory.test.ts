import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendUnavailableError, MemoryError, ValidationError } from '@flux-rag/memory-core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openPlain, queryPlan, recordReads, tempDir, tempFile } from '../test/support.js';
import { SqliteConversationMemory, type SqliteMemoryOptions } from './sqlite-memory.js';
import { SQLITE_SCHEMA_VERSION } from './sqlite-migrations.js';

const dir = tempDir();
const stores: SqliteConversationMemory[] = [];
const handles: Database.Database[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of handles.splice(0)) if (db.open) db.close();
});

function store(options: SqliteMemoryOptions): SqliteConversationMemory {
  const created = new SqliteConversationMemory(options);
  stores.push(created);
  return created;
}

function handle(path: string): Database.Database {
  const db = new Database(path, { timeout: 0 });
  handles.push(db);
  return db;
}

describe('SqliteConversationMemory options', () => {
  it('filename - creates the file and its missing folders', async () => {
    const path = join(dir, 'deep', 'er', 'memory.db');
    const memory = store({ filename: path });
    await memory.createSession();
    expect(existsSync(path)).toBe(true);
  });

  it('filename - defaults to ./data/memory.db', async () => {
    const cwd = process.cwd();
    const work = join(dir, 'default-cwd');
    mkdirSync(work);
    process.chdir(work);
    try {
      const memory = store({});
      expect(memory.location).toBe('./data/memory.db');
      await memory.createSession();
      expect(existsSync(join(work, 'data', 'memory.db'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it(':memory: - is private to the store', async () => {
    const a = store({ filename: ':memory:' });
    const b = store({ filename: ':memory:' });
    await a.createSession({ id: 'only-in-a' });
    expect(await b.getSession('only-in-a')).toBeNull();
    await a.addMessage('only-in-a', { role: 'user', content: 'kept in memory', metadata: { n: 1 } });
    expect((await a.getHistory('only-in-a')).map((m) => [m.content, m.metadata])).toEqual([
      ['kept in memory', { n: 1 }],
    ]);
    expect(await a.check()).toMatchObject({
      location: ':memory:',
      reachable: true,
      schemaVersion: SQLITE_SCHEMA_VERSION,
    });
  });

  it('database - uses the handle, sets its PRAGMAs, and close() leaves it open', async () => {
    const path = tempFile(dir);
    const db = handle(path);
    const memory = store({ database: db });
    const id = await memory.createSession({ title: 'in a given handle' });
    expect(memory.location).toBe(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    await memory.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT title FROM sessions WHERE id = ?').pluck().get(id)).toBe('in a given handle');
  });

  it('filename - close() closes the file the store opened', async () => {
    const path = tempFile(dir);
    const memory = store({ filename: path });
    await memory.createSession();
    await memory.close();
    // Closing the last connection checkpoints the WAL into the file and removes it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('PRAGMAs - WAL, foreign keys on, synchronous NORMAL on a file the store opens', async () => {
    const path = tempFile(dir);
    const memory = store({ filename: path });
    await memory.init();
    const plain = openPlain(path);
    expect(plain.pragma('journal_mode', { simple: true })).toBe('wal');
    plain.close();
  });

  it('invalid options - are ValidationErrors naming the field', () => {
    const cases: [unknown, string][] = [
      [{ filename: 'a.db', database: new Database(':memory:') }, 'options'],
      [{ filename: '' }, 'filename'],
      [{ filename: 42 }, 'filename'],
      [{ database: {} }, 'database'],
      [{ busyTimeoutMs: -1 }, 'busyTimeoutMs'],
      [{ busyTimeoutMs: 1.5 }, 'busyTimeoutMs'],
      ['a.db', 'options'],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        new SqliteConversationMemory(options as SqliteMemoryOptions);
      } catch (e) {
        error = e;
      }
      expect(ValidationError.isInstance(error), JSON.stringify(options)).toBe(true);
      expect((error as ValidationError).field).toBe(field);
    }
    const closed = new Database(':memory:');
    closed.close();
    expect(() => new SqliteConversationMemory({ database: closed })).toThrow(/closed/);
  });

  it('clock - timestamps come from it and are stored in the Python format', async () => {
    const path = tempFile(dir);
    const at = new Date(Date.UTC(2025, 2, 1, 14, 32, 1, 117));
    const memory = store({ filename: path, clock: () => at });
    const id = await memory.createSession();
    await memory.addMessage(id, { role: 'user', content: 'hi' });
    const [message] = await memory.getHistory(id);
    expect(message!.createdAt).toEqual(at);
    const plain = openPlain(path);
    expect(plain.prepare('SELECT created_at FROM messages').pluck().get()).toBe('2025-03-01T14:32:01.117000');
    expect(plain.prepare('SELECT updated_at FROM sessions').pluck().get()).toBe('2025-03-01T14:32:01.117000');
    plain.close();
  });
});

describe('SqliteConversationMemory errors', () => {
  it('a file locked past busyTimeoutMs - BackendUnavailableError, nothing written, store still usable', async () => {
    const path = tempFile(dir);
    const memory = store({ filename: path, busyTimeoutMs: 100 });
    const id = await memory.createSession();
    const holder = handle(path);
    holder.exec('BEGIN IMMEDIATE');
    const error = await memory.addMessage(id, { role: 'user', content: 'blocked' }).catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('100 ms');
    holder.exec('ROLLBACK');
    expect(await memory.getHistory(id)).toEqual([]);
    await memory.addMessage(id, { role: 'user', content: 'after' });
    expect((await memory.getSessions())[0]!.messageCount).toBe(1);
  });

  it('a folder where the file should be - BackendUnavailableError; check() reports it unreachable', async () => {
    const path = join(dir, 'is-a-folder.db');
    mkdirSync(path);
    const memory = store({ filename: path });
    const error = await memory.getSessions().catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error)).toBe(true);
    const health = await memory.check();
    expect(health).toMatchObject({ backend: 'sqlite', location: path, reachable: false });
  });

  it('a file that is not SQLite - MemoryError, never a raw driver error', async () => {
    const path = join(dir, 'text.db');
    writeFileSync(path, 'hello, this is not a database '.repeat(50));
    const memory = store({ filename: path });
    const error = await memory.getSessions().catch((e: unknown) => e);
    expect(MemoryError.isInstance(error)).toBe(true);
    expect((error as MemoryError).code).toBe('MEMORY_ERROR');
    expect((error as Error).message).toMatch(/not a usable SQLite database/);
  });

  it('a handle closed by its owner - BackendUnavailableError', async () => {
    const db = handle(tempFile(dir));
    const memory = store({ database: db });
    await memory.createSession();
    db.close();
    const error = await memory.getSessions().catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error)).toBe(true);
  });
});

describe('SqliteConversationMemory check()', () => {
  it('reports SQLite, the file, the latest schema version and the row counts', async () => {
    const path = tempFile(dir);
    const memory = store({ filename: path });
    const id = await memory.createSession();
    await memory.addMessage(id, { role: 'user', content: 'a' });
    await memory.addMessage(id, { role: 'assistant', content: 'b' });
    const health = await memory.check();
    expect(health).toMatchObject({
      backend: 'sqlite',
      location: path,
      reachable: true,
      schemaVersion: SQLITE_SCHEMA_VERSION,
      sessions: 1,
      messages: 2,
    });
    expect(health.serverVersion).toMatch(/^SQLite 3\.\d+\.\d+$/);
  });

  it("an owner view reports its owner's sessions and messages only, with no orphan count", async () => {
    const path = tempFile(dir);
    const memory = store({ filename: path });
    const alice = memory.forOwner('alice');
    const mine = await alice.createSession();
    const theirs = await memory.forOwner('bob').createSession();
    await alice.addMessage(mine, { role: 'user', content: 'a' });
    for (const content of ['b', 'c']) await memory.addMessage(theirs, { role: 'user', content });
    const health = await alice.check();
    expect(health).toMatchObject({
      backend: 'sqlite',
      location: path,
      reachable: true,
      sessions: 1,
      messages: 1,
    });
    expect(health).not.toHaveProperty('orphanMessages');
    expect(await memory.check()).toMatchObject({ sessions: 2, messages: 3, orphanMessages: 0 });
  });
});

describe('SqliteConversationMemory two stores on one file', () => {
  it('concurrent writes from two stores of one process all land, counts exact', async () => {
    const path = tempFile(dir);
    const a = store({ filename: path });
    const b = store({ filename: path });
    const id = await a.createSession({ id: 'shared' });
    const writes: Promise<string>[] = [];
    for (let i = 0; i < 50; i++) {
      writes.push(a.addMessage(id, { role: 'user', content: `a${i}` }));
      writes.push(b.addMessage(id, { role: 'assistant', content: `b${i}` }));
    }
    const ids = await Promise.all(writes);
    const history = await b.getHistory(id);
    expect(new Set(history.map((m) => m.id))).toEqual(new Set(ids));
    expect((await a.getSessions())[0]!.messageCount).toBe(100);
    // Each store's own writes keep their call order.
    const fromA = history.filter((m) => m.role === 'user').map((m) => m.content);
    expect(fromA).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
  });
});

describe('SqliteConversationMemory insertion order', () => {
  it('messages sharing a timestamp keep insertion order through VACUUM and export/import', async () => {
    const frozen = new Date(Date.UTC(2025, 0, 1));
    const path = tempFile(dir);
    const memory = store({ filename: path, clock: () => frozen });
    const id = await memory.createSession();
    // Contents in reverse alphabetical order, ids random: only the stored sequence tells the order.
    const contents = ['z', 'y', 'x', 'w', 'v', 'u', 't', 's'];
    for (const content of contents) await memory.addMessage(id, { role: 'user', content });
    const plain = handle(path);
    plain.exec('VACUUM');
    expect((await memory.getHistory(id)).map((m) => m.content)).toEqual(contents);

    const records = [];
    for await (const record of memory.exportRecords()) records.push(record);
    const copy = store({ filename: tempFile(dir) });
    await copy.importRecords(records);
    const history = await copy.getHistory(id);
    expect(history.map((m) => m.content)).toEqual(contents);
    expect(new Set(history.map((m) => m.createdAt.getTime()))).toEqual(new Set([frozen.getTime()]));
    expect((await copy.getHistory(id, { limit: 3 })).map((m) => m.content)).toEqual(['u', 't', 's']);
  });
});

describe('keyset pages', () => {
  it('getHistoryPage - a later page seeks to its cursor in the history index', async () => {
    const raw = handle(tempFile(dir));
    const ran = recordReads(raw);
    const memory = store({ database: raw });
    await memory.createSession({ id: 's' });
    for (let i = 0; i < 30; i++) await memory.addMessage('s', { role: 'user', content: `m${i}` });
    const { nextCursor } = await memory.getHistoryPage('s', { limit: 10 });
    ran.length = 0;
    const page = await memory.getHistoryPage('s', { limit: 10, before: nextCursor });
    expect(page.items.map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 10}`));
    const statement = ran.find((s) => /from "messages"/i.test(s.sql));
    if (!statement) throw new Error('no history read');
    expect(queryPlan(raw, statement)).toEqual([
      'SEARCH messages USING INDEX idx_messages_history (session_id=? AND <expr><?)',
    ]);
  });
});
