import { createHash } from 'node:crypto';
import type { Message, PortableRecord, SessionSummary } from '@flux-rag/memory-core';
import { readSchemaVersion } from '@flux-rag/memory-core/sql';
import type Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { SqliteMemoryDialect } from '../src/sqlite-dialect.js';
import {
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  sqliteMigrations,
  sqliteSchemaCatalog,
} from '../src/sqlite-migrations.js';
import { copyOfLegacyFixture, LEGACY_FIXTURE, openPlain, tempDir } from './support.js';

/*
 * The file the original Python backend wrote, opened in place and checked row by row against what plain SQL
 * reads from the untouched fixture: naive timestamps are UTC, metadata is the (ASCII-escaped) JSON decoded,
 * messages sharing a timestamp come in insertion (rowid) order, sessions by updated_at.
 */

interface SessionRow {
  id: string;
  title: string | null;
  created_at: string;
  updated_at: string;
  metadata: string;
}
interface MessageRow {
  rowid: number;
  id: string;
  session_id: string;
  role: string;
  content: string;
  created_at: string;
  metadata: string;
}

const dir = tempDir();
const utc = (naive: string) => new Date(`${naive.slice(0, 23)}Z`);

let fixture: Database.Database;
let sessions: SessionRow[];
let messages: MessageRow[];
let path: string;
let memory: SqliteConversationMemory;

function messagesOf(sessionId: string): MessageRow[] {
  return messages.filter((m) => m.session_id === sessionId);
}

function expectMessage(actual: Message, row: MessageRow): void {
  expect(actual).toEqual({
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: row.content,
    createdAt: utc(row.created_at),
    metadata: JSON.parse(row.metadata),
    // The Python writer has no structured messages: its rows read as plain ones.
    payload: null,
    format: null,
  });
}

beforeAll(async () => {
  fixture = openPlain(LEGACY_FIXTURE);
  sessions = fixture
    .prepare('SELECT * FROM sessions ORDER BY updated_at DESC, id DESC')
    .all() as SessionRow[];
  messages = fixture
    .prepare('SELECT rowid, * FROM messages ORDER BY session_id, created_at, rowid')
    .all() as MessageRow[];
  path = copyOfLegacyFixture(dir);
  memory = new SqliteConversationMemory({ filename: path });
  await memory.init();
});

afterAll(async () => {
  await memory?.close();
  fixture?.close();
});

describe('legacy file: what the fixture holds', () => {
  it('is the Python schema with no version table, 40 sessions and 947 messages', () => {
    expect(sessions).toHaveLength(40);
    expect(messages).toHaveLength(947);
    expect(readSchemaVersion(sqliteSchemaCatalog(fixture))).toBe(1);
    // Sanity of the checks below: the fixture does hold what they are about.
    expect(messages.some((m) => m.metadata.includes('\\u00ef'))).toBe(true);
    expect(sessions.some((s) => s.title === null)).toBe(true);
    expect(sessions.some((s) => s.title === '')).toBe(true);
  });
});

describe('legacy file: reads', () => {
  it('getSession - every session, title, UTC timestamps and metadata as plain SQL reads them', async () => {
    for (const row of sessions) {
      expect(await memory.getSession(row.id)).toEqual({
        id: row.id,
        title: row.title,
        createdAt: utc(row.created_at),
        updatedAt: utc(row.updated_at),
        metadata: JSON.parse(row.metadata),
        ownerId: null,
      });
    }
  });

  it('getSessions - updated_at order, exact counts and last message time', async () => {
    const listed = await memory.getSessions({ limit: 1000 });
    expect(listed.map((s) => s.id)).toEqual(sessions.map((s) => s.id));
    for (const summary of listed) {
      const own = messagesOf(summary.id);
      expect(summary.messageCount).toBe(own.length);
      expect(summary.lastMessageAt).toEqual(own.length ? utc(own[own.length - 1]!.created_at) : null);
    }
    expect(listed.filter((s) => s.messageCount === 0)).toHaveLength(1);
  });

  it('getSessions - pages of 7 neither overlap nor skip', async () => {
    const seen: SessionSummary[] = [];
    for (let offset = 0; offset < 50; offset += 7)
      seen.push(...(await memory.getSessions({ limit: 7, offset })));
    expect(seen.map((s) => s.id)).toEqual(sessions.map((s) => s.id));
  });

  it('getHistory - every message of every session, in (created_at, insertion) order', async () => {
    let total = 0;
    for (const session of sessions) {
      const history = await memory.getHistory(session.id);
      const rows = messagesOf(session.id);
      expect(history).toHaveLength(rows.length);
      for (const [i, message] of history.entries()) expectMessage(message, rows[i]!);
      total += history.length;
    }
    expect(total).toBe(947);
  });

  it('getHistory - messages sharing a timestamp keep insertion order, which id order would not give', async () => {
    const groups = new Map<string, MessageRow[]>();
    for (const row of messages) {
      const key = `${row.session_id} ${row.created_at}`;
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const ties = [...groups.values()].filter((group) => group.length > 1);
    expect(ties.length).toBeGreaterThan(10);
    const byId = (group: MessageRow[]) => [...group].sort((a, b) => (a.id < b.id ? -1 : 1)).map((m) => m.id);
    expect(ties.some((group) => byId(group).join() !== group.map((m) => m.id).join())).toBe(true);
    for (const group of ties) {
      const history = await memory.getHistory(group[0]!.session_id);
      const ids = history.map((m) => m.id);
      const positions = group.map((m) => ids.indexOf(m.id));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(positions[positions.length - 1]! - positions[0]!).toBe(group.length - 1);
    }
  });

  it('getHistory(limit) - the last messages, also when the limit cuts a group sharing a timestamp', async () => {
    for (const session of sessions) {
      const rows = messagesOf(session.id);
      for (const limit of [1, 2, 3, 5, 50]) {
        const history = await memory.getHistory(session.id, { limit });
        expect(history.map((m) => m.id)).toEqual(rows.slice(-limit).map((m) => m.id));
      }
    }
  });

  it('exportRecords - every row with its microseconds, naive values read as UTC', async () => {
    const records: PortableRecord[] = [];
    for await (const record of memory.exportRecords()) records.push(record);
    const exportedSessions = records.filter((r) => r.type === 'session');
    const exportedMessages = records.filter((r) => r.type === 'message');
    expect(exportedSessions).toHaveLength(40);
    expect(exportedMessages).toHaveLength(947);
    const rowsById = new Map(messages.map((m) => [m.id, m]));
    for (const record of exportedMessages) {
      const row = rowsById.get(record.id)!;
      expect(record.createdAt).toBe(`${row.created_at}Z`);
      expect(record.content).toBe(row.content);
      expect(record.metadata).toEqual(JSON.parse(row.metadata));
    }
    const sessionRows = new Map(sessions.map((s) => [s.id, s]));
    for (const record of exportedSessions) {
      const row = sessionRows.get(record.id)!;
      expect([record.createdAt, record.updatedAt]).toEqual([`${row.created_at}Z`, `${row.updated_at}Z`]);
    }
  });

  it('reads do not depend on the process time zone', async () => {
    const zone = process.env.TZ;
    const row = sessions[0]!;
    try {
      for (const tz of ['Asia/Tokyo', 'America/Los_Angeles', 'UTC']) {
        process.env.TZ = tz;
        expect((await memory.getSession(row.id))!.createdAt.toISOString()).toBe(
          `${row.created_at.slice(0, 23)}Z`,
        );
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('check() - the latest schema version, 40 sessions, 947 messages', async () => {
    expect(await memory.check()).toMatchObject({
      reachable: true,
      schemaVersion: SQLITE_SCHEMA_VERSION,
      sessions: 40,
      messages: 947,
    });
  });
});

describe('legacy file: the upgrade', () => {
  it('kept every row byte for byte, each message with its old rowid as seq', () => {
    const upgraded = openPlain(path);
    try {
      const after = upgraded
        .prepare(
          'SELECT seq AS rowid, id, session_id, role, content, created_at, metadata FROM messages ORDER BY seq',
        )
        .all();
      expect(after).toEqual(fixture.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all());
      expect(
        upgraded
          .prepare('SELECT id, title, created_at, updated_at, metadata FROM sessions ORDER BY id')
          .all(),
      ).toEqual(fixture.prepare('SELECT * FROM sessions ORDER BY id').all());
      expect(upgraded.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all()).toEqual(
        Object.keys(sqliteMigrations),
      );
    } finally {
      upgraded.close();
    }
  });

  it('is transactional: a failure injected at its very end leaves the file at version 1 with every row', async () => {
    const copy = copyOfLegacyFixture(dir);
    const digestOfRows = (db: Database.Database) =>
      createHash('sha256')
        .update(JSON.stringify(db.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all()))
        .update(JSON.stringify(db.prepare('SELECT rowid, * FROM sessions ORDER BY rowid').all()))
        .digest('hex');
    const expected = digestOfRows(fixture);
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    const raw = new BetterSqlite3(copy, { timeout: 0 });
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
    const db = new Kysely<any>({
      dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
    });
    const failing = {
      ...sqliteMigrations,
      '0004_search_and_filters': {
        // biome-ignore lint/suspicious/noExplicitAny: as above
        async up(trx: Kysely<any>) {
          await sqliteMigrations['0004_search_and_filters']!.up(trx);
          throw new Error('disk full (injected)');
        },
      },
    };
    await expect(migrateSqlite(db, raw, copy, failing)).rejects.toThrow('disk full (injected)');
    await db.destroy();
    raw.close();

    const after = openPlain(copy);
    expect(readSchemaVersion(sqliteSchemaCatalog(after))).toBe(1);
    expect(
      after.prepare("SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'seq'").pluck().get(),
    ).toBe(0);
    expect(digestOfRows(after)).toBe(expected);
    after.close();

    // Opened normally afterwards, it upgrades and reads back whole.
    const store = new SqliteConversationMemory({ filename: copy });
    expect(await store.check()).toMatchObject({
      schemaVersion: SQLITE_SCHEMA_VERSION,
      sessions: 40,
      messages: 947,
    });
    await store.close();
  });

  it('a reopened upgraded file - is not migrated again and reads the same', async () => {
    const again = new SqliteConversationMemory({ filename: path });
    try {
      expect((await again.getSessions({ limit: 1000 })).map((s) => s.id)).toEqual(sessions.map((s) => s.id));
      const plain = openPlain(path);
      expect(plain.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(
        SQLITE_SCHEMA_VERSION,
      );
      plain.close();
    } finally {
      await again.close();
    }
  });
});

describe('legacy file: writes after the upgrade', () => {
  it('addMessage - lands after the legacy messages, in the Python format, and counts are kept', async () => {
    const target = sessions.find((s) => messagesOf(s.id).length > 3)!;
    const before = messagesOf(target.id);
    const id = await memory.addMessage(target.id, { role: 'user', content: 'written by TypeScript' });
    const history = await memory.getHistory(target.id);
    expect(history.map((m) => m.id)).toEqual([...before.map((m) => m.id), id]);
    const [top] = await memory.getSessions({ limit: 1 });
    expect(top).toMatchObject({ id: target.id, messageCount: before.length + 1 });
    const plain = openPlain(path);
    const stored = plain.prepare('SELECT created_at, metadata FROM messages WHERE id = ?').get(id) as {
      created_at: string;
      metadata: string;
    };
    plain.close();
    expect(stored.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(stored.metadata).toBe('{}');
  });

  it('updateSessionTitle and deleteSession - work on legacy rows', async () => {
    const renamed = sessions[5]!;
    await memory.updateSessionTitle(renamed.id, 'Renamed from TypeScript');
    expect((await memory.getSession(renamed.id))!.title).toBe('Renamed from TypeScript');
    const removed = sessions.find((s) => messagesOf(s.id).length > 0 && s.id !== renamed.id)!;
    const before = await memory.check();
    const removedCount = (await memory.getHistory(removed.id)).length;
    expect(removedCount).toBeGreaterThan(0);
    expect(await memory.deleteSession(removed.id)).toBe(true);
    expect(await memory.getHistory(removed.id)).toEqual([]);
    const after = await memory.check();
    expect(after.sessions).toBe(before.sessions! - 1);
    expect(after.messages).toBe(before.messages! - removedCount);
  });
});
