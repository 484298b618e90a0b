import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SchemaVersionError } from '@flux-rag/memory-core';
import { readSchemaVersion } from '@flux-rag/memory-core/sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { legacyFile, tempDir, tempFile } from '../test/support.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import {
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  sqliteMigrations,
  sqliteSchemaCatalog,
} from './sqlite-migrations.js';

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openKysely(path: string) {
  const raw = new Database(path, { timeout: 0 });
  raw.pragma('journal_mode = WAL');
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
  const db = new Kysely<any>({
    dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
  });
  cleanups.push(async () => {
    await db.destroy();
    raw.close();
  });
  return { raw, db };
}

function columns(raw: Database.Database, table: string): string[] {
  return raw.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
}

function indexes(raw: Database.Database): string[] {
  return raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
}

/** A legacy file with two sessions, messages sharing a timestamp, and an orphan. */
function smallLegacyFile(): string {
  return legacyFile(dir, (db) => {
    const session = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)');
    session.run('s1', 'one', '2025-03-01T10:00:00.000000', '2025-03-01T10:00:05.000000', '{}');
    session.run('s2', null, '2025-03-01T11:00:00.000000', '2025-03-01T11:00:00.000000', '{}');
    const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
    // Ids in reverse alphabetical order: only the rowid tells the true order of the tie.
    message.run('m-z', 's1', 'user', 'first', '2025-03-01T10:00:05.000000', '{}');
    message.run('m-y', 's1', 'assistant', 'second', '2025-03-01T10:00:05.000000', '{}');
    message.run('m-x', 's1', 'user', 'third', '2025-03-01T10:00:05.000000', '{}');
    message.run('m-orphan', 'gone', 'user', 'orphan', '2025-03-01T09:00:00.000000', '{}');
  });
}

describe('sqliteMigrations', () => {
  it('are named as in every SQL backend', () => {
    expect(Object.keys(sqliteMigrations)).toEqual([
      '0001_original_schema',
      '0002_insertion_order_and_counts',
      '0003_owner_scope',
      '0004_search_and_filters',
      '0005_shared_writers',
      '0006_timestamp_order',
      '0007_structured_messages',
    ]);
  });

  it('a new file - gets the latest schema: seq, counts, owner, the read indexes and the search triggers', async () => {
    const { raw, db } = openKysely(tempFile(dir));
    expect(readSchemaVersion(sqliteSchemaCatalog(raw))).toBe(0);
    expect(await migrateSqlite(db, raw, 'new.db')).toBe(SQLITE_SCHEMA_VERSION);
    expect(readSchemaVersion(sqliteSchemaCatalog(raw))).toBe(SQLITE_SCHEMA_VERSION);
    expect(columns(raw, 'messages')).toEqual([
      'seq',
      'id',
      'session_id',
      'role',
      'content',
      'created_at',
      'metadata',
      'created_order',
      'payload',
      'format',
      'digest',
    ]);
    expect(columns(raw, 'message_operations')).toEqual([
      'session_id',
      'operation_id',
      'request_digest',
      'result',
      'seq',
    ]);
    expect(columns(raw, 'sessions')).toEqual([
      'id',
      'title',
      'created_at',
      'updated_at',
      'metadata',
      'message_count',
      'last_message_at',
      'owner_id',
      'created_order',
    ]);
    expect(indexes(raw)).toEqual([
      'idx_message_operations_seq',
      'idx_messages_history',
      'idx_session_metadata_terms_session',
      'idx_sessions_activity',
      'idx_sessions_created',
      'idx_sessions_owner_activity',
      'idx_sessions_owner_created',
    ]);
    expect(
      raw.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all(),
    ).toEqual([
      'messages_activity_delete',
      'messages_activity_insert',
      'messages_activity_update',
      'messages_created_order_insert',
      'messages_created_order_update',
      'messages_fts_delete',
      'messages_fts_insert',
      'messages_fts_update',
      'sessions_created_order_insert',
      'sessions_created_order_update',
      'sessions_operations_delete',
      'sessions_terms_delete',
      'sessions_terms_insert',
      'sessions_terms_update',
    ]);
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(await migrateSqlite(db, raw, 'new.db')).toBe(SQLITE_SCHEMA_VERSION);
    expect(raw.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all()).toEqual(
      Object.keys(sqliteMigrations),
    );
  });

  it('a legacy file - is at version 1 and upgrades in place: seq = old rowid, counts filled, orphans kept', async () => {
    const path = smallLegacyFile();
    const { raw, db } = openKysely(path);
    const before = raw.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all();
    expect(readSchemaVersion(sqliteSchemaCatalog(raw))).toBe(1);
    await migrateSqlite(db, raw, path);
    const after = raw
      .prepare(
        'SELECT seq AS rowid, id, session_id, role, content, created_at, metadata FROM messages ORDER BY seq',
      )
      .all();
    expect(after).toEqual(before);
    expect(raw.prepare('SELECT id, message_count, last_message_at FROM sessions ORDER BY id').all()).toEqual([
      { id: 's1', message_count: 3, last_message_at: '2025-03-01T10:00:05.000000' },
      { id: 's2', message_count: 0, last_message_at: null },
    ]);
    // New rows come after every legacy row in insertion order.
    raw
      .prepare("INSERT INTO messages (id, session_id, role, content) VALUES ('new', 's1', 'user', 'x')")
      .run();
    expect(raw.prepare("SELECT seq FROM messages WHERE id = 'new'").pluck().get()).toBe(5);
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('a failed upgrade - is rolled back whole: the legacy file keeps its schema and every row', async () => {
    const path = smallLegacyFile();
    const { raw, db } = openKysely(path);
    const before = raw.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all();
    const sessionsBefore = raw.prepare('SELECT * FROM sessions ORDER BY id').all();
    const failing = {
      ...sqliteMigrations,
      '0004_search_and_filters': {
        // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
        async up(trx: Kysely<any>) {
          await sqliteMigrations['0004_search_and_filters']!.up(trx);
          throw new Error('injected failure after the whole upgrade ran');
        },
      },
    };
    await expect(migrateSqlite(db, raw, path, failing)).rejects.toThrow('injected failure');
    expect(raw.inTransaction).toBe(false);
    expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(columns(raw, 'messages')).toEqual([
      'id',
      'session_id',
      'role',
      'content',
      'created_at',
      'metadata',
    ]);
    expect(columns(raw, 'sessions')).toEqual(['id', 'title', 'created_at', 'updated_at', 'metadata']);
    expect(indexes(raw)).toEqual(['idx_messages_session']);
    expect(readSchemaVersion(sqliteSchemaCatalog(raw))).toBe(1);
    expect(raw.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all()).toEqual(before);
    expect(raw.prepare('SELECT * FROM sessions ORDER BY id').all()).toEqual(sessionsBefore);
    // The next try, with the real migrations, upgrades it.
    expect(await migrateSqlite(db, raw, path)).toBe(SQLITE_SCHEMA_VERSION);
    expect(raw.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(4);
  });

  it('a file of a newer schema version - is refused with SchemaVersionError and not written to', async () => {
    const path = tempFile(dir);
    const first = new SqliteConversationMemory({ filename: path });
    await first.createSession({ title: 'kept' });
    await first.close();
    const setup = new Database(path);
    setup
      .prepare("INSERT INTO kysely_migration VALUES ('0099_from_the_future', ?)")
      .run(new Date().toISOString());
    setup.close();
    const hash = () => createHash('sha256').update(readFileSync(path)).digest('hex');
    const before = hash();

    const store = new SqliteConversationMemory({ filename: path });
    const error = await store.getSessions().catch((e: unknown) => e);
    expect(SchemaVersionError.isInstance(error)).toBe(true);
    expect((error as SchemaVersionError).code).toBe('SCHEMA_VERSION_UNSUPPORTED');
    expect((error as Error).message).toContain('schema version 99');
    expect((error as Error).message).toContain(path);
    const health = await store.check();
    expect(health.reachable).toBe(false);
    expect(health.error).toContain('schema version 99');
    await store.close();
    expect(hash()).toBe(before);
  });

  it('two stores opening one new file at once - migrate it once, both work', async () => {
    const path = tempFile(dir);
    const a = new SqliteConversationMemory({ filename: path });
    const b = new SqliteConversationMemory({ filename: path });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await Promise.all([a.init(), b.init()]);
    const [x, y] = await Promise.all([a.createSession({ title: 'a' }), b.createSession({ title: 'b' })]);
    expect((await a.getSessions()).map((s) => s.id).sort()).toEqual([x, y].sort());
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(SQLITE_SCHEMA_VERSION);
    check.close();
  });
});
