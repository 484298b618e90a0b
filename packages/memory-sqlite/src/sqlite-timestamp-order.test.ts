import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTimestamp } from '@flux-rag/memory-core/backend';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { ORIGINAL_SCHEMA } from './original-schema.js';
import { sqliteCodecs } from './sqlite-codecs.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import {
  isCanonicalSql,
  orderKeyOfSql,
  TIMESTAMP_ORDER,
  UNREADABLE_ORDER,
} from './sqlite-timestamp-order.js';

const db = new Database(':memory:');
const keyOf = db.prepare(`SELECT ${orderKeyOfSql('?')} AS k`).pluck();
const canonical = db.prepare(`SELECT ${isCanonicalSql('v')} AS c FROM (SELECT ? AS v)`).pluck();
afterAll(() => db.close());

/** What the codecs read `text` as, in the key's naive form. */
const decoded = (text: string | null) => sqliteCodecs.decodeTimestamp(text).slice(0, 26);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Timestamps of every form `parseTimestamp` accepts, and near misses of each. */
const timestampText = fc
  .record({
    year: fc.oneof(fc.integer({ min: 1971, max: 2099 }), fc.integer({ min: 1, max: 9998 })),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    separator: fc.constantFrom('T', ' ', 't', 'x'),
    time: fc.constantFrom('none', 'hm', 'hms'),
    fraction: fc.option(fc.stringMatching(/^[0-9]{0,11}$/), { nil: undefined }),
    fractionMark: fc.constantFrom('.', ','),
    gap: fc.constantFrom('', '', ' ', '  ', '\t', '\u3000'),
    zone: fc.constantFrom(
      '',
      '',
      'Z',
      'z',
      '+09:00',
      '-05:30',
      '+0900',
      '-0530',
      '+09',
      '-18:00',
      '+18:01',
      '+09:',
      'UTC',
      '+9:00',
    ),
    around: fc.constantFrom('', '', ' ', '\n', '\u00a0', '\ufeff', '\u2028'),
  })
  .map((t) => {
    let text = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
    if (t.time !== 'none') text += `${t.separator}${pad(t.hour)}:${pad(t.minute)}`;
    if (t.time === 'hms') text += `:${pad(t.second)}`;
    if (t.time === 'hms' && t.fraction !== undefined) text += `${t.fractionMark}${t.fraction}`;
    return `${t.around}${text}${t.zone === '' ? '' : t.gap}${t.zone}${t.around}`;
  });

describe('the SQL sort key of a stored timestamp', () => {
  test('equals the instant the codecs decode it to, for every form and near miss (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(timestampText, fc.string(), fc.constant(null)), (text) => {
        expect(keyOf.get(text)).toBe(decoded(text));
      }),
      { numRuns: 5000 },
    );
  });

  test('known forms', () => {
    const cases: [string | null, string][] = [
      ['2025-03-01T14:32:01.117364', '2025-03-01T14:32:01.117364'],
      ['2025-03-01T14:32:01', '2025-03-01T14:32:01.000000'],
      ['2025-03-01 14:32:01', '2025-03-01T14:32:01.000000'],
      ['2025-03-01T23:32:01.5+09:00', '2025-03-01T14:32:01.500000'],
      ['2025-03-01T09:02:01-05:30', '2025-03-01T14:32:01.000000'],
      ['2025-03-01T14:32:01.117364Z', '2025-03-01T14:32:01.117364'],
      ['2025-03-01T00:30:00+01:00', '2025-02-28T23:30:00.000000'],
      ['2025-03-01T14:32:01.123456789', '2025-03-01T14:32:01.123456'],
      ['2025-03-01', '2025-03-01T00:00:00.000000'],
      [null, UNREADABLE_ORDER],
      ['yesterday', UNREADABLE_ORDER],
      ['2025-02-30T10:00:00.000000', UNREADABLE_ORDER],
      ['2025-03-01T24:00:00', UNREADABLE_ORDER],
    ];
    for (const [text, key] of cases) {
      expect(keyOf.get(text), String(text)).toBe(key);
      expect(decoded(text), String(text)).toBe(key);
    }
  });

  test('the canonical test passes exactly the canonical form of a real instant', () => {
    fc.assert(
      fc.property(fc.oneof(timestampText, fc.string()), (text) => {
        const isCanonical =
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/.test(text) && parseTimestamp(text) !== null;
        expect(canonical.get(text)).toBe(isCanonical ? 1 : 0);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('schema version 6 in a file other writers use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flux-order-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('keys the legacy rows at the upgrade, and rows other writers insert or update later', async () => {
    const file = join(dir, 'legacy.db');
    const raw = new Database(file);
    for (const statement of ORIGINAL_SCHEMA) raw.exec(statement);
    raw
      .prepare(
        "INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES ('s', 't', NULL, NULL, '{}')",
      )
      .run();
    const insert = raw.prepare(
      "INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES (?, 's', 'user', ?, ?, '{}')",
    );
    insert.run('m1', 'utc', '2025-03-01T14:32:01.117364');
    insert.run('m2', 'tokyo', '2025-03-01T23:32:00+09:00');
    insert.run('m3', 'null', null);
    insert.run('m4', 'junk', 'yesterday');
    raw.close();
    const memory = new SqliteConversationMemory({ filename: file });
    await memory.init();
    const order = async () => (await memory.getHistory('s')).map((m) => m.content);
    expect(await order()).toEqual(['null', 'junk', 'tokyo', 'utc']);
    // Another writer of the file (the Python app, the sqlite3 shell): its rows are keyed by the triggers.
    const other = new Database(file);
    other
      .prepare(
        "INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES ('m5', 's', 'user', 'no fraction', '2025-03-01T14:32:01', '{}')",
      )
      .run();
    other.prepare("UPDATE messages SET created_at = '2025-03-01 14:31:00' WHERE id = 'm3'").run();
    const keys = other.prepare('SELECT id, created_order FROM messages ORDER BY id').all();
    other.close();
    expect(keys).toEqual([
      { id: 'm1', created_order: null },
      { id: 'm2', created_order: '2025-03-01T14:32:00.000000' },
      { id: 'm3', created_order: '2025-03-01T14:31:00.000000' },
      { id: 'm4', created_order: UNREADABLE_ORDER },
      { id: 'm5', created_order: '2025-03-01T14:32:01.000000' },
    ]);
    expect(await order()).toEqual(['junk', 'null', 'tokyo', 'no fraction', 'utc']);
    await memory.close();
  });

  test('its schema objects parse in the SQLite of Python here, which keeps inserting with its original statements', () => {
    let python: string;
    try {
      python = execFileSync('python3', ['-c', 'import sqlite3; print(sqlite3.sqlite_version)'], {
        encoding: 'utf8',
      });
    } catch {
      // No Python on this machine: the statements are still checked against better-sqlite3's SQLite above.
      return;
    }
    const file = join(dir, 'python.db');
    const raw = new Database(file);
    raw.pragma('journal_mode = DELETE');
    for (const statement of ORIGINAL_SCHEMA) raw.exec(statement);
    // Version 5's own objects on a version 1 file, plus the history index of version 2 it replaces.
    raw.exec('ALTER TABLE messages ADD COLUMN seq INTEGER');
    raw.exec('CREATE INDEX idx_messages_history ON messages(session_id, created_at, seq)');
    raw.exec('CREATE INDEX idx_sessions_created ON sessions(created_at DESC, id DESC)');
    raw.exec('ALTER TABLE sessions ADD COLUMN owner_id TEXT');
    raw.exec('CREATE INDEX idx_sessions_owner_created ON sessions(owner_id, created_at DESC, id DESC)');
    for (const statement of TIMESTAMP_ORDER) raw.exec(statement);
    raw.close();
    const script = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO sessions (id, title, created_at, updated_at, metadata) VALUES ('p', 'py', '2025-03-01T14:32:01', '2025-03-01T14:32:01', '{}')")
c.execute("INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES ('a', 'p', 'user', 'x', '2025-03-01T23:32:01.5+09:00', '{}')")
c.execute("INSERT INTO messages (id, session_id, role, content, created_at, metadata) VALUES ('b', 'p', 'user', 'y', '2025-03-01T14:32:01.117364', '{}')")
c.commit()
print(sqlite3.sqlite_version, list(c.execute("SELECT id, created_order FROM messages ORDER BY id")), list(c.execute("SELECT created_order FROM sessions")))
`;
    const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8' });
    expect(out.trim()).toBe(
      `${python.trim()} [('a', '2025-03-01T14:32:01.500000'), ('b', None)] [('2025-03-01T14:32:01.000000',)]`,
    );
  });
});
