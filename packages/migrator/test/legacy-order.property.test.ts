import path from 'node:path';
import type { ConversationMemory, SessionFilter } from '@flux-rag/memory-core';
import { parseTimestamp } from '@flux-rag/memory-core/backend';
import { UNREADABLE_TIMESTAMP } from '@flux-rag/memory-core/sql';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { ORIGINAL_SCHEMA, SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { migrateSqliteToPostgres } from '../dist/index.js';
import { freshSchema, tempDir } from './helpers.js';

// Issue 12: cursor walks over legacy timestamps. Legacy files hold timestamps in many forms; every listing
// orders by the instant a timestamp reads as (NULL and unreadable text read as the epoch, so they come first),
// then by insertion order (`seq`) for history and by id for sessions. A cursor walk must yield exactly the rows
// of its offset listing, in the same order, once each, and end, at every page size, on SQLite and on
// PostgreSQL after a migration.

/** Instants the generated rows share, so that ties on one instant (in one or several forms) are common. */
const INSTANTS = [
  '2025-03-01T14:32:01.117364Z',
  '2025-03-01T14:32:01.000000Z',
  '2025-03-01T14:32:01.117000Z',
  '2025-03-02T00:10:00.000000Z',
  '2024-12-31T23:59:59.999999Z',
  '2025-03-01T05:02:01.500000Z',
];

type Form = 'canonical' | 'noFraction' | 'space' | 'plus9' | 'minus530' | 'zulu' | 'null' | 'junk' | 'empty';
const FORMS: Form[] = [
  'canonical',
  'noFraction',
  'space',
  'plus9',
  'minus530',
  'zulu',
  'null',
  'junk',
  'empty',
];

/** `instant` written in `form`, as legacy files hold it (`null` for SQL NULL). */
function render(instant: string, form: Form): string | null {
  const ms = Date.parse(`${instant.slice(0, 23)}Z`);
  const micros = instant.slice(20, 26);
  const local = (offsetMinutes: number) => new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  switch (form) {
    case 'canonical':
      return `${local(0)}.${micros}`;
    case 'noFraction':
      // Python's isoformat() when the microseconds are 0; for other instants, that instant cut to the second.
      return local(0);
    case 'space':
      return `${local(0).replace('T', ' ')}${micros === '000000' ? '' : `.${micros}`}`;
    case 'plus9':
      return `${local(9 * 60)}.${micros}+09:00`;
    case 'minus530':
      return `${local(-330)}.${micros}-05:30`;
    case 'zulu':
      return `${local(0)}.${micros}Z`;
    case 'null':
      return null;
    case 'junk':
      return 'yesterday';
    case 'empty':
      return '';
  }
}

/** What a stored timestamp reads as, microseconds kept: the key of every listing's order. */
const instantOf = (text: string | null) =>
  (text === null ? null : parseTimestamp(text)) ?? UNREADABLE_TIMESTAMP;

const timestamp = fc
  .record({
    instant: fc.constantFrom(...INSTANTS),
    // Mostly the forms the Python app writes, so pages mix them with the rarer ones.
    form: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<Form>('canonical', 'noFraction') },
      { weight: 4, arbitrary: fc.constantFrom(...FORMS) },
    ),
  })
  .map(({ instant, form }) => render(instant, form));

interface LegacySession {
  id: string;
  createdAt: string | null;
  team: 'a' | 'b';
  messages: (string | null)[];
}

const legacyData = fc
  .array(
    fc.record({
      createdAt: timestamp,
      team: fc.constantFrom<'a' | 'b'>('a', 'b'),
      messages: fc.array(timestamp, { maxLength: 18 }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((sessions) =>
    // Ids in an order unrelated to creation, so that ties on the instant are broken by id.
    sessions.map((s, i): LegacySession => ({ ...s, id: `s${(i * 7) % 11}-${i}` })),
  );

/** A version 1 file, as the Python app wrote it, holding `sessions` (messages inserted in generated order). */
function writeLegacyFile(file: string, sessions: LegacySession[]): void {
  const db = new BetterSqlite3(file);
  for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
  const session = db.prepare(
    'INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES (?, ?, ?, ?, ?)',
  );
  const message = db.prepare(
    'INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (const s of sessions) {
      session.run(s.id, s.id, s.createdAt, s.createdAt, JSON.stringify({ team: s.team }));
    }
    // Messages of all sessions interleaved, as several conversations run at once.
    const longest = Math.max(...sessions.map((s) => s.messages.length));
    for (let i = 0; i < longest; i++) {
      for (const s of sessions) {
        const at = s.messages[i];
        if (at !== undefined) message.run(`${s.id}-m${i}`, s.id, 'user', `${i}`, at, '{}');
      }
    }
  })();
  db.close();
}

/** History in the defined order: instant, then insertion order. */
function expectedHistory(s: LegacySession): string[] {
  return s.messages
    .map((at, i) => ({ id: `${s.id}-m${i}`, at: instantOf(at), i }))
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.i - y.i))
    .map((m) => m.id);
}

/** Sessions pages in their defined order: instant, newest first, then id descending. */
function expectedSessions(sessions: LegacySession[], team?: 'a' | 'b'): string[] {
  return sessions
    .filter((s) => team === undefined || s.team === team)
    .map((s) => ({ id: s.id, at: instantOf(s.createdAt) }))
    .sort((x, y) => (x.at > y.at ? -1 : x.at < y.at ? 1 : x.id > y.id ? -1 : x.id < y.id ? 1 : 0))
    .map((s) => s.id);
}

/** Every page of a history walk, oldest page last, concatenated oldest first; fails on a walk that never ends. */
async function walkHistory(store: ConversationMemory, sessionId: string, limit: number): Promise<string[]> {
  const pages: string[][] = [];
  let before: string | null = null;
  do {
    const page: { items: { id: string }[]; nextCursor: string | null } = await store.getHistoryPage(
      sessionId,
      {
        limit,
        before,
      },
    );
    pages.unshift(page.items.map((m) => m.id));
    before = page.nextCursor;
    if (pages.length > 200) throw new Error(`history walk of ${sessionId} at limit ${limit} never ends`);
  } while (before !== null);
  return pages.flat();
}

async function walkSessions(
  store: ConversationMemory,
  limit: number,
  where?: SessionFilter,
): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { items: { id: string }[]; nextCursor: string | null } = await store.getSessionsPage({
      limit,
      cursor,
      ...(where ? { where } : {}),
    });
    ids.push(...page.items.map((s) => s.id));
    cursor = page.nextCursor;
    if (++pages > 200) throw new Error(`sessions walk at limit ${limit} never ends`);
  } while (cursor !== null);
  return ids;
}

const LIMITS = Array.from({ length: 60 }, (_, i) => i + 1);

/**
 * Checks every listing of `store` against the data: offset listings in the defined order, and every cursor walk
 * at limits 1 to 60 equal to its offset listing. Returns what it read, to compare two stores.
 */
async function checkListings(store: ConversationMemory, sessions: LegacySession[]): Promise<unknown> {
  const read: Record<string, string[]> = {};
  for (const s of sessions) {
    const offset = (await store.getHistory(s.id)).map((m) => m.id);
    expect(offset, `getHistory(${s.id})`).toEqual(expectedHistory(s));
    const last3 = (await store.getHistory(s.id, { limit: 3 })).map((m) => m.id);
    expect(last3, `getHistory(${s.id}, 3)`).toEqual(offset.slice(-3));
    for (const limit of LIMITS) {
      expect(await walkHistory(store, s.id, limit), `history walk of ${s.id} at limit ${limit}`).toEqual(
        offset,
      );
    }
    read[s.id] = offset;
  }
  for (const team of [undefined, 'a', 'b'] as const) {
    const where = team === undefined ? undefined : { metadata: { team } };
    const listed = (await store.getSessions({ limit: 1000, ...(where ? { where } : {}) })).map((s) => s.id);
    const expected = expectedSessions(sessions, team);
    // The offset listing orders by activity; a walk lists the same sessions, by creation.
    expect([...listed].sort(), `getSessions ${team ?? 'all'}`).toEqual([...expected].sort());
    for (const limit of LIMITS) {
      expect(
        await walkSessions(store, limit, where),
        `sessions walk ${team ?? 'all'} at limit ${limit}`,
      ).toEqual(expected);
    }
    read[`sessions ${team ?? 'all'}`] = expected;
  }
  return read;
}

const dir = tempDir();
afterAll(() => dir.remove());
let runs = 0;

describe('cursor walks over legacy timestamps (fast-check)', () => {
  test('SQLite: every walk at limits 1 to 60 equals its offset listing, in the defined order', async () => {
    await fc.assert(
      fc.asyncProperty(legacyData, async (sessions) => {
        const file = path.join(dir.dir, `sqlite-${runs++}.db`);
        writeLegacyFile(file, sessions);
        const store = new SqliteConversationMemory({ filename: file });
        try {
          await checkListings(store, sessions);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  test('PostgreSQL after migrating the legacy file: the same walks, the same order as SQLite', async () => {
    await fc.assert(
      fc.asyncProperty(legacyData, async (sessions) => {
        const file = path.join(dir.dir, `pg-${runs++}.db`);
        writeLegacyFile(file, sessions);
        const schema = await freshSchema();
        try {
          const report = await migrateSqliteToPostgres({
            sqlitePath: file,
            postgresDsn: testPostgresUrl(),
            schema: schema.name,
            onInvalid: 'repair',
          });
          expect(report.ok).toBe(true);
          const postgres = new PostgresConversationMemory({
            connectionString: testPostgresUrl(),
            schema: schema.name,
          });
          const sqlite = new SqliteConversationMemory({ filename: file });
          try {
            expect(await checkListings(postgres, sessions)).toEqual(await checkListings(sqlite, sessions));
          } finally {
            await postgres.close();
            await sqlite.close();
          }
        } finally {
          await schema.drop();
        }
      }),
      { numRuns: 6 },
    );
  }, 180_000);
});
