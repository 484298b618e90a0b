import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { NotConversationMemoryError, ValidationError } from '@flux-rag/memory-core';
import { readSchemaVersion } from '@flux-rag/memory-core/sql';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { copyOfLegacyFixture, openPlain, tempDir } from '../test/support.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { MIN_WRITER_SQLITE_VERSION } from './sqlite-memory.js';
import {
  migrateSqlite,
  SQLITE_SCHEMA_VERSION,
  sqliteMigrations,
  sqliteSchemaCatalog,
} from './sqlite-migrations.js';
import { planSqliteUpgrade, upgradeSqliteFile } from './sqlite-upgrade.js';

function hash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function rows(path: string) {
  const plain = openPlain(path);
  try {
    return {
      sessions: plain
        .prepare('SELECT id, title, created_at, updated_at, metadata FROM sessions ORDER BY id')
        .all(),
      messages: plain
        .prepare('SELECT id, session_id, role, content, created_at, metadata FROM messages ORDER BY id')
        .all(),
    };
  } finally {
    plain.close();
  }
}

describe('planSqliteUpgrade', () => {
  it('a Python file - versions, journal mode, sizes, free disk, the SQLite other writers need; writes nothing', async () => {
    const path = copyOfLegacyFixture(tempDir('memory-sqlite-plan-'));
    const before = hash(path);
    const plan = await planSqliteUpgrade(path);
    expect(plan).toMatchObject({
      location: path,
      needed: true,
      schemaVersion: { from: 1, to: SQLITE_SCHEMA_VERSION },
      journalMode: { from: 'delete', to: 'wal' },
      writerSqliteVersion: MIN_WRITER_SQLITE_VERSION,
    });
    expect(plan.fileBytes.before).toBe(statSync(path).size);
    expect(plan.backupPath).toMatch(/\.v1-\d{8}T\d{6}Z\.bak$/);
    expect(plan.requiredFreeBytes).toBe(plan.fileBytes.after + plan.fileBytes.before);
    expect(plan.freeBytes).toBeGreaterThan(0);
    expect(hash(path)).toBe(before);
    expect(readdirSync(dirname(path))).toHaveLength(1);
    expect((await planSqliteUpgrade(path, { backup: false })).requiredFreeBytes).toBe(plan.fileBytes.after);
    expect(plan.migrations.map((m) => m.name)).toEqual(Object.keys(sqliteMigrations).slice(1));
    expect(plan.migrations.at(-1)).toEqual({
      name: '0007_structured_messages',
      summary: expect.stringMatching(/rebuilds messages: ids unique per session.*payload, format/),
    });
  });

  it('a version 6 file - plans version 7 alone (the messages rebuild), and its growth bounds the real one', async () => {
    const path = copyOfLegacyFixture(tempDir('memory-sqlite-plan-'));
    const raw = new Database(path);
    // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
    const db = new Kysely<any>({
      dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs: 5000 }),
    });
    const { '0007_structured_messages': _, ...upToVersion6 } = sqliteMigrations;
    await migrateSqlite(db, raw, path, upToVersion6);
    await db.destroy();
    raw.close();
    const plan = await planSqliteUpgrade(path, { backup: false });
    expect(plan.schemaVersion).toEqual({ from: 6, to: SQLITE_SCHEMA_VERSION });
    expect(plan.migrations.map((m) => m.name)).toEqual(['0007_structured_messages']);
    const result = await upgradeSqliteFile(path, { backup: false });
    expect(result.upgradedBytes).toBeGreaterThan(plan.fileBytes.before);
    expect(result.upgradedBytes).toBeLessThanOrEqual(plan.fileBytes.after);
    expect((await planSqliteUpgrade(path)).migrations).toEqual([]);
  });
});

describe('upgradeSqliteFile', () => {
  it('backs up, upgrades, switches to WAL; the estimate holds; a second run has nothing to do', async () => {
    const path = copyOfLegacyFixture(tempDir('memory-sqlite-upgrade-'));
    const original = rows(path);
    const steps: string[] = [];
    const result = await upgradeSqliteFile(path, { onProgress: (step) => steps.push(step) });
    expect(result.schemaVersion).toEqual({ from: 1, to: SQLITE_SCHEMA_VERSION });
    expect(steps[0]).toBe('backup');
    expect(steps).toContain('0002_insertion_order_and_counts');
    // The estimate is an upper bound that is not wildly off.
    expect(result.upgradedBytes).toBeLessThanOrEqual(result.fileBytes.after);
    expect(result.upgradedBytes).toBeGreaterThan(result.fileBytes.after / 2);
    const plain = new Database(path, { readonly: true });
    expect(readSchemaVersion(sqliteSchemaCatalog(plain))).toBe(SQLITE_SCHEMA_VERSION);
    expect(plain.pragma('journal_mode', { simple: true })).toBe('wal');
    plain.close();
    // The backup is the file as it was: version 1, every row.
    const backup = result.backupPath!;
    expect(existsSync(backup)).toBe(true);
    const copy = new Database(backup, { readonly: true });
    expect(readSchemaVersion(sqliteSchemaCatalog(copy))).toBe(1);
    copy.close();
    expect(rows(backup)).toEqual(original);
    expect(rows(path)).toEqual(original);

    const again = await upgradeSqliteFile(path);
    expect(again).toMatchObject({ needed: false, backupPath: null, durationMs: 0 });
  });

  it('an existing backup path - ValidationError on backup, nothing written', async () => {
    const folder = tempDir('memory-sqlite-upgrade-');
    const path = copyOfLegacyFixture(folder);
    const taken = copyOfLegacyFixture(folder);
    const before = hash(path);
    const error = await upgradeSqliteFile(path, { backup: taken }).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('backup');
    expect(hash(path)).toBe(before);
  });

  it('aborted during the backup or the upgrade - the file as it was, no partial backup', async () => {
    for (const at of ['backup', '0003_owner_scope']) {
      const folder = tempDir('memory-sqlite-upgrade-');
      const path = copyOfLegacyFixture(folder);
      const before = hash(path);
      const controller = new AbortController();
      const error = await upgradeSqliteFile(path, {
        signal: controller.signal,
        onProgress: (step) => {
          if (step === at) controller.abort(new Error(`interrupted at ${at}`));
        },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe(`interrupted at ${at}`);
      expect(hash(path)).toBe(before);
      // The backup is kept once complete (the upgrade was aborted after it), never left partial.
      const files = readdirSync(folder);
      expect(files.length).toBe(at === 'backup' ? 1 : 2);
    }
  });

  it('not a conversation memory - refused before any backup', async () => {
    const folder = tempDir('memory-sqlite-upgrade-');
    const path = `${folder}/app.db`;
    const db = new Database(path);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    db.close();
    const error = await upgradeSqliteFile(path).catch((e: unknown) => e);
    expect(NotConversationMemoryError.isInstance(error)).toBe(true);
    expect(readdirSync(folder)).toEqual(['app.db']);
  });
});
