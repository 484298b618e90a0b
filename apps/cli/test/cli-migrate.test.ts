import { join } from 'node:path';
import { generateLegacyFile } from '@flux-rag/migrator';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { fails, ok, okJson, runCli, tempDir } from './run-cli.js';

interface ReportJson {
  ok: boolean;
  direction: string;
  tables: Record<'sessions' | 'messages', { read: number; written: number; alreadyPresent: number }>;
  verification: { status: string; mismatchCount: number };
  target: { location: string };
  summary: string;
}

describe('flux-memory migrate', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  let legacy: string;
  beforeEach(async () => {
    work = await tempDir();
    schema = await createTestSchema(testPostgresUrl(), { prefix: 'cli_mig_', create: false });
    legacy = join(work.dir, 'legacy.db');
    generateLegacyFile({ path: legacy, sessions: 20, messages: 300, seed: 3 });
  });
  afterEach(async () => {
    await schema.drop();
    await work.remove();
  });
  /** `migrate` from the generated legacy file into this test's schema on the run's server. */
  const migrateArgs = () => [
    'migrate',
    '--sqlite-path',
    legacy,
    '--postgres-dsn',
    testPostgresUrl(),
    '--schema',
    schema.name,
  ];

  test('migrate - copies and verifies, then a re-run writes 0 rows (--json)', async () => {
    const args = migrateArgs();
    const text = await ok(args, { cwd: work.dir });
    expect(text).toContain('verification: passed');
    expect(text).toMatch(/wrote 20 sessions and 300 messages/);
    const again = await okJson<ReportJson>([...args, '--json'], { cwd: work.dir });
    expect(again.tables.messages).toMatchObject({ read: 300, written: 0, alreadyPresent: 300 });
    expect(again.summary).toMatch(/^wrote 0 rows/);
  });

  test('migrate - takes the original environment defaults and never prints the password', async () => {
    const url = new URL(testPostgresUrl());
    url.password = 'S3cr3t-pw';
    const result = await runCli(['migrate', '--schema', schema.name, '--json'], {
      cwd: work.dir,
      env: { DATABASE_URL: legacy, POSTGRES_DSN: url.toString() },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('S3cr3t-pw');
    const report = JSON.parse(result.stdout) as ReportJson;
    expect(report.ok).toBe(true);
    expect(report.target.location).toContain('***');
    // Piped: no progress bar, nothing on stderr.
    expect(result.stderr).toBe('');
  });

  test('migrate - invalid rows under the default --on-invalid fail: report, one error line, exit 1, nothing written', async () => {
    const db = new BetterSqlite3(legacy);
    db.pragma('foreign_keys = OFF');
    db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run(
      'orphan',
      'gone',
      'user',
      'x',
      '2025-01-01T00:00:00',
      '{}',
    );
    db.close();
    const args = migrateArgs();
    const result = await fails(args, { cwd: work.dir });
    expect(result.line).toMatch(/^error: INVALID_ROWS: FAILED: 1 invalid rows, nothing written/);
    expect(result.stdout).toContain('orphan: rejected: session_missing');
    const repaired = await ok(
      [...args, '--on-invalid', 'repair', '--rejects', join(work.dir, 'rejects.jsonl')],
      {
        cwd: work.dir,
      },
    );
    expect(repaired).toContain('1 recovered sessions');
  });

  test('migrate --verify-only - a difference names the session and exits 1', async () => {
    const args = migrateArgs();
    await ok(args, { cwd: work.dir });
    const db = new BetterSqlite3(legacy);
    const { session_id: changed } = db
      .prepare('SELECT session_id FROM messages WHERE rowid = (SELECT min(rowid) FROM messages)')
      .get() as { session_id: string };
    db.prepare(
      "UPDATE messages SET content = content || '.' WHERE rowid = (SELECT min(rowid) FROM messages)",
    ).run();
    db.close();
    const result = await fails([...args, '--verify-only'], { cwd: work.dir });
    expect(result.line).toMatch(/^error: VERIFY_FAILED: /);
    expect(result.stdout).toContain(`session ${changed}: message checksum differs`);
  });

  test('migrate --reverse - PostgreSQL back into a new SQLite file; --dry-run writes nothing', async () => {
    const args = ['--postgres-dsn', testPostgresUrl(), '--schema', schema.name];
    await ok(['migrate', '--sqlite-path', legacy, ...args], { cwd: work.dir });
    const laptop = join(work.dir, 'laptop.db');
    const dry = await okJson<ReportJson>(
      ['migrate', '--reverse', '--dry-run', '--json', '--sqlite-path', laptop, ...args],
      {
        cwd: work.dir,
      },
    );
    expect(dry.tables.messages).toMatchObject({ read: 300, written: 0 });
    const back = await okJson<ReportJson>(
      ['migrate', '--reverse', '--json', '--sqlite-path', laptop, ...args],
      {
        cwd: work.dir,
      },
    );
    expect(back).toMatchObject({
      ok: true,
      direction: 'postgres-to-sqlite',
      verification: { status: 'passed' },
    });
    expect(back.tables.messages.written).toBe(300);
  });

  test('migrate - wrong usage exits 2', async () => {
    await fails(['migrate', '--batch-size', '0'], { cwd: work.dir }, 2);
    await fails(['migrate', '--verify-only', '--dry-run', '--sqlite-path', legacy], { cwd: work.dir }, 2);
  });
});
