import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { NotConversationMemoryError, SchemaUpgradeRequiredError } from '@flux-rag/memory-core';
import { readSchemaVersion } from '@flux-rag/memory-core/sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { SqliteMemoryDialect } from '../src/sqlite-dialect.js';
import { migrateSqlite, SQLITE_SCHEMA_VERSION, sqliteSchemaCatalog } from '../src/sqlite-migrations.js';
import { copyOfLegacyFixture, openPlain, tempDir, tempFile } from './support.js';

/*
 * Only a conversation memory is opened: a file whose `sessions` and `messages` have at least the Python
 * columns, or a file without tables. Anything else is refused before anything is written (no table, no journal
 * mode change, no file next to it), and an upgrade that does not finish leaves no trace.
 */

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Each test gets its own folder, so that the listing shows only its file and what SQLite left next to it. */
function ownFolder(): string {
  return tempDir('memory-sqlite-own-');
}

function state(path: string) {
  return {
    hash: createHash('sha256').update(readFileSync(path)).digest('hex'),
    files: readdirSync(dirname(path)).sort(),
  };
}

function database(path: string, ddl: string[]): string {
  const db = new Database(path);
  for (const statement of ddl) db.exec(statement);
  db.close();
  return path;
}

function open(path: string, options: { upgrade?: 'auto' | 'refuse' } = {}) {
  const store = new SqliteConversationMemory({ filename: path, ...options });
  cleanups.push(() => store.close());
  return store;
}

const FOREIGN: Record<string, { ddl: string[]; tables: string[] }> = {
  "an unrelated application's database": {
    ddl: [
      'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)',
      'CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)',
      "INSERT INTO users (email) VALUES ('a@example.com')",
    ],
    tables: ['orders', 'users'],
  },
  'a database with its own sessions table': {
    ddl: [
      'CREATE TABLE sessions (token TEXT PRIMARY KEY, user_id INTEGER, expires INTEGER)',
      "INSERT INTO sessions VALUES ('t', 1, 0)",
    ],
    tables: ['sessions'],
  },
  'sessions and messages without the Python columns': {
    ddl: [
      'CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, created_at TEXT, updated_at TEXT, metadata TEXT)',
      'CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT, body TEXT)',
    ],
    tables: ['messages', 'sessions'],
  },
};

describe('a file that is not a conversation memory', () => {
  for (const [name, { ddl, tables }] of Object.entries(FOREIGN)) {
    it(`${name} - is refused naming its tables, not a byte written, no journal or WAL file`, async () => {
      const path = database(tempFile(ownFolder(), 'app'), ddl);
      const before = state(path);
      const store = open(path);
      const error = await store.getSessions().catch((e: unknown) => e);
      expect(NotConversationMemoryError.isInstance(error)).toBe(true);
      expect((error as NotConversationMemoryError).code).toBe('NOT_CONVERSATION_MEMORY');
      expect((error as NotConversationMemoryError).tables).toEqual(tables);
      expect((error as Error).message).toContain(path);
      for (const table of tables) expect((error as Error).message).toContain(table);
      // check() never throws: it reports the refusal.
      const health = await store.check();
      expect(health).toMatchObject({ reachable: false });
      expect(health.error).toContain('not a conversation memory');
      const readOnly = new SqliteConversationMemory({ filename: path, readOnly: true });
      expect(NotConversationMemoryError.isInstance(await readOnly.getSessions().catch((e) => e))).toBe(true);
      await readOnly.close();
      await store.close();
      expect(state(path)).toEqual(before);
      const plain = openPlain(path);
      expect(plain.pragma('journal_mode', { simple: true })).toBe('delete');
      plain.close();
    });
  }

  it('a legacy file with tables of its own - is upgraded, the other tables left alone', async () => {
    const path = copyOfLegacyFixture(dir);
    database(path, [
      'CREATE TABLE app_settings (k TEXT PRIMARY KEY, v TEXT)',
      "INSERT INTO app_settings VALUES ('a', 'b')",
    ]);
    const store = open(path);
    expect((await store.check()).schemaVersion).toBe(SQLITE_SCHEMA_VERSION);
    const plain = openPlain(path);
    expect(plain.prepare('SELECT * FROM app_settings').all()).toEqual([{ k: 'a', v: 'b' }]);
    plain.close();
  });

  it('an empty file - is a new store', async () => {
    const path = tempFile(dir);
    writeFileSync(path, '');
    const store = open(path);
    await store.createSession({ title: 'first' });
    expect((await store.check()).sessions).toBe(1);
  });
});

describe('an upgrade that does not finish', () => {
  it('aborted mid-way (SIGINT in the CLI) - leaves the legacy file byte for byte, no file next to it', async () => {
    const path = copyOfLegacyFixture(ownFolder());
    const before = state(path);
    const raw = new Database(path, { timeout: 0 });
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
    const db = new Kysely<any>({
      dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const upgrade = migrateSqlite(db, raw, path, undefined, {
      signal: controller.signal,
      onMigration: (name) => {
        seen.push(name);
        // Aborted once the rebuild of messages (version 2) is done and the search index is being built.
        if (name.startsWith('0004')) controller.abort(new Error('interrupted'));
      },
    });
    await expect(upgrade).rejects.toThrow('interrupted');
    // 0001 runs too on a Python file: its statements are the Python DDL, `IF NOT EXISTS`, so it changes nothing.
    expect(seen).toEqual([
      '0001_original_schema',
      '0002_insertion_order_and_counts',
      '0003_owner_scope',
      '0004_search_and_filters',
    ]);
    expect(raw.inTransaction).toBe(false);
    expect(readSchemaVersion(sqliteSchemaCatalog(raw))).toBe(1);
    await db.destroy();
    raw.close();
    expect(state(path)).toEqual(before);
  });

  it("upgrade: 'refuse' - an older file is SchemaUpgradeRequiredError naming both versions, nothing written", async () => {
    const path = copyOfLegacyFixture(ownFolder());
    const before = state(path);
    const store = open(path, { upgrade: 'refuse' });
    const error = await store.getSessions().catch((e: unknown) => e);
    expect(SchemaUpgradeRequiredError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ schemaVersion: 1, latestVersion: SQLITE_SCHEMA_VERSION });
    expect((error as Error).message).toContain(`flux-memory upgrade --url ${path}`);
    await store.close();
    expect(state(path)).toEqual(before);
    // A new file still gets its schema.
    const fresh = open(tempFile(dir), { upgrade: 'refuse' });
    await fresh.createSession();
    expect((await fresh.check()).schemaVersion).toBe(SQLITE_SCHEMA_VERSION);
  });
});
