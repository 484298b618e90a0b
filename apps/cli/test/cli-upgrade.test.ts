import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORIGINAL_SCHEMA, SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { generateLegacyFile } from '@flux-rag/migrator';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { UpgradeReport } from '../src/commands/upgrade.js';
import { BIN, fails, ok, okJson, runCli, tempDir } from './run-cli.js';

/** A copy of the file the Python app wrote (the same bytes as shared/legacy/flux-rag-memory.db). */
const LEGACY = fileURLToPath(new URL('./fixtures/flux-rag-memory.db', import.meta.url));

let work: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await work.remove();
});

/** The file's bytes and the folder's listing: what a read command must leave as they were. */
function state(path: string) {
  return {
    hash: createHash('sha256').update(readFileSync(path)).digest('hex'),
    files: readdirSync(work.dir).sort(),
  };
}

function schemaVersion(path: string): { version: number; journal: string } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'kysely_migration'").get();
    const name = hasTable
      ? (db.prepare('SELECT max(name) FROM kysely_migration').pluck().get() as string)
      : null;
    return {
      version: name ? Number.parseInt(name.slice(0, 4), 10) : 1,
      journal: String(db.pragma('journal_mode', { simple: true })),
    };
  } finally {
    db.close();
  }
}

function rowsOf(path: string): unknown[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return [
      db.prepare('SELECT rowid, * FROM sessions ORDER BY rowid').all(),
      db.prepare('SELECT rowid, * FROM messages ORDER BY rowid').all(),
    ];
  } finally {
    db.close();
  }
}

/** A legacy file with the rows real ones hold: an orphan, metadata that is not JSON, a missing timestamp. */
function dirtyLegacyFile(path: string): void {
  const db = new BetterSqlite3(path);
  db.pragma('foreign_keys = OFF');
  for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
  const T = '2025-03-01T10:00:00.000000';
  db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s1', null, T, null, 'not json');
  const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
  message.run('m1', 's1', 'user', 'hello', null, '[1,2]');
  message.run('m2', 's1', 'assistant', 'hi\u0000there', T, '');
  message.run('orphan', 'gone', 'user', 'left behind', T, '{}');
  db.close();
}

const READ_COMMANDS = (sessionId: string) => [
  ['check'],
  ['check', '--json'],
  ['sessions'],
  ['sessions', '--json', '--limit', '100'],
  ['history', sessionId],
  ['history', sessionId, '--json'],
  // A dirty file fails export's default --on-invalid fail (INVALID_RECORDS, nothing written); repair reads it all.
  ['export', '--on-invalid', 'repair'],
];

/**
 * Runs a read command that must succeed. Only export may write to stderr: its summary of repaired records and
 * its warning about orphan messages left out.
 */
async function read(args: readonly string[], cwd: string): Promise<void> {
  if (args[0] !== 'export') {
    await ok(args, { cwd });
    return;
  }
  const result = await runCli(args, { cwd });
  expect(result.code, `flux-memory ${args.join(' ')}: ${result.stderr}`).toBe(0);
  for (const line of result.stderr.trimEnd().split('\n').filter(Boolean))
    expect(line).toMatch(/^(Exported |warning: \d+ orphan message)/);
}

describe('read commands never write', () => {
  const files: Record<string, { make: (path: string) => void; session: string }> = {
    'the Python file': { make: (path) => copyFileSync(LEGACY, path), session: '' },
    'a dirty legacy file': { make: dirtyLegacyFile, session: 's1' },
  };
  for (const [name, { make, session }] of Object.entries(files)) {
    test(`${name} (schema version 1, rollback journal) - every byte and the folder as they were`, async () => {
      const path = join(work.dir, 'memory.db');
      make(path);
      const before = state(path);
      const sessionId =
        session ||
        (await okJson<{ id: string }[]>(['sessions', '--json', '--url', path], { cwd: work.dir }))[0]!.id;
      for (const args of READ_COMMANDS(sessionId)) {
        await read([...args, '--url', path], work.dir);
        expect(state(path), `after flux-memory ${args.join(' ')}`).toEqual(before);
      }
      const health = await okJson<{ schemaVersion: number; orphanMessages: number }>(
        ['check', '--json', '--url', path],
        {
          cwd: work.dir,
        },
      );
      expect(health.schemaVersion).toBe(1);
      expect(health.orphanMessages).toBe(session ? 1 : 0);
      expect(schemaVersion(path)).toEqual({ version: 1, journal: 'delete' });
    });
  }

  test('a WAL file of the latest version - the file unchanged; SQLite may keep -wal and -shm', async () => {
    const path = join(work.dir, 'memory.db');
    const store = new SqliteConversationMemory({ filename: path });
    const id = await store.createSession({ title: 't' });
    await store.addMessage(id, { role: 'user', content: 'hello' });
    await store.close();
    const before = state(path);
    for (const args of READ_COMMANDS(id)) {
      await read([...args, '--url', path], work.dir);
      const after = state(path);
      expect(after.hash).toBe(before.hash);
      expect(after.files.filter((f) => !/-(wal|shm)$/.test(f))).toEqual(before.files);
    }
  });

  test("check on another application's database - unhealthy, NOT_CONVERSATION_MEMORY, nothing written", async () => {
    const path = join(work.dir, 'app.db');
    const db = new BetterSqlite3(path);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)');
    db.close();
    const before = state(path);
    const { line } = await fails(['check', '--url', path], { cwd: work.dir });
    expect(line).toMatch(/not a conversation memory/);
    expect(line).toContain('users');
    await fails(['sessions', '--url', path], { cwd: work.dir });
    expect(state(path)).toEqual(before);
  });

  test('a write command on a legacy file - refuses to upgrade it, naming flux-memory upgrade', async () => {
    const path = join(work.dir, 'memory.db');
    copyFileSync(LEGACY, path);
    const before = state(path);
    const { line } = await fails(['delete', 'no-such-session', '--url', path], { cwd: work.dir });
    expect(line).toMatch(/^error: SCHEMA_UPGRADE_REQUIRED: .*flux-memory upgrade --url/);
    expect(state(path)).toEqual(before);
  });
});

describe('flux-memory upgrade', () => {
  test('says what will change, backs up, upgrades; a second run has nothing to do', async () => {
    const path = join(work.dir, 'memory.db');
    copyFileSync(LEGACY, path);
    const before = state(path);
    const dry = await ok(['upgrade', '--url', path, '--dry-run'], { cwd: work.dir });
    expect(dry).toMatch(/schema version +1 -> \d+/);
    expect(dry).toMatch(/journal mode +delete -> wal/);
    expect(dry).toMatch(/file size +756\.0 KiB now, about [\d.]+ MiB after/);
    expect(dry).toMatch(/free disk +needs [\d.]+ MiB, [\d.]+ \wiB free/);
    expect(dry).toMatch(/other writers +need SQLite 3\.34\.0 or later/);
    expect(dry).toMatch(/Dry run: nothing was written/);
    expect(state(path)).toEqual(before);

    const out = await ok(['upgrade', '--url', path], { cwd: work.dir });
    const backup = /Backup: (\S+)/.exec(out)?.[1];
    expect(backup, out).toBeDefined();
    expect(out).toMatch(/Upgraded .* to schema version \d+ in [\d.]+ s; it is now [\d.]+ MiB, in WAL mode/);
    expect(schemaVersion(path).journal).toBe('wal');
    expect(schemaVersion(backup!)).toEqual({ version: 1, journal: 'delete' });
    // SQLite's backup copies every page (its header's change counter aside): the same rows, in rowid order.
    expect(rowsOf(backup!)).toEqual(rowsOf(LEGACY));

    const again = await okJson<UpgradeReport>(['upgrade', '--url', path, '--json'], { cwd: work.dir });
    expect(again).toMatchObject({ needed: false, upgraded: false });
  });

  test('--json --no-backup - the plan and the result as JSON, no backup file', async () => {
    const path = join(work.dir, 'memory.db');
    copyFileSync(LEGACY, path);
    const report = await okJson<UpgradeReport>(['upgrade', '--url', path, '--json', '--no-backup'], {
      cwd: work.dir,
    });
    expect(report).toMatchObject({
      upgraded: true,
      needed: true,
      backupPath: null,
      schemaVersion: { from: 1 },
      journalMode: { from: 'delete', to: 'wal' },
      writerSqliteVersion: '3.34.0',
    });
    expect(report.upgradedBytes).toBeGreaterThan(report.fileBytes.before);
    expect(readdirSync(work.dir).filter((f) => f.endsWith('.bak'))).toEqual([]);
  });

  test('Ctrl-C (SIGINT) mid-upgrade - exit 130, the file hashes as before and opens as version 1', async () => {
    const path = join(work.dir, 'large.db');
    generateLegacyFile({ path, sessions: 500, messages: 60_000, seed: 7 });
    const before = state(path);
    const child = spawn(process.execPath, [BIN, 'upgrade', '--url', path, '--no-backup'], {
      cwd: work.dir,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!signalled && /Upgrading: 0002/.test(stdout)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(signalled, stdout).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/^error: INTERRUPTED: interrupted \(SIGINT\): the upgrade was rolled back/);
    expect(stdout).not.toMatch(/Upgraded/);
    expect(state(path)).toEqual(before);
    expect(existsSync(`${path}-journal`)).toBe(false);
    expect(schemaVersion(path)).toEqual({ version: 1, journal: 'delete' });
  });

  test('on PostgreSQL or a missing file - refused', async () => {
    await fails(['upgrade', '--url', 'postgresql://u@127.0.0.1:1/x'], { cwd: work.dir }, 2);
    const { line } = await fails(['upgrade', '--url', join(work.dir, 'nope.db')], { cwd: work.dir });
    expect(line).toMatch(/DATABASE_NOT_FOUND/);
    expect(readdirSync(work.dir)).toEqual([]);
  });
});
