import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BackendUnavailableError, MemoryError, ValidationError } from '@flux-rag/memory-core';
import type { BaseMemoryOptions } from '@flux-rag/memory-core/backend';
import { type Database, SqlConversationMemory } from '@flux-rag/memory-core/sql';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { DEFAULT_SQLITE_PATH } from './sqlite-defaults.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { retryWhileBusy } from './sqlite-driver.js';
import { sqliteDialect } from './sqlite-sql-dialect.js';

/**
 * Oldest SQLite this store runs on: JSON path labels with `\uXXXX` escapes, which the metadata filter writes
 * for keys holding `"` or `\` (3.45). better-sqlite3 12.11.1 bundles 3.53; an older one can only come through
 * the `database` option, from another copy of better-sqlite3. Other programs writing the same file need less:
 * {@link MIN_WRITER_SQLITE_VERSION}.
 */
export const MIN_SQLITE_VERSION = '3.45.0';

/**
 * Oldest SQLite another program (the Python app's `sqlite3`) needs to keep writing a file of the latest schema
 * version: the newest feature its schema uses is FTS5's `trigram` tokenizer (3.34), which the triggers on
 * `messages` run in the writer's own SQLite. The README lists every feature with its version.
 */
export const MIN_WRITER_SQLITE_VERSION = '3.34.0';

/** Default of {@link SqliteMemoryOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Options of {@link SqliteConversationMemory}. Give `filename` or `database`, not both. */
export interface SqliteMemoryOptions extends BaseMemoryOptions {
  /**
   * Path of the database file; it and its folder are created when missing. `':memory:'` is a private
   * in-memory database (tests). Default `./data/memory.db`, the original's default.
   */
  filename?: string;
  /**
   * An open better-sqlite3 `Database` to use instead of opening `filename`. The store sets its PRAGMAs (see
   * the README) and `close()` leaves it open: its owner closes it.
   */
  database?: BetterSqlite3.Database;
  /**
   * How long, in ms, an operation waits for a write lock held by another connection (another process or
   * store) before failing with `BackendUnavailableError`; default 5000. The wait is asynchronous: the event
   * loop keeps running.
   */
  busyTimeoutMs?: number;
  /**
   * Open the file for reading only (default false): nothing is ever written to it, not even the schema upgrade
   * or the journal mode, so inspecting a file leaves every byte of it as it was (a WAL file keeps its `-wal`
   * and `-shm`). A file of an older schema version is read as it is; what it lacks until it is upgraded (search
   * before version 4) is an `UnsupportedCapabilityError` saying how to upgrade. The file must exist. Every
   * write is a `ReadOnlyError`. Not with `database`.
   */
  readOnly?: boolean;
  /**
   * What opening a file of an older schema version does: `'auto'` (default) upgrades it in place, in one
   * transaction; `'refuse'` fails every call with `SchemaUpgradeRequiredError` naming both versions, writing
   * nothing (upgrade it with `flux-memory upgrade`, or `upgradeSqliteFile`). A file without tables gets the
   * schema either way.
   */
  upgrade?: 'auto' | 'refuse';
}

/**
 * Conversation memory in a SQLite file, through better-sqlite3 and Kysely. It opens files written by the
 * original Python backend in place and upgrades their schema on first use (transactionally, keeping every
 * row). The file is put in WAL mode; writes take the write lock up front (`BEGIN IMMEDIATE`), so several
 * processes can write one file at once. Implements contract version 1.0 of `@flux-rag/memory-core`, with both
 * optional capabilities: metadata filters (a term index kept by triggers, then an exact containment check) and
 * full-text search (FTS5, kept by triggers in the writing transaction).
 */
export class SqliteConversationMemory extends SqlConversationMemory {
  readonly #filename: string | undefined;
  readonly #given: BetterSqlite3.Database | undefined;
  readonly #busyTimeoutMs: number;
  readonly #location: string;
  readonly #readOnly: boolean;
  #raw: BetterSqlite3.Database | undefined;

  constructor(options: SqliteMemoryOptions = {}) {
    const {
      filename,
      database,
      busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
      readOnly = false,
      upgrade = 'auto',
    } = checkOptions(options);
    // The file is opened lazily, on the first query: the arrow functions read `this` only then, long after
    // super() returned, so the query builder and the dialect can go to the constructor as SqlConversationMemory
    // wants.
    const db = new Kysely<Database>({
      dialect: new SqliteMemoryDialect({ database: () => this.#open(), busyTimeoutMs }),
    });
    const location = database ? database.name : (filename ?? DEFAULT_SQLITE_PATH);
    const raw = () => this.#open();
    const dialect = sqliteDialect({ db, raw, location, busyTimeoutMs, readOnly, upgrade });
    super({ clock: options.clock, dialect, db, readOnly });
    this.#readOnly = readOnly;
    this.#given = database;
    this.#filename = database ? undefined : (filename ?? DEFAULT_SQLITE_PATH);
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#location = location;
  }

  /** True when the store was opened with `readOnly`. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /** The file (or `:memory:`) this store uses, as given. */
  get location(): string {
    return this.#location;
  }

  protected override async _init(): Promise<void> {
    const raw = this.#open();
    // SQLite's own busy handler would sleep on the thread; the driver waits asynchronously instead.
    raw.pragma('busy_timeout = 0');
    // Preparing reads the schema, which another process may hold locked while it creates or upgrades it.
    const version = await retryWhileBusy(
      () => String(raw.prepare('SELECT sqlite_version()').pluck().get()),
      this.#busyTimeoutMs,
    );
    if (compareVersions(version, MIN_SQLITE_VERSION) < 0) {
      throw new MemoryError(
        'MEMORY_ERROR',
        `SQLite ${version} is too old for this store (${MIN_SQLITE_VERSION} or later is needed)`,
      );
    }
    // The dialect's migrations, or, read-only, its inspection of the file.
    await super._init();
    if (this.#readOnly) return;
    // The journal mode changes only once the file is known to be a conversation memory at the latest version,
    // so a refused or failed open leaves the file as it was.
    // WAL: readers never wait for the writer, and a commit appends to the log instead of rewriting pages.
    await retryWhileBusy(() => raw.pragma('journal_mode = WAL'), this.#busyTimeoutMs);
    // NORMAL is durable across application crashes in WAL mode; only an OS crash or power loss can lose the
    // last commits (never corrupt the file), and it saves an fsync per commit.
    raw.pragma('synchronous = NORMAL');
  }

  protected override async _close(): Promise<void> {
    await super._close();
    if (this.#raw && this.#raw !== this.#given) this.#raw.close();
  }

  #open(): BetterSqlite3.Database {
    if (this.#raw) return this.#raw;
    if (this.#given) {
      this.#raw = this.#given;
    } else {
      const filename = this.#filename!;
      if (this.#readOnly) {
        // Neither the file nor its folder is created: inspecting a mistyped path must not leave a database.
        if (!existsSync(filename)) {
          throw new BackendUnavailableError(
            `${filename} does not exist (opened read-only: nothing is created)`,
          );
        }
        this.#raw = new BetterSqlite3(filename, { timeout: 0, readonly: true, fileMustExist: true });
      } else {
        if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
        this.#raw = new BetterSqlite3(filename, { timeout: 0 });
      }
    }
    return this.#raw;
  }
}

/** Compares dotted version numbers (`3.9.0` < `3.45.0`). */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function checkOptions(options: unknown): SqliteMemoryOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('options', 'expected an object');
  }
  const { filename, database, busyTimeoutMs, readOnly, upgrade } = options as SqliteMemoryOptions;
  if (readOnly !== undefined && typeof readOnly !== 'boolean') {
    throw new ValidationError('readOnly', 'expected true or false');
  }
  if (readOnly === true && database !== undefined) {
    throw new ValidationError('readOnly', 'give a filename: a database passed in is opened by its owner');
  }
  if (readOnly === true && filename === ':memory:') {
    throw new ValidationError('readOnly', 'a private in-memory database cannot be opened read-only');
  }
  if (upgrade !== undefined && upgrade !== 'auto' && upgrade !== 'refuse') {
    throw new ValidationError('upgrade', `expected 'auto' or 'refuse', got ${JSON.stringify(upgrade)}`);
  }
  if (filename !== undefined && database !== undefined) {
    throw new ValidationError('options', 'give either filename or database, not both');
  }
  if (filename !== undefined && (typeof filename !== 'string' || filename.length === 0)) {
    throw new ValidationError('filename', 'expected a non-empty path or ":memory:"');
  }
  if (database !== undefined && !isBetterSqlite(database)) {
    throw new ValidationError('database', 'expected an open better-sqlite3 Database');
  }
  if (database?.open === false) throw new ValidationError('database', 'the database is closed');
  if (
    busyTimeoutMs !== undefined &&
    (typeof busyTimeoutMs !== 'number' ||
      !Number.isInteger(busyTimeoutMs) ||
      busyTimeoutMs < 0 ||
      busyTimeoutMs > 2_147_483_647)
  ) {
    throw new ValidationError(
      'busyTimeoutMs',
      `expected an integer from 0 to 2147483647, got ${busyTimeoutMs}`,
    );
  }
  return options as SqliteMemoryOptions;
}

// Duck-typed rather than `instanceof`: the caller's better-sqlite3 may be another copy of the package.
function isBetterSqlite(value: unknown): value is BetterSqlite3.Database {
  const db = value as Partial<BetterSqlite3.Database> | null;
  return (
    typeof db === 'object' &&
    db !== null &&
    typeof db.prepare === 'function' &&
    typeof db.pragma === 'function' &&
    typeof db.name === 'string'
  );
}
