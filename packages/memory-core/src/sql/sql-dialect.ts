import type {
  Expression,
  ExpressionBuilder,
  InsertQueryBuilder,
  InsertResult,
  Kysely,
  RawBuilder,
  Selectable,
  SqlBool,
} from 'kysely';
import type { SearchRequest } from '../base-memory.js';
import type { MemoryError } from '../errors.js';
import type { SearchTerm } from '../search/search-query.js';
import type { Metadata } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { Database, MessagesTable, StoredTimestamp } from './database.js';
import type { MigrationSet } from './migrate.js';

/**
 * Where a driver error came from, so that a dialect can tell an error the caller's input caused from one of the
 * database: `filter` (a listing filtered by `where.metadata`), `search` (the `searchMessages` statement), or
 * `operation` (anything else, including setup).
 */
export type SqlErrorPhase = 'filter' | 'search' | 'operation';

/** A table of the shared {@link Database}. */
export type SqlTable = keyof Database;

/** An `INSERT` into one of the shared tables, as the shared query code builds it. */
export type SqlInsert<T extends SqlTable> = InsertQueryBuilder<Database, T, InsertResult>;

/** What `searchMessages` asks of the dialect's statement, besides the terms. */
export interface SqlSearchRequest extends SearchRequest {
  /**
   * The ids of the sessions in the caller's scope, a subquery: a message whose session is not among them (an
   * orphan of a legacy file, another owner's message) is never a hit.
   */
  readonly sessionIds: Expression<unknown>;
  /**
   * True when the scope is one owner's. When false, `sessionIds` is every session: a dialect whose schema cannot
   * hold orphans (a foreign key with `ON DELETE CASCADE`) may leave the condition out.
   */
  readonly ownerScoped: boolean;
}

/** A row of a search statement: the message's columns and its score, higher is better. */
export type SqlSearchRow = Selectable<MessagesTable> & { score: number };

/**
 * A dialect's full-text search: the statement, and the snippet of each hit. Running it, mapping its errors
 * (phase `search`) and building the hits is the shared code's.
 */
export interface SqlSearch<R extends SqlSearchRow = SqlSearchRow> {
  /**
   * The ranked search: matching messages in scope, best score first, ties newest first then by insertion order,
   * `limit` rows after `offset`. May throw a contract error (a capability the database lacks) before any query.
   */
  query(terms: readonly SearchTerm[], request: SqlSearchRequest): RawBuilder<R>;
  /** The snippet of a hit (see the contract's `SearchHit.snippet`), from its row and its decoded content. */
  snippet(row: R, content: string, terms: readonly SearchTerm[]): string;
}

/**
 * A dialect's `where.metadata`: an optional plan, chosen once per listing, and the condition. The plan is passed
 * to the condition as a value: a dialect that can serve a filter two ways (through an index, or by checking rows
 * in listing order) decides with it.
 */
export interface SqlMetadataFilter<P = unknown> {
  /**
   * Chooses how `filter` is served for a listing that needs `window` matching rows (errors go through the
   * dialect's `filter` phase). Without it, the plan is `undefined`.
   */
  plan?(db: Kysely<Database>, filter: Metadata, window: number): Promise<P>;
  /**
   * The condition "the session's metadata contains `filter`" (`jsonb @>` semantics, see core's `jsonContains`)
   * on the `sessions` row of the enclosing query.
   */
  where(
    eb: ExpressionBuilder<Database, 'sessions'>,
    filter: Metadata,
    plan: P | undefined,
  ): Expression<SqlBool>;
}

/** What a dialect reports about the database for `check()`; the shared code adds the location and the counts. */
export interface SqlHealth {
  /** The server's or library's version, as it names itself. */
  readonly serverVersion: string;
  /** The schema version of the store's tables. */
  readonly schemaVersion: number;
}

/**
 * A SQL dialect, as a value: everything the shared query code ({@link SqlConversationMemory}) needs to know
 * about one database, apart from opening and closing connections. A backend package builds one per store (it may
 * close over the store's location and connection, for error messages and `check()`), and hands it to the store
 * class in core with the Kysely instance. Optional members have the defaults their TSDoc states.
 */
export interface SqlDialect {
  /** The backend's name, as `check()` and cursors report it (`'sqlite'`, `'postgres'`). */
  readonly name: string;
  /** Where the store lives, secrets masked, as `check()` and error messages name it. */
  readonly location: string;
  /** How values are stored: timestamps, metadata, content. */
  readonly codecs: SqlCodecs;
  /**
   * Creates or upgrades the schema through the dialect's migrations (numbered `NNNN_name` alike in every
   * dialect, see {@link MigrationSet}); run once before the first operation, and again on the next call if it
   * failed. A store opened read-only checks the schema instead, writing nothing.
   */
  migrate(): Promise<void>;
  /**
   * True when the database itself keeps `sessions.message_count` and `last_message_at` (triggers on `messages`),
   * so that `addMessage` only sets the session's `updated_at` and nothing is counted twice. Default false.
   */
  readonly activityKeptByTriggers?: boolean;
  /**
   * True when a transaction that edits a session must lock its row with `SELECT ... FOR UPDATE` (history
   * editing, `updateSession`, `purgeSessions`); false when every write transaction already holds the database's
   * write lock (SQLite's `BEGIN IMMEDIATE`), where `FOR UPDATE` does not exist. Default true.
   */
  readonly rowLocks?: boolean;
  /**
   * True when a statement may carry another write in its `WITH` clause (PostgreSQL's data-modifying CTEs): an
   * upsert's last write then travels with the session row's update, one round trip fewer per call that changes
   * anything. Default false: each write is a statement of its own.
   */
  readonly writesInWith?: boolean;
  /**
   * True when timestamp columns hold text that other writers may have left in any form, readable or not
   * (SQLite): `purgeSessions` then also counts the unreadable text that sorts at or after its cutoff, which its
   * batches never reach (see `unreadableAfterCutoff`). Default false (a timestamp type holds only instants or
   * `NULL`).
   */
  readonly textTimestamps?: boolean;
  /**
   * Makes `insert` skip a row whose key is taken (a session's `id`, a message's `(session_id, id)`) instead of
   * failing: the rows it reports inserted are those that were new (`ON CONFLICT DO NOTHING`; a MySQL-shaped
   * dialect says `INSERT IGNORE`).
   */
  ignoreDuplicates<T extends SqlTable>(insert: SqlInsert<T>): SqlInsert<T>;
  /**
   * The stored value `table`'s rows are listed by in time order (with `seq` after it for `messages`, `id` for
   * `sessions`); its order must be the order of the instants `codecs.decodeTimestamp` reads it as. Default: the
   * `created_at` column, right for a timestamp type; a dialect whose column may hold text in several forms
   * returns an expression with a canonical sort key, backed by an index.
   */
  orderKey?(table: SqlTable): RawBuilder<StoredTimestamp>;
  /**
   * The keyset condition "(`key`, `id`) comes before (`at`, `id`)" in descending listing order. Default
   * {@link rowComparisonBefore}: a row comparison, which PostgreSQL and SQLite both turn into the start of an
   * index range; a dialect without one returns the expanded form.
   */
  keysetBefore?(
    eb: ExpressionBuilder<Database, 'sessions'>,
    key: RawBuilder<StoredTimestamp>,
    at: StoredTimestamp,
    id: string,
  ): Expression<SqlBool>;
  /** `where.metadata`, when the dialect has it (the `metadataFilter` capability). */
  readonly metadataFilter?: SqlMetadataFilter;
  /** `searchMessages`, when the dialect has it (the `fullTextSearch` capability). */
  readonly search?: SqlSearch;
  /**
   * Turns a driver error into a contract error, keeping it as `cause`: in the `filter` and `search` phases an
   * error the caller's filter or query caused becomes a `ValidationError` on `where.metadata` or `query`. A
   * contract error is returned as is.
   */
  mapError(error: unknown, phase: SqlErrorPhase): MemoryError;
  /** The server version and schema version, for `check()`. */
  health(): Promise<SqlHealth>;
}

/** `ON CONFLICT (id) DO NOTHING`: how PostgreSQL and SQLite ignore a duplicate insert. */
export function onConflictDoNothing<T extends SqlTable>(insert: SqlInsert<T>): SqlInsert<T> {
  // No conflict target: each table has one unique key a write can hit, `sessions (id)` and, from schema version
  // 7, `messages (session_id, id)` (message ids are unique per session); both databases accept the bare form.
  return insert.onConflict((conflict) => conflict.doNothing());
}

/**
 * `key <= at AND (key, id) < (at, id)`. A row comparison, not `key < at OR (key = at AND id < $2)`: PostgreSQL and
 * SQLite turn it into the start of an index range on `(key DESC, id DESC)` (or `(owner_id, key DESC, id DESC)`),
 * while PostgreSQL applies the OR form as a filter to every row before the cursor, so a page deep in the listing
 * cost as much as an offset. The redundant `key <= at` serves SQLite when its key is an expression: it seeks its
 * expression index on a plain comparison but not on a row comparison holding the expression.
 */
export function rowComparisonBefore(
  eb: ExpressionBuilder<Database, 'sessions'>,
  key: RawBuilder<StoredTimestamp>,
  at: StoredTimestamp,
  id: string,
): Expression<SqlBool> {
  return eb.and([eb(key, '<=', at), eb(eb.tuple(key, eb.ref('id')), '<', eb.tuple(at, id))]);
}

/** How a dialect maps errors, phase by phase: see {@link mapErrorByPhase}. */
export interface PhasedErrorMapping {
  /** An error of a filtered listing: one the filter caused as a `ValidationError`, anything else as is. */
  filter?(error: unknown): unknown;
  /** An error of the search statement: one the query caused as a `ValidationError`, anything else as is. */
  search?(error: unknown): unknown;
  /** Any other driver error, as a contract error; a contract error as is. */
  driver(error: unknown): MemoryError;
}

/**
 * A {@link SqlDialect.mapError} from its parts: the phase's own mapping first (`filter`, `search`), then the
 * driver's for whatever it left as is.
 */
export function mapErrorByPhase(mapping: PhasedErrorMapping): SqlDialect['mapError'] {
  return (error, phase) => {
    const specific = phase === 'operation' ? undefined : mapping[phase];
    return mapping.driver(specific ? specific(error) : error);
  };
}
