import type { Metadata, SearchHit } from '@flux-rag/memory-core';
import { jsonContains, matchContent, parseSearchQuery } from '@flux-rag/memory-core/backend';
import { decodeMetadataText, readSchemaVersion } from '@flux-rag/memory-core/sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { SqliteMemoryDialect } from '../src/sqlite-dialect.js';
import {
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  sqliteMigrations,
  sqliteSchemaCatalog,
} from '../src/sqlite-migrations.js';
import { copyOfLegacyFixture, LEGACY_FIXTURE, openPlain, tempDir, tempFile } from './support.js';

/*
 * Schema version 4 builds the search and filter indexes over the rows already in a file: the Python fixture
 * (version 1) and a file written at version 3 are upgraded, then searched and filtered, and the results are
 * compared with core's reference matching over what plain SQL reads from the original rows.
 */

const dir = tempDir('memory-sqlite-upgrade-');

async function allHits(store: SqliteConversationMemory, query: string): Promise<SearchHit[]> {
  const hits: SearchHit[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof store.searchMessages>> = await store.searchMessages(query, {
      limit: 100,
      cursor,
    });
    hits.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return hits;
}

describe('upgrading to schema version 4', () => {
  it('the legacy fixture (version 1) - every message is searchable and every session filterable, as core matches them', async () => {
    const plain = openPlain(LEGACY_FIXTURE);
    const messages = plain
      .prepare(
        'SELECT m.id, m.content FROM messages m WHERE m.session_id IN (SELECT id FROM sessions) ORDER BY m.rowid',
      )
      .all() as { id: string; content: string }[];
    const sessions = plain.prepare('SELECT id, metadata FROM sessions').all() as {
      id: string;
      metadata: string;
    }[];
    plain.close();
    const path = copyOfLegacyFixture(dir);
    const store = new SqliteConversationMemory({ filename: path });
    try {
      expect((await store.check()).schemaVersion).toBe(SQLITE_SCHEMA_VERSION);
      // Words, a word with accents, a prefix, a phrase, Chinese (two characters: scanned), operators as words.
      for (const query of [
        'cosine',
        'ünïcödé',
        'augmented retrieval',
        'gen*',
        '"the pipeline"',
        '中文',
        'and OR',
      ]) {
        const terms = parseSearchQuery(query);
        const expected = messages.filter((m) => matchContent(m.content, terms) > 0).map((m) => m.id);
        const found = (await allHits(store, query)).map((hit) => hit.message.id);
        expect(found.sort(), query).toEqual(expected.sort());
        if (query !== 'and OR') expect(expected.length, query).toBeGreaterThan(0);
      }
      const decoded = sessions.map((s) => ({ id: s.id, metadata: decodeMetadataText(s.metadata) }));
      const filters: Metadata[] = [
        { user_id: 'u5' },
        { tags: ['rag'] },
        { model: 'gpt-4o', tags: ['ops', 'i18n'] },
      ];
      for (const filter of filters) {
        const expected = decoded.filter((s) => jsonContains(s.metadata, filter)).map((s) => s.id);
        const found = (await store.getSessions({ where: { metadata: filter }, limit: 1000 })).map(
          (s) => s.id,
        );
        expect(found.sort(), JSON.stringify(filter)).toEqual(expected.sort());
        expect(expected.length).toBeGreaterThan(0);
      }
    } finally {
      await store.close();
    }
  });

  it('a version 3 file - its rows are indexed by the upgrade, new rows by the triggers', async () => {
    const path = tempFile(dir, 'v3');
    const raw = new Database(path);
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
    const db = new Kysely<any>({
      dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
    });
    const {
      '0004_search_and_filters': _,
      '0005_shared_writers': __,
      '0006_timestamp_order': ___,
      '0007_structured_messages': ____,
      ...upToVersion3
    } = sqliteMigrations;
    expect(await migrateSqlite(db, raw, path, upToVersion3)).toBe(3);
    const at = '2025-03-01T10:00:00.000000';
    raw
      .prepare(
        'INSERT INTO sessions (id, title, created_at, updated_at, metadata, owner_id) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run('old', null, at, at, '{"team": "blue", "tags": ["x"]}', 'alice');
    const message = raw.prepare(
      "INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, 'old', 'user', ?, ?, '{}')",
    );
    message.run('m1', 'an aurora over the fjord', at);
    message.run('m2', '北海道でオーロラを見ました', at);
    await db.destroy();
    raw.close();

    const store = new SqliteConversationMemory({ filename: path });
    try {
      expect((await store.check()).schemaVersion).toBe(SQLITE_SCHEMA_VERSION);
      const ids = async (query: string) => (await allHits(store, query)).map((hit) => hit.message.id);
      expect(await ids('aurora')).toEqual(['m1']);
      expect(await ids('オーロラ')).toEqual(['m2']);
      expect(await ids('北海道')).toEqual(['m2']);
      expect((await store.forOwner('alice').searchMessages('fjord')).items.map((h) => h.message.id)).toEqual([
        'm1',
      ]);
      expect((await store.forOwner('bob').searchMessages('fjord')).items).toEqual([]);
      const where = { metadata: { team: 'blue', tags: ['x'] } };
      expect((await store.getSessions({ where })).map((s) => s.id)).toEqual(['old']);
      expect((await store.forOwner('alice').getSessionsPage({ where })).items.map((s) => s.id)).toEqual([
        'old',
      ]);
      await store.addMessage('old', { id: 'm3', role: 'assistant', content: 'Aurora borealis, yes' });
      expect((await ids('aurora')).sort()).toEqual(['m1', 'm3']);
    } finally {
      await store.close();
    }
    const after = openPlain(path);
    expect(readSchemaVersion(sqliteSchemaCatalog(after))).toBe(SQLITE_SCHEMA_VERSION);
    after.close();
  });
});
