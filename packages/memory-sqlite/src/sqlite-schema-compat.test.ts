import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { copyOfLegacyFixture, openPlain, tempDir, tempFile } from '../test/support.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import { migrateSqlite, SEARCH_INDEX_TABLES, sqliteMigrations } from './sqlite-migrations.js';

/*
 * Every SQLite client that writes the file runs its triggers and virtual tables with its own SQLite: the Python
 * app's may be 3.37. The schema must use nothing newer (the README lists each feature it uses, with its
 * version); `test/python-writer.test.ts` runs the real python3 on it.
 */

const dir = tempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Schema syntax and functions newer than SQLite 3.37, with the version that introduced each. */
const NEWER_THAN_3_37: readonly [RegExp, string][] = [
  [/contentless_delete/i, '3.43 FTS5 contentless_delete'],
  [/contentless_unindexed/i, '3.48 FTS5 contentless_unindexed'],
  [/tokendata/i, '3.45 FTS5 tokendata'],
  [/\blocale\s*=/i, '3.47 FTS5 locale'],
  [/trigram[^'"]*remove_diacritics/i, '3.45 trigram remove_diacritics'],
  [/->/, '3.38 -> and ->> operators'],
  [/\bunixepoch\s*\(/i, '3.38 unixepoch()'],
  [/\bformat\s*\(/i, '3.38 format()'],
  [/\bjsonb_?\w*\s*\(/i, '3.45 JSONB functions'],
  [/\bjson_pretty\s*\(/i, '3.46 json_pretty()'],
  [/\boctet_length\s*\(/i, '3.43 octet_length()'],
  [/\btimediff\s*\(/i, '3.43 timediff()'],
  [/\bconcat(_ws)?\s*\(/i, '3.44 concat()'],
  [/\bstring_agg\s*\(/i, '3.44 string_agg()'],
  [/\b(right|full)\s+(outer\s+)?join\b/i, '3.39 RIGHT and FULL JOIN'],
  [/\bis\s+(not\s+)?distinct\s+from\b/i, '3.39 IS DISTINCT FROM'],
  [/\bunistr\s*\(/i, '3.50 unistr()'],
  [/\bif\s*\(/i, '3.48 if()'],
  [/\b(percentile|median)\w*\s*\(/i, '3.51 percentile functions'],
  [/\bstrict\s*$/i, '3.37 STRICT tables (allowed, but not needed)'],
];

function schemaText(path: string): { name: string; sql: string }[] {
  const plain = openPlain(path);
  try {
    return plain.prepare('SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name').all() as {
      name: string;
      sql: string;
    }[];
  } finally {
    plain.close();
  }
}

describe('the schema other SQLite clients run', () => {
  it('a new file and an upgraded Python file - use no feature newer than SQLite 3.37', async () => {
    const fresh = tempFile(dir);
    const legacy = copyOfLegacyFixture(dir);
    for (const path of [fresh, legacy]) {
      const store = new SqliteConversationMemory({ filename: path });
      await store.init();
      await store.close();
      const objects = schemaText(path);
      expect(objects.length).toBeGreaterThan(10);
      const found = objects.flatMap(({ name, sql }) =>
        NEWER_THAN_3_37.filter(([pattern]) => pattern.test(sql)).map(([, what]) => `${name}: ${what}`),
      );
      expect(found).toEqual([]);
    }
  });

  it('the keyword check - finds what version 4 used to declare', () => {
    const old = SEARCH_INDEX_TABLES[0]!.replace("content = '',", "content = '', contentless_delete = 1,");
    expect(NEWER_THAN_3_37.filter(([pattern]) => pattern.test(old)).map(([, what]) => what)).toEqual([
      '3.43 FTS5 contentless_delete',
    ]);
  });

  it('a file an earlier version 4 wrote (contentless_delete) - is rebuilt by version 5, search and counts intact (and keyed by version 6)', async () => {
    const path = tempFile(dir);
    const raw = new Database(path);
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
    const db = new Kysely<any>({
      dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
    });
    cleanups.push(() => db.destroy());
    const {
      '0005_shared_writers': _,
      '0006_timestamp_order': __,
      '0007_structured_messages': ___,
      ...upToVersion4
    } = sqliteMigrations;
    // Version 4 as it was first written: its FTS5 tables declared contentless_delete.
    const oldVersion4 = {
      ...upToVersion4,
      '0004_search_and_filters': {
        // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
        async up(trx: Kysely<any>) {
          await upToVersion4['0004_search_and_filters']!.up(trx);
          await trx.schema.dropTable('messages_fts').execute();
          await trx.schema.dropTable('messages_fts_trigram').execute();
          for (const statement of SEARCH_INDEX_TABLES.slice(0, 2)) {
            await sql
              .raw(statement.replace("content = '',", "content = '', contentless_delete = 1,"))
              .execute(trx);
          }
        },
      },
    };
    expect(await migrateSqlite(db, raw, path, oldVersion4)).toBe(4);
    raw
      .prepare(
        "INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES ('s', 't', 'x', 'x', '{}')",
      )
      .run();
    raw
      .prepare(
        "INSERT INTO messages (id, session_id, role, content, created_at) VALUES ('m', 's', 'user', 'aurora', '2025-01-01T00:00:00.000000')",
      )
      .run();
    // What the first version 4 did: the message indexed, the counts left to the store (stale here).
    raw
      .prepare("INSERT INTO messages_fts (rowid, content) SELECT seq, content FROM messages WHERE id = 'm'")
      .run();
    expect(schemaText(path).some((o) => /contentless_delete/.test(o.sql))).toBe(true);
    await db.destroy();
    cleanups.pop();
    raw.close();

    const store = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => store.close());
    expect((await store.searchMessages('aurora')).items.map((h) => h.message.id)).toEqual(['m']);
    expect(schemaText(path).some((o) => /contentless_delete/.test(o.sql))).toBe(false);
    expect((await store.getSessions()).map((s) => [s.id, s.messageCount])).toEqual([['s', 1]]);
    await store.deleteSession('s');
    expect((await store.searchMessages('aurora')).items).toEqual([]);
  });
});
