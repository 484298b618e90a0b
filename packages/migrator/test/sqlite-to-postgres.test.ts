import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { formatReport, migrateSqliteToPostgres } from '../dist/index.js';
import { dsnWithPassword, legacyCopy, perTestScratch, readEverything } from './helpers.js';

describe('migrateSqliteToPostgres - the legacy fixture', () => {
  const scratch = perTestScratch();

  it('migrate - PostgreSQL then returns for every session exactly what SQLite returned', async () => {
    const source = legacyCopy(scratch.dir);
    const report = await migrateSqliteToPostgres({
      sqlitePath: source,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    expect(report.ok).toBe(true);
    expect(report.target.load).toBe('bulk');
    expect(report.tables.sessions).toMatchObject({ read: 40, written: 40, alreadyPresent: 0, rejected: 0 });
    expect(report.tables.messages).toMatchObject({ read: 947, written: 947, alreadyPresent: 0, rejected: 0 });
    expect(report.verification).toMatchObject({
      status: 'passed',
      sessions: 40,
      messages: 947,
      mismatchCount: 0,
    });

    // The source read through the SQLite backend (it upgrades its own copy in place; the migrator read the
    // file as the Python code left it).
    const sqlite = new SqliteConversationMemory({ filename: legacyCopy(scratch.dir, 'read.db') });
    const postgres = new PostgresConversationMemory({
      connectionString: testPostgresUrl(),
      schema: scratch.schema,
    });
    try {
      const expected = await readEverything(sqlite);
      const actual = await readEverything(postgres);
      expect(expected.sessions).toHaveLength(40);
      expect(actual).toEqual(expected);
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });

  it('migrate - keeps microseconds, seq order of equal timestamps and moves the identity past them', async () => {
    const source = legacyCopy(scratch.dir);
    await migrateSqliteToPostgres({
      sqlitePath: source,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    await withClient(testPostgresUrl(), async (client) => {
      const micros = await client.query(
        `SELECT count(*)::int AS n FROM "${scratch.schema}".messages WHERE extract(microseconds FROM created_at)::int % 1000 <> 0`,
      );
      expect(micros.rows[0].n).toBeGreaterThan(900);
      // The legacy file's rowids became seq, unchanged.
      const legacy = new BetterSqlite3(source, { readonly: true });
      const rowids = Object.fromEntries(
        (legacy.prepare('SELECT id, rowid FROM messages').raw(true).all() as [string, number][]).map(
          ([id, n]) => [id, n],
        ),
      );
      legacy.close();
      const seqs = await client.query(`SELECT id, seq::int AS seq FROM "${scratch.schema}".messages`);
      expect(Object.fromEntries(seqs.rows.map((r) => [r.id, r.seq]))).toEqual(rowids);
      const next = await client.query(
        `SELECT nextval(pg_get_serial_sequence('"${scratch.schema}".messages', 'seq'))::int AS n`,
      );
      expect(next.rows[0].n).toBe(Math.max(...Object.values(rowids)) + 1);
      // Indexes and keys as the backend's migrations define them, rebuilt after the load.
      const indexes = await client.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`,
        [scratch.schema],
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual(
        expect.arrayContaining([
          'idx_messages_history',
          'idx_sessions_activity',
          'messages_pkey',
          'sessions_pkey',
        ]),
      );
      const fk = await client.query(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass`,
        [`"${scratch.schema}".messages`],
      );
      expect(fk.rows[0].n).toBe(1);
    });
  });

  it('isolate - on the calling thread the migration gives the same result as in its worker', async () => {
    const report = await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
      isolate: false,
    });
    expect(report).toMatchObject({ ok: true, verification: { status: 'passed', messages: 947 } });
    expect(report.tables.messages.written).toBe(947);
  });

  it('migrate - a re-run after success writes 0 rows and says so', async () => {
    const source = legacyCopy(scratch.dir);
    const options = { sqlitePath: source, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    await migrateSqliteToPostgres(options);
    const again = await migrateSqliteToPostgres(options);
    expect(again.ok).toBe(true);
    expect(again.target.emptyAtStart).toBe(false);
    expect(again.tables.sessions).toMatchObject({ written: 0, alreadyPresent: 40 });
    expect(again.tables.messages).toMatchObject({ written: 0, alreadyPresent: 947 });
    expect(again.summary).toMatch(/^wrote 0 rows/);
    expect(formatReport(again)).toContain('wrote 0 rows');
  });

  it('migrate - into a partly filled target writes only what is missing and recounts', async () => {
    const source = legacyCopy(scratch.dir);
    const options = { sqlitePath: source, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    await migrateSqliteToPostgres(options);
    await withClient(testPostgresUrl(), async (client) => {
      // Lose a third of the messages and two sessions (with their messages) behind the migrator's back.
      await client.query(`DELETE FROM "${scratch.schema}".messages WHERE seq % 3 = 0`);
      await client.query(
        `DELETE FROM "${scratch.schema}".sessions WHERE id IN (SELECT id FROM "${scratch.schema}".sessions ORDER BY id LIMIT 2)`,
      );
      await client.query(`UPDATE "${scratch.schema}".sessions SET message_count = 0`);
    });
    const report = await migrateSqliteToPostgres(options);
    expect(report.target.load).toBe('merge');
    expect(report.tables.sessions.written).toBe(2);
    expect(report.tables.messages.written + report.tables.messages.alreadyPresent).toBe(947);
    expect(report.tables.messages.written).toBeGreaterThan(300);
    // Every session that got messages back was recounted in the batch that wrote them.
    expect(report.verification).toMatchObject({ status: 'passed', messages: 947 });
    const check = await migrateSqliteToPostgres({ ...options, verifyOnly: true });
    expect(check.verification).toMatchObject({ status: 'passed', messages: 947 });
  });

  it('verifyOnly - names the sessions that differ and is not ok', async () => {
    const source = legacyCopy(scratch.dir);
    const options = { sqlitePath: source, postgresDsn: testPostgresUrl(), schema: scratch.schema };
    await migrateSqliteToPostgres(options);
    const touched = await withClient(testPostgresUrl(), async (client) => {
      const m = await client.query(
        `UPDATE "${scratch.schema}".messages SET content = content || '!' WHERE seq = 10 RETURNING session_id`,
      );
      const s = await client.query(
        `UPDATE "${scratch.schema}".sessions SET metadata = '{"changed": true}' WHERE id <> $1
         AND id = (SELECT id FROM "${scratch.schema}".sessions WHERE id <> $1 ORDER BY id LIMIT 1) RETURNING id`,
        [m.rows[0].session_id],
      );
      return [m.rows[0].session_id as string, s.rows[0].id as string].sort();
    });
    const report = await migrateSqliteToPostgres({ ...options, verifyOnly: true });
    expect(report.ok).toBe(false);
    expect(report.tables.messages.written).toBe(0);
    expect(report.verification.status).toBe('failed');
    expect(report.verification.mismatches.map((m) => m.sessionId).sort()).toEqual(touched);
    expect(formatReport(report)).toContain(touched[0]!);
  });

  it('dryRun - scans and counts, creates and writes nothing', async () => {
    const source = legacyCopy(scratch.dir);
    const report = await migrateSqliteToPostgres({
      sqlitePath: source,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
      dryRun: true,
    });
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('dry-run');
    expect(report.tables.messages).toMatchObject({ read: 947, written: 0 });
    expect(report.summary).toContain('987 rows would be written');
    const exists = await withClient(testPostgresUrl(), (c) =>
      c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [scratch.schema]),
    );
    expect(exists.rows).toHaveLength(0);
  });

  it('report - never holds the password, in text or JSON', async () => {
    const source = legacyCopy(scratch.dir);
    const report = await migrateSqliteToPostgres({
      sqlitePath: source,
      postgresDsn: dsnWithPassword(),
      schema: scratch.schema,
    });
    expect(report.ok).toBe(true);
    expect(JSON.stringify(report)).not.toContain('S3cr3t-pw');
    expect(formatReport(report)).not.toContain('S3cr3t-pw');
    expect(report.target.location).toContain('***');
  });

  it('report and errors - a password with raw spaces, @ and : is masked too', async () => {
    // pg percent-encodes raw spaces before parsing, so this DSN connects (trust auth ignores the password).
    const url = new URL(testPostgresUrl());
    const dsn = `${url.protocol}//${url.username}:my secret p@ss:w@${url.host}${url.pathname}`;
    const report = await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: dsn,
      schema: scratch.schema,
    });
    expect(report.ok).toBe(true);
    for (const fragment of ['secret', 'p@ss', 'ss:w']) {
      expect(JSON.stringify(report)).not.toContain(fragment);
      expect(formatReport(report)).not.toContain(fragment);
    }
    expect(report.target.location).toContain(`${url.host}${url.pathname}`);
    const error = await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: 'postgresql://u:my secret p@ss@127.0.0.1:1/db',
    }).catch((e: unknown) => e as Error);
    expect((error as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
    expect(String((error as Error).message)).not.toMatch(/secret|p@ss/);
    expect(String((error as Error).message)).toContain('127.0.0.1:1/db');
  });

  it('errors - a missing source file is SOURCE_NOT_FOUND; an unreachable server never shows the password', async () => {
    await expect(
      migrateSqliteToPostgres({ sqlitePath: `${scratch.dir}/none.db`, postgresDsn: testPostgresUrl() }),
    ).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    const error = await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: 'postgresql://u:S3cr3t-pw@127.0.0.1:1/db',
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain('S3cr3t-pw');
    expect((error as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
    await expect(
      migrateSqliteToPostgres({ sqlitePath: 'x.db', postgresDsn: testPostgresUrl(), batchSize: 0 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field: 'batchSize' });
  });
});
