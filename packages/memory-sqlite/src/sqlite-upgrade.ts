import { existsSync, rmSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BackendUnavailableError, MemoryError, ValidationError } from '@flux-rag/memory-core';
import type { Database as KyselyDatabase } from '@flux-rag/memory-core/sql';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { retryWhileBusy } from './sqlite-driver.js';
import { mapSqliteError } from './sqlite-errors.js';
import { inspectFile, refuseNewerFile } from './sqlite-file-inspection.js';
import { DEFAULT_BUSY_TIMEOUT_MS, MIN_WRITER_SQLITE_VERSION } from './sqlite-memory.js';
import { migrateSqlite, SQLITE_SCHEMA_VERSION, sqliteMigrations } from './sqlite-migrations.js';

/**
 * How much larger a file gets from its version to the latest, as a factor of its size: the search indexes
 * (words and trigrams) and the metadata terms of version 4 roughly double a Python file (measured on the
 * legacy fixture and on generated files of 10,000 to 1,000,000 messages: 1.8x to 2.1x); version 7 rebuilds
 * `messages` (a copy of the table and a new `(session_id, id)` index), whose old pages stay free inside the
 * file until a `VACUUM`: on the legacy fixture 1.43x from version 6, 3.0x from version 1. Rounded up.
 */
const GROWTH_FROM_VERSION: Readonly<Record<number, number>> = {
  1: 3.3,
  2: 3.3,
  3: 3.3,
  4: 1.6,
  5: 1.6,
  6: 1.6,
};

/** What each schema version an upgrade applies does, for the plan a person reads before upgrading. */
const MIGRATION_SUMMARIES: Readonly<Record<string, string>> = {
  '0001_original_schema': 'the original Python tables',
  '0002_insertion_order_and_counts': 'rebuilds messages with an insertion order (seq); session counts',
  '0003_owner_scope': 'sessions may belong to an owner',
  '0004_search_and_filters': 'full-text search indexes and metadata filter terms',
  '0005_shared_writers': 'counts kept by triggers, so the Python app can keep writing the file',
  '0006_timestamp_order': 'a sort key for timestamps written in legacy forms',
  '0007_structured_messages':
    'rebuilds messages: ids unique per session (up to 255 characters), payload, format and digest ' +
    'columns; the operation log of history edits (message_operations)',
};

/** What {@link planSqliteUpgrade} found: what an upgrade of the file would change and need. */
export interface SqliteUpgradePlan {
  /** The file. */
  location: string;
  /** True when the file is below the latest version (otherwise there is nothing to do). */
  needed: boolean;
  /** The schema version now, and after the upgrade. */
  schemaVersion: { from: number; to: number };
  /** The migrations the upgrade applies, in order (empty when none is needed), each with what it does. */
  migrations: { name: string; summary: string }[];
  /** The journal mode now (`delete` for every Python file), and after (`wal`). */
  journalMode: { from: string; to: 'wal' };
  /** The file's size now, and about its size after the upgrade, in bytes. */
  fileBytes: { before: number; after: number };
  /**
   * Free disk the upgrade needs in the file's folder, in bytes: the growth, the rollback journal (up to the
   * size of the file: every page the upgrade changes is saved there first, so that an interrupted upgrade can
   * be undone), and the backup when one is taken.
   */
  requiredFreeBytes: number;
  /** Free disk in the file's folder now (`statfs`), in bytes, for an unprivileged process. */
  freeBytes: number;
  /** The backup's path, or `null` without a backup. */
  backupPath: string | null;
  /**
   * The oldest SQLite another program writing the file (the Python app's `sqlite3`) needs after the upgrade:
   * {@link MIN_WRITER_SQLITE_VERSION}.
   */
  writerSqliteVersion: string;
  /** The SQLite this package runs. */
  sqliteVersion: string;
}

/** Options of {@link planSqliteUpgrade} and {@link upgradeSqliteFile}. */
export interface SqliteUpgradeOptions {
  /**
   * Where to write the backup taken before the upgrade, `false` for none. Default: next to the file,
   * `<file>.v<version>-<UTC time>.bak`. An existing file is never overwritten.
   */
  backup?: string | false;
  /** How long to wait for another program's write lock, in ms; default 5000. */
  busyTimeoutMs?: number;
}

/** Options of {@link upgradeSqliteFile}. */
export interface SqliteUpgradeRunOptions extends SqliteUpgradeOptions {
  /**
   * Aborting it stops the backup or the upgrade at its next step; the upgrade is rolled back whole and the
   * file is left as it was, a partial backup deleted. The promise rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** Told what is happening: `backup` (with the share copied, 0 to 1), then each migration's name. */
  onProgress?: (step: string, done?: number) => void;
}

/** What {@link upgradeSqliteFile} did. */
export interface SqliteUpgradeResult extends SqliteUpgradePlan {
  /** The file's size after the upgrade, in bytes. */
  upgradedBytes: number;
  /** How long the upgrade itself took (the backup excluded), in ms. */
  durationMs: number;
}

/**
 * Reads what upgrading `filename` would do, without writing anything: versions, journal mode, sizes, the free
 * disk needed and available, the SQLite version other writers then need. A file that is not a conversation
 * memory is `NotConversationMemoryError`, one of a newer version `SchemaVersionError`.
 */
export async function planSqliteUpgrade(
  filename: string,
  options: SqliteUpgradeOptions = {},
): Promise<SqliteUpgradePlan> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!existsSync(filename)) throw new BackendUnavailableError(`${filename} does not exist`);
  const raw = openFile(filename, true);
  try {
    const found = await retryWhileBusy(() => inspectFile(raw, filename), busyTimeoutMs);
    refuseNewerFile(found, sqliteMigrations, filename);
    const journalMode = String(raw.pragma('journal_mode', { simple: true }));
    const sqliteVersion = String(raw.prepare('SELECT sqlite_version()').pluck().get());
    const before = statSync(filename).size;
    const needed = found.schemaVersion < SQLITE_SCHEMA_VERSION;
    const after = needed ? Math.ceil(before * (GROWTH_FROM_VERSION[found.schemaVersion] ?? 1)) : before;
    const backupPath =
      options.backup === false || !needed
        ? null
        : (options.backup ?? defaultBackupPath(filename, found.schemaVersion));
    const { bavail, bsize } = statfsSync(dirname(filename));
    return {
      location: filename,
      needed,
      schemaVersion: { from: found.schemaVersion, to: SQLITE_SCHEMA_VERSION },
      migrations: Object.keys(sqliteMigrations)
        .filter((name) => Number.parseInt(name, 10) > found.schemaVersion)
        .map((name) => ({ name, summary: MIGRATION_SUMMARIES[name] ?? name })),
      journalMode: { from: journalMode, to: 'wal' },
      fileBytes: { before, after },
      // The growth (after - before) plus a rollback journal of up to the whole file (before), plus the backup.
      requiredFreeBytes: needed ? after + (backupPath === null ? 0 : before) : 0,
      freeBytes: Number(bavail) * Number(bsize),
      backupPath,
      writerSqliteVersion: MIN_WRITER_SQLITE_VERSION,
      sqliteVersion,
    };
  } catch (error) {
    throw mapped(error, filename, busyTimeoutMs);
  } finally {
    raw.close();
  }
}

/**
 * Upgrades `filename` to the latest schema version, as a person asks for it (`flux-memory upgrade`): first a
 * backup with SQLite's online backup (safe while another program writes the file), then the upgrade in one
 * transaction, then the switch to WAL. Refuses, before writing anything, a file that is not a conversation
 * memory, one of a newer version, an existing backup path, and too little free disk (`BackendUnavailableError`
 * naming what is needed and what is free). Aborting `signal` leaves the file as it was.
 */
export async function upgradeSqliteFile(
  filename: string,
  options: SqliteUpgradeRunOptions = {},
): Promise<SqliteUpgradeResult> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const plan = await planSqliteUpgrade(filename, options);
  if (!plan.needed) return { ...plan, upgradedBytes: plan.fileBytes.before, durationMs: 0 };
  if (plan.freeBytes < plan.requiredFreeBytes) {
    throw new BackendUnavailableError(
      `not enough free disk to upgrade ${filename}: it needs ${plan.requiredFreeBytes} bytes in ` +
        `${dirname(filename)}, ${plan.freeBytes} are free; nothing was written`,
    );
  }
  if (plan.backupPath !== null && existsSync(plan.backupPath)) {
    throw new ValidationError('backup', `${plan.backupPath} exists already; it is never overwritten`);
  }
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const raw = openFile(filename, false);
  const db = new Kysely<KyselyDatabase>({
    dialect: new SqliteMemoryDialect({ database: () => raw, busyTimeoutMs }),
  });
  try {
    raw.pragma('busy_timeout = 0');
    if (plan.backupPath !== null) await backup(raw, plan.backupPath, signal, onProgress);
    const started = performance.now();
    await migrateSqlite(db, raw, filename, sqliteMigrations, {
      signal,
      onMigration: (name) => onProgress?.(name),
    });
    const durationMs = performance.now() - started;
    await retryWhileBusy(() => raw.pragma('journal_mode = WAL'), busyTimeoutMs);
    return { ...plan, upgradedBytes: statSync(filename).size, durationMs };
  } catch (error) {
    throw signal?.aborted && error === signal.reason ? error : mapped(error, filename, busyTimeoutMs);
  } finally {
    await db.destroy();
    raw.close();
  }
}

/** SQLite's online backup of `raw` into `path`, step by step; a failed or aborted one leaves no file. */
async function backup(
  raw: BetterSqlite3.Database,
  path: string,
  signal: AbortSignal | undefined,
  onProgress: SqliteUpgradeRunOptions['onProgress'],
): Promise<void> {
  try {
    await raw.backup(path, {
      progress: ({ totalPages, remainingPages }) => {
        signal?.throwIfAborted();
        onProgress?.('backup', totalPages === 0 ? 1 : 1 - remainingPages / totalPages);
        // Pages per step: small enough that an abort or another program's write gets its turn soon.
        return 1000;
      },
    });
    // Cancelled before the upgrade began: the whole command is, the backup with it.
    signal?.throwIfAborted();
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  }
}

function defaultBackupPath(filename: string, version: number): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(dirname(filename), `${basename(filename)}.v${version}-${stamp}.bak`);
}

function openFile(filename: string, readonly: boolean): BetterSqlite3.Database {
  try {
    return new BetterSqlite3(filename, { timeout: 0, fileMustExist: true, readonly });
  } catch (error) {
    throw mapped(error, filename, 0);
  }
}

function mapped(error: unknown, location: string, busyTimeoutMs: number): unknown {
  return MemoryError.isInstance(error) ? error : mapSqliteError(error, { location, busyTimeoutMs });
}
