import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { formatReport, migrateSqliteToPostgres } from '../dist/index.js';
import { legacyCopy, perTestScratch } from './helpers.js';

const S = '0c5c7fd0-a6a3-4450-a513-270e269e0d37'; // a session of the fixture
const T = '2025-03-01T14:32:01.117364';

/** The legacy fixture plus one row of every kind of damage real legacy files hold. */
function damagedFile(dir: string): string {
  const file = legacyCopy(dir, 'damaged.db');
  const db = new BetterSqlite3(file);
  // As the Python code's connections: foreign keys off, so orphans can exist.
  db.pragma('foreign_keys = OFF');
  const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  message.run('m-orphan', 'gone-session', 'user', 'my session was deleted', T, '{}');
  message.run('m-not-json', S, 'user', 'x', T, 'not json');
  message.run('m-array', S, 'user', 'x', T, '[1, 2]');
  message.run('m-empty-meta', S, 'user', 'x', T, '');
  message.run('m-null-meta', S, 'user', 'x', T, null);
  message.run('m-meta-nul', S, 'user', 'x', T, '{"a": "\\u0000"}');
  message.run('m-nul', S, 'user', 'a\u0000b', T, '{}');
  message.run('m-number', S, 'user', 42, T, '{}');
  message.run('m-blob', S, 'user', Buffer.from('blob text'), T, '{}');
  message.run('m-no-time', S, 'user', 'x', null, '{}');
  message.run('m-other-time', S, 'user', 'x', '2025-03-01 14:32:01+02:00', '{}');
  message.run('m-bad-time', S, 'user', 'x', 'yesterday', '{}');
  message.run('m-large', S, 'user', 'y'.repeat(5000), T, '{}');
  db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s'.repeat(256), 'too long', T, T, '{}');
  db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s-bad-meta', 'bad meta', T, null, '{oops');
  db.close();
  return file;
}
// 'm-number' is not among them: the column's TEXT affinity turns 42 into '42.0' on insert, as it did for the
// Python code; content stored as a number needs a file whose column has no affinity, covered in row-rules tests.
const BAD = 14;

describe('migrateSqliteToPostgres - invalid rows', () => {
  const scratch = perTestScratch();
  const run = (sqlitePath: string, onInvalid: 'fail' | 'skip' | 'repair', rejectsPath?: string) =>
    migrateSqliteToPostgres({
      sqlitePath,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
      onInvalid,
      maxContentBytes: 1000,
      ...(rejectsPath ? { rejectsPath } : {}),
    });
  const count = (table: string) =>
    withClient(testPostgresUrl(), async (c) => {
      const r = await c.query(`SELECT count(*)::int AS n FROM "${scratch.schema}".${table}`);
      return r.rows[0].n as number;
    });

  it('fail - reports every invalid row by id and reason and writes nothing', async () => {
    const report = await run(damagedFile(scratch.dir), 'fail');
    expect(report.ok).toBe(false);
    expect(report.invalid.count).toBe(BAD);
    const reasons = Object.fromEntries(
      report.invalid.rows.map((r) => [r.id ?? `#${r.key}`, r.problems.map((p) => p.reason)]),
    );
    expect(reasons).toMatchObject({
      'm-orphan': ['session_missing'],
      'm-not-json': ['metadata_not_json'],
      'm-array': ['metadata_not_object'],
      'm-empty-meta': ['metadata_empty'],
      'm-null-meta': ['metadata_null'],
      'm-meta-nul': ['metadata_unstorable'],
      'm-nul': ['text_nul'],
      'm-blob': ['content_not_text'],
      'm-no-time': ['timestamp_missing'],
      'm-other-time': ['timestamp_other_form'],
      'm-bad-time': ['timestamp_unparseable'],
      'm-large': ['content_large'],
      ['s'.repeat(256)]: ['id_invalid'],
      's-bad-meta': expect.arrayContaining(['timestamp_missing', 'metadata_not_json']),
    });
    expect(report.summary).toMatch(/nothing written/);
    expect(formatReport(report)).toContain('m-orphan');
    // Validated before the target is touched: not even the schema or the tables were created.
    expect(report.target.schemaVersion).toBeNull();
    const created = await withClient(testPostgresUrl(), async (c) => {
      const r = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [scratch.schema]);
      return r.rowCount;
    });
    expect(created).toBe(0);
  });

  it('fail - into a target holding rows, invalid rows leave it exactly as it was', async () => {
    await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    const report = await run(damagedFile(scratch.dir), 'fail');
    expect(report.ok).toBe(false);
    expect(report.invalid.count).toBe(BAD);
    expect(report.tables.messages.written).toBe(0);
    expect(await count('messages')).toBe(947);
    expect(await count('sessions')).toBe(40);
  });

  it('skip - writes the good rows, every bad row with its reason goes to the rejects file', async () => {
    const rejects = path.join(scratch.dir, 'rejects.jsonl');
    const report = await run(damagedFile(scratch.dir), 'skip', rejects);
    expect(report.ok).toBe(true);
    expect(report.tables.messages).toMatchObject({ read: 947 + 13, written: 948, rejected: 12 });
    expect(report.tables.sessions).toMatchObject({ read: 42, written: 40, rejected: 2 });
    const lines = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(BAD);
    expect(lines.find((l) => l.row.id === 'm-blob')).toMatchObject({
      table: 'messages',
      action: 'rejected',
      row: { content: { $base64: Buffer.from('blob text').toString('base64') } },
    });
    expect(lines.find((l) => l.row.id === 'm-nul').row.content).toBe('a\u0000b');
    expect(report.verification.status).toBe('passed');
    expect(await count('messages')).toBe(948);
  });

  it('repair - applies the documented rules, lists every change, rejects only what no rule fixes', async () => {
    const rejects = path.join(scratch.dir, 'rejects.jsonl');
    const report = await run(damagedFile(scratch.dir), 'repair', rejects);
    expect(report.ok).toBe(true);
    expect(report.recoveredSessions).toBe(1);
    expect(report.tables.messages).toMatchObject({ written: 960, rejected: 0, repaired: 11 });
    expect(report.tables.sessions).toMatchObject({ written: 42, rejected: 1, repaired: 1 });
    expect(report.invalid.rows.find((r) => r.id === 'm-large')?.action).toBe('kept');
    expect(readFileSync(rejects, 'utf8').trim().split('\n')).toHaveLength(BAD);
    expect(report.verification.status).toBe('passed');

    const memory = new PostgresConversationMemory({
      connectionString: testPostgresUrl(),
      schema: scratch.schema,
    });
    try {
      const recovered = await memory.getSession('gone-session');
      expect(recovered).toMatchObject({ title: 'Recovered session', metadata: { _recovered: true } });
      const history = Object.fromEntries((await memory.getHistory(S)).map((m) => [m.id, m]));
      expect(history['m-not-json']?.metadata).toEqual({ _raw: 'not json' });
      expect(history['m-array']?.metadata).toEqual({ _raw: '[1, 2]' });
      expect(history['m-empty-meta']?.metadata).toEqual({});
      expect(history['m-null-meta']?.metadata).toEqual({});
      expect(history['m-meta-nul']?.metadata).toEqual({ _raw: '{"a": "\\u0000"}' });
      expect(history['m-nul']?.content).toBe('ab');
      expect(history['m-number']?.content).toBe('42.0');
      expect(history['m-blob']?.content).toBe('blob text');
      expect(history['m-no-time']?.createdAt.toISOString()).toBe('1970-01-01T00:00:00.000Z');
      expect(history['m-other-time']?.createdAt.toISOString()).toBe('2025-03-01T12:32:01.000Z');
      expect(history['m-bad-time']?.createdAt.toISOString()).toBe('1970-01-01T00:00:00.000Z');
      expect(history['m-large']?.content).toHaveLength(5000);
      expect(await memory.getSession('s-bad-meta')).toMatchObject({ metadata: { _raw: '{oops' } });
    } finally {
      await memory.close();
    }
  });
});
