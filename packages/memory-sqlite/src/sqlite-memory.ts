import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  BackendUnavailableError,
  type ImportResult,
  type MemoryCapabilities,
  MemoryError,
  type Metadata,
  type PortableMessage,
  type PortableSession,
  ReadOnlyError,
  type SearchHit,
  type SessionFilter,
  type SessionSummary,
  type StoreHealth,
  UnsupportedCapabilityError,
  ValidationError,
} from '@flux-rag/memory-core';
import {
  type BaseMemoryOptions,
  type EncodedMessage,
  type MessageRecord,
  type PageRows,
  type Scope,
  type SearchRequest,
  type SearchTerm,
  type SessionListing,
  type SessionPosition,
  type SessionRecord,
  snippetOf,
} from '@flux-rag/memory-core/backend';
import {
  type Database,
  readSchemaVersion,
  SqlConversationMemory,
  type StoredTimestamp,
  toMessage,
} from '@flux-rag/memory-core/sql';
import BetterSqlite3 from 'better-sqlite3';
import { type Expression, type ExpressionBuilder, Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { sqliteCodecs } from './sqlite-codecs.js';
import { DEFAULT_SQLITE_PATH } from './sqlite-defaults.js';
import { SqliteMemoryDialect } from './sqlite-dialect.js';
import { retryWhileBusy } from './sqlite-driver.js';
import { mapSqliteError } from './sqlite-errors.js';
import { inspectFile, refuseNewerFile } from './sqlite-file-inspection.js';
import { candidateCounts, filterError, metadataContains, scanIsCheaper } from './sqlite-metadata-filter.js';
import { migrateSqlite, sqliteMigrations, sqliteSchemaCatalog } from './sqlite-migrations.js';
import { createReadOnlyViews } from './sqlite-read-only-views.js';
import { planSearch, searchError, searchQuery } from './sqlite-search.js';
import { orderKeySql } from './sqlite-timestamp-order.js';

const CAPABILITIES: MemoryCapabilities = Object.freeze({
  metadataFilter: true,
  fullTextSearch: true,
  // Contract 1.1: payload, format and digest are columns of schema version 7.
  structuredMessages: true,
  // Contract 1.1: declared by the branch that implements them on the SQL layer.
  historyEditing: false,
  sessionUpdates: false,
  retention: false,
});

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
  readonly #upgrade: 'auto' | 'refuse';
  /** Read-only stores: the file's schema version, once opened (search needs 4). */
  #fileVersion: number | undefined;
  #raw: BetterSqlite3.Database | undefined;
  /** Filters to serve without the term index (see `#planFilter`). */
  readonly #scanned = new WeakSet<Metadata>();

  constructor(options: SqliteMemoryOptions = {}) {
    const {
      filename,
      database,
      busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS,
      readOnly = false,
      upgrade = 'auto',
    } = checkOptions(options);
    // The dialect opens the file lazily, on the first query: the arrow function reads `this` only then, long
    // after super() returned, so the query builder can go to the constructor as SqlConversationMemory wants.
    const db = new Kysely<Database>({
      dialect: new SqliteMemoryDialect({ database: () => this.#open(), busyTimeoutMs }),
    });
    super({ clock: options.clock, codecs: sqliteCodecs, db });
    this.#readOnly = readOnly;
    this.#upgrade = upgrade;
    this.#given = database;
    this.#filename = database ? undefined : (filename ?? DEFAULT_SQLITE_PATH);
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#location = database ? database.name : this.#filename!;
  }

  /** Both optional capabilities: `where.metadata` filters and `searchMessages`. */
  override get capabilities(): MemoryCapabilities {
    return CAPABILITIES;
  }

  /** True when the store was opened with `readOnly`. */
  get readOnly(): boolean {
    return this.#readOnly;
  }

  /**
   * On a writable store the file's schema keeps `message_count` and `last_message_at` by triggers (version 5),
   * whoever writes `messages`; `addMessage` leaves them to those.
   */
  protected override get activityKeptByTriggers(): boolean {
    return true;
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
    if (this.#readOnly) {
      await this.#initReadOnly(raw);
      return;
    }
    // Inspected and upgraded in one transaction; the journal mode changes only once the file is known to be a
    // conversation memory at the latest version, so a refused or failed open leaves the file as it was.
    await migrateSqlite(this.db, raw, this.#location, undefined, { upgrade: this.#upgrade });
    // WAL: readers never wait for the writer, and a commit appends to the log instead of rewriting pages.
    await retryWhileBusy(() => raw.pragma('journal_mode = WAL'), this.#busyTimeoutMs);
    // NORMAL is durable across application crashes in WAL mode; only an OS crash or power loss can lose the
    // last commits (never corrupt the file), and it saves an fsync per commit.
    raw.pragma('synchronous = NORMAL');
  }

  /**
   * Read-only: checks that the file is a conversation memory of a version this code knows, and gives an older
   * one the latest columns through `TEMP` views (see `createReadOnlyViews`); then `query_only`, so that no
   * statement can write even by mistake. Nothing here writes the file.
   */
  async #initReadOnly(raw: BetterSqlite3.Database): Promise<void> {
    const found = await retryWhileBusy(() => inspectFile(raw, this.#location), this.#busyTimeoutMs);
    refuseNewerFile(found, sqliteMigrations, this.#location);
    if (raw.pragma('query_only', { simple: true }) === 0) createReadOnlyViews(raw, found);
    raw.pragma('query_only = ON');
    this.#fileVersion = found.schemaVersion;
  }

  /** Refuses a write on a read-only store. */
  #writable(): void {
    if (this.#readOnly) {
      throw new ReadOnlyError(`${this.#location} was opened read-only; nothing was written`);
    }
  }

  /** What a read-only store on a file below version 4 cannot do until the file is upgraded. */
  #needsUpgrade(capability: string): UnsupportedCapabilityError {
    return new UnsupportedCapabilityError(
      capability,
      `${capability} needs schema version 4 or later; ${this.#location} is at version ${this.#fileVersion} ` +
        `and was opened read-only: upgrade it with flux-memory upgrade --url ${this.#location}`,
    );
  }

  /** True when the file lacks the search and filter indexes (a read-only store on a file below version 4). */
  get #lacksIndexes(): boolean {
    return this.#fileVersion !== undefined && this.#fileVersion < 4;
  }

  protected override _createSession(record: SessionRecord, scope: Scope): Promise<void> {
    this.#writable();
    return super._createSession(record, scope);
  }

  protected override _addMessage(
    record: MessageRecord,
    scope: Scope,
    encoded: EncodedMessage,
  ): Promise<void> {
    this.#writable();
    return super._addMessage(record, scope, encoded);
  }

  protected override _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean> {
    this.#writable();
    return super._updateSessionTitle(sessionId, title, updatedAt, scope);
  }

  protected override _deleteSession(sessionId: string, scope: Scope): Promise<boolean> {
    this.#writable();
    return super._deleteSession(sessionId, scope);
  }

  protected override _clearAll(scope: Scope): Promise<void> {
    this.#writable();
    return super._clearAll(scope);
  }

  protected override _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult> {
    this.#writable();
    return super._importBatch(sessions, messages, scope);
  }

  /**
   * `coalesce(created_order, created_at)`: the canonical sort key of a legacy timestamp, or the canonical text
   * itself (see `sqlite-timestamp-order.ts`), as the listing indexes of schema version 6 hold it.
   */
  protected override orderKey(_table: 'messages' | 'sessions'): RawBuilder<StoredTimestamp> {
    return sql<StoredTimestamp>`${sql.raw(orderKeySql())}`;
  }

  protected override metadataFilter(
    _eb: ExpressionBuilder<Database, 'sessions'>,
    filter: Metadata,
  ): Expression<SqlBool> {
    return metadataContains(filter, { candidates: !this.#lacksIndexes && !this.#scanned.has(filter) });
  }

  protected override async _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]> {
    if (listing.order === 'id') return super._listSessions(listing, scope);
    const window = listing.order === 'activity' ? listing.offset + listing.limit : listing.limit;
    return super._listSessions({ ...listing, where: await this.#planFilter(listing.where, window) }, scope);
  }

  protected override async _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>> {
    const filter = await this.#planFilter(where, limit + 1);
    return super._getSessionsPage(limit, cursor, scope, filter);
  }

  protected override metadataFilterError(error: unknown): unknown {
    return filterError(error);
  }

  /**
   * Chooses how `where.metadata` is served for a listing that needs `window` matching rows: through the term
   * index (a selective filter), or, when most sessions match, by checking sessions in listing order until the
   * page is full (see `scanIsCheaper`). The choice travels with a copy of the filter, marked in `#scanned`,
   * which `metadataFilter` reads; both ways return the same rows.
   */
  async #planFilter(where: SessionFilter | undefined, window: number): Promise<SessionFilter | undefined> {
    // Without the term index (a read-only store on an old file), the exact check alone serves the filter.
    if (where?.metadata === undefined || this.#lacksIndexes) return where;
    let rows: Array<{ candidates?: number; sessions?: number }>;
    try {
      const counts = candidateCounts(where.metadata, window);
      if (counts === null) return where;
      ({ rows } = await counts.execute(this.db));
    } catch (error) {
      // The counting statement holds the filter's terms too, so it can fail the way the listing does.
      throw this.metadataFilterError(error);
    }
    const { candidates = 0, sessions = 0 } = rows[0] ?? {};
    if (!scanIsCheaper(Number(candidates), Number(sessions), window)) return where;
    const marked = { ...where.metadata };
    this.#scanned.add(marked);
    return { ...where, metadata: marked };
  }

  protected override async _searchMessages(
    terms: readonly SearchTerm[],
    request: SearchRequest,
    scope: Scope,
  ): Promise<SearchHit[]> {
    if (this.#lacksIndexes) throw this.#needsUpgrade('fullTextSearch');
    const query = searchQuery(planSearch(terms), {
      ...request,
      sessionIds: this.sessionsIn(this.db, scope).select('id'),
    });
    let rows: Awaited<ReturnType<typeof query.execute>>['rows'];
    try {
      ({ rows } = await query.execute(this.db));
    } catch (error) {
      throw searchError(error);
    }
    return rows.map((row) => {
      const message = toMessage(row, this.codecs);
      // Core's snippet rather than FTS5's snippet(): it marks unspaced-script substrings too, which FTS5's
      // word index did not match, and cuts the text the same way on every backend.
      return { message, rank: Number(row.score), snippet: snippetOf(message.content, terms) };
    });
  }

  protected override async _check(scope: Scope): Promise<StoreHealth> {
    const raw = this.#open();
    const { version } = raw.prepare('SELECT sqlite_version() AS version').get() as { version: string };
    const counts = await this.countRows(scope);
    return {
      backend: 'sqlite',
      location: this.#location,
      reachable: true,
      serverVersion: `SQLite ${version}`,
      schemaVersion: this.#fileVersion ?? readSchemaVersion(sqliteSchemaCatalog(raw)),
      ...counts,
    };
  }

  protected override _describeLocation(): { backend: string; location: string } {
    return { backend: 'sqlite', location: this.#location };
  }

  protected override _mapError(error: unknown): MemoryError {
    return mapSqliteError(error, { location: this.#location, busyTimeoutMs: this.#busyTimeoutMs });
  }

  protected override async _close(): Promise<void> {
    await this.db.destroy();
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
