import {
  type ExpressionBuilder,
  type InsertResult,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SelectQueryBuilder,
  sql,
  type Transaction,
} from 'kysely';
import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type EncodedMessage,
  type HistoryRead,
  type HistoryRow,
  type MessageRecord,
  type MessageRow,
  type PageRows,
  type PurgeBatch,
  type PurgeBatchResult,
  type RewriteRequest,
  type Scope,
  type SearchRequest,
  type SessionListing,
  type SessionRecord,
  type SessionUpdate,
  type UpsertRequest,
} from '../base-memory.js';
import type { HistoryPosition, SessionPosition } from '../cursor.js';
import {
  ConflictError,
  type MemoryError,
  ReadOnlyError,
  SessionNotFoundError,
  UnsupportedCapabilityError,
} from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession, StoreHealth } from '../portable.js';
import type { SearchTerm } from '../search/search-query.js';
import { dateToIsoMicros } from '../timestamp.js';
import type {
  MemoryCapabilities,
  Message,
  MessageDigest,
  Metadata,
  RewriteResult,
  SearchHit,
  Session,
  SessionFilter,
  SessionSummary,
  UpsertResult,
} from '../types.js';
import type { SqlCodecs } from './codecs.js';
import {
  type CompiledStatement,
  compileForScope,
  compileOnce,
  type RunCompiled,
  type ScopedStatement,
} from './compiled-statement.js';
import type { Database, MessagesTable, SessionsTable, StoredJson, StoredTimestamp } from './database.js';
import { compileEditStatements } from './edit-statements.js';
import {
  deleteMessages,
  type EditContext,
  popMessage,
  readDigests,
  rewriteHistory,
  upsertMessages,
} from './history-editing.js';
import { purgeBatch, unreadableAfterCutoff } from './purge.js';
import {
  messageRow,
  sessionRow,
  storedDigest,
  toMessage,
  toPortableMessage,
  toPortableSession,
  toSession,
  toSessionSummary,
} from './rows.js';
import { updateSession } from './session-updates.js';
import {
  rowComparisonBefore,
  type SqlDialect,
  type SqlMetadataFilter,
  type SqlSearchRow,
} from './sql-dialect.js';

/** Why a session id that no session has is still refused. */
const ORPHANS_REFERENCE_IT =
  'is still referenced by orphan messages (their session was deleted); a new session would adopt them ' +
  '(see check().orphanMessages)';

/** Rows per multi-row INSERT: 1000 x 10 parameters stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 1000;

/** What a SQL backend hands to the shared query code: its dialect, and the query builder of its connection. */
export interface SqlMemoryOptions extends BaseMemoryOptions {
  /** The SQL dialect: codecs, migrations, filter, search, error mapping, health (see {@link SqlDialect}). */
  dialect: SqlDialect;
  /**
   * The query builder every shared query runs on. Given to the constructor, so it is there before any hook
   * runs; its Kysely dialect may open the connection lazily (on first query) from state the subclass sets later.
   */
  db: Kysely<Database>;
  /** Refuse every write with a `ReadOnlyError` naming the location (default false). */
  readOnly?: boolean;
}

type Db = Kysely<Database> | Transaction<Database>;

/** A row read with the key it is ordered by (`order_at`, when the dialect has an order key of its own). */
type KeyedRow = { order_at?: StoredTimestamp; created_at: StoredTimestamp | null };

/**
 * A `sessions` row with the key sessions are listed by in creation order: `order_at` where the dialect has an
 * order key of its own, else `created_at` itself (read by `#keyOf`).
 */
type SessionsRowWithKey = Selectable<SessionsTable> & { order_at?: StoredTimestamp };

/** The hot reads without `where`, compiled once per store, one statement per shape and scope. */
interface ReadStatements {
  /** A session's messages, oldest first. */
  history: ScopedStatement<{ sessionId: string }, Selectable<MessagesTable>>;
  /** A session's last `limit` messages, newest first. */
  latest: ScopedStatement<{ sessionId: string; limit: number }, Selectable<MessagesTable>>;
  /** Sessions by most recent activity. */
  activity: ScopedStatement<{ limit: number; offset: number }, Selectable<SessionsTable>>;
  /** Sessions newest first by creation, from the newest, with their key (`order_at`). */
  created: ScopedStatement<{ limit: number }, SessionsRowWithKey>;
  /** The same, after a position. */
  createdAfter: ScopedStatement<{ limit: number; at: StoredTimestamp; id: string }, SessionsRowWithKey>;
}

/** A listing's `where.metadata` with the dialect's plan for it. */
interface PlannedFilter {
  metadata: Metadata;
  plan: unknown;
}

/** The statements of `_addMessage`, one per shape. */
interface AddMessageStatements {
  touch: CompiledStatement<{ sessionId: string; at: StoredTimestamp }>;
  touchOwned: CompiledStatement<{ sessionId: string; at: StoredTimestamp; ownerId: string }>;
  insert: CompiledStatement<{
    id: string;
    sessionId: string;
    role: string;
    content: string;
    at: StoredTimestamp;
    metadata: StoredJson;
    payload: string | null;
    format: string | null;
    digest: string;
  }>;
  /** The stored message of that id in that session, to tell an idempotent retry from a conflict. */
  stored: CompiledStatement<{ sessionId: string; id: string }>;
}

/** Thrown inside `_addMessage`'s transaction to roll its session update back when the message is already stored. */
const ALREADY_STORED = Symbol('already stored');

/**
 * The contract written once for every SQL backend, against the shared {@link Database} type and a
 * {@link SqlDialect} value: every hook of {@link BaseConversationMemory}, the derived ones as single queries,
 * the search skeleton (execute, map errors, build hits), `check()` and error mapping. A backend package builds
 * its dialect and its Kysely instance, and adds only its connection handling: what closing releases (`_close`,
 * default destroying the Kysely instance), and optionally how a write transaction starts (`writeTransaction`,
 * e.g. `BEGIN IMMEDIATE` on SQLite) and a leaner transaction for the writes that run compiled statements only
 * (`writeCompiled`: `addMessage` and the history edits).
 */
export class SqlConversationMemory extends BaseConversationMemory {
  /** The query builder every shared query runs on. */
  protected readonly db: Kysely<Database>;
  /** The SQL dialect. */
  protected readonly dialect: SqlDialect;
  /** The dialect's codecs. */
  protected readonly codecs: SqlCodecs;
  readonly #capabilities: MemoryCapabilities;
  readonly #readOnly: boolean;
  #addMessageStatements: AddMessageStatements | undefined;
  #readStatements: ReadStatements | undefined;
  #edit: EditContext | undefined;

  constructor(options: SqlMemoryOptions) {
    super(options);
    this.dialect = options.dialect;
    this.codecs = options.dialect.codecs;
    this.db = options.db;
    this.#readOnly = options.readOnly ?? false;
    this.#capabilities = Object.freeze({
      ...super.capabilities,
      metadataFilter: options.dialect.metadataFilter !== undefined,
      fullTextSearch: options.dialect.search !== undefined,
      // Contract 1.1, written once here for every dialect (`history-editing.ts`, `session-updates.ts`,
      // `purge.ts`) on schema version 7's columns.
      structuredMessages: true,
      historyEditing: true,
      sessionUpdates: true,
      retention: true,
    });
  }

  /** What the dialect has: `metadataFilter` with its filter, `fullTextSearch` with its search. */
  override get capabilities(): MemoryCapabilities {
    return this.#capabilities;
  }

  /**
   * What the shared editing statements (`history-editing.ts`, `session-updates.ts`, `purge.ts`) need; made on
   * first use (its statements are compiled then) and kept.
   */
  #editContext(): EditContext {
    if (this.#edit === undefined) {
      const rowLocks = this.dialect.rowLocks ?? true;
      this.#edit = {
        codecs: this.codecs,
        orderKey: this.#orderKey('messages'),
        countsByTriggers: this.dialect.activityKeptByTriggers ?? false,
        rowLocks,
        writesInWith: this.dialect.writesInWith ?? false,
        statements: compileEditStatements(this.db, rowLocks),
      };
    }
    return this.#edit;
  }

  protected override async _upsertMessages(request: UpsertRequest, scope: Scope): Promise<UpsertResult> {
    this.#writable();
    return this.writeCompiled((run) =>
      upsertMessages({ run, db: this.db }, this.#editContext(), request, scope),
    );
  }

  protected override async _rewriteHistory(request: RewriteRequest, scope: Scope): Promise<RewriteResult> {
    this.#writable();
    return this.writeCompiled((run) =>
      rewriteHistory({ run, db: this.db }, this.#editContext(), request, scope),
    );
  }

  protected override async _deleteMessages(
    sessionId: string,
    ids: readonly string[],
    now: Date,
    scope: Scope,
  ): Promise<number> {
    this.#writable();
    return this.writeCompiled((run) =>
      deleteMessages({ run, db: this.db }, this.#editContext(), sessionId, ids, now, scope),
    );
  }

  protected override async _popMessage(
    sessionId: string,
    now: Date,
    scope: Scope,
  ): Promise<MessageRow | null> {
    this.#writable();
    return this.writeCompiled((run) =>
      popMessage({ run, db: this.db }, this.#editContext(), sessionId, now, scope),
    );
  }

  protected override _readDigests(sessionId: string, scope: Scope): Promise<MessageDigest[]> {
    return readDigests(this.db, this.#editContext(), sessionId, scope);
  }

  protected override async _updateSession(
    sessionId: string,
    update: SessionUpdate,
    scope: Scope,
  ): Promise<Session | null> {
    this.#writable();
    return this.writeTransaction((trx) => updateSession(trx, this.#editContext(), sessionId, update, scope));
  }

  protected override async _purgeBatch(batch: PurgeBatch, scope: Scope): Promise<PurgeBatchResult> {
    this.#writable();
    const ctx = this.#editContext();
    // Once per purge, before its first batch and outside any write transaction (a read holds no write lock).
    const beyond =
      batch.after === null && this.dialect.textTimestamps
        ? await unreadableAfterCutoff(this.db, ctx, batch.inactiveBefore, scope)
        : 0;
    let held = 0;
    const result = await this.writeTransaction((trx) => {
      held = performance.now();
      return purgeBatch(trx, ctx, batch, scope);
    });
    if (!ctx.rowLocks && result.next !== null) await purgePause(performance.now() - held);
    return beyond === 0 ? result : { ...result, unreadable: result.unreadable + beyond };
  }

  /** Runs `work` in a transaction that writes; the default is Kysely's transaction. */
  protected writeTransaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /**
   * Runs `work`, which runs compiled statements only (compiled once per store, or built and compiled on
   * {@link db} for the call), in a transaction that writes: `addMessage` and the history edits. The default runs
   * them in {@link writeTransaction}; a backend may drive one connection itself instead (a Kysely transaction
   * builds a query executor and a `Transaction` per call), with the same begin, commit, rollback and error
   * semantics as its `writeTransaction`.
   */
  protected writeCompiled<T>(work: (run: RunCompiled) => Promise<T>): Promise<T> {
    return this.writeTransaction((trx) => work((query) => trx.executeQuery(query)));
  }

  /** Refuses a write on a store opened read-only. */
  #writable(): void {
    if (this.#readOnly) {
      throw new ReadOnlyError(`${this.dialect.location} was opened read-only; nothing was written`);
    }
  }

  /** The dialect's migrations. */
  protected override _init(): Promise<void> {
    return this.dialect.migrate();
  }

  /** Destroys the Kysely instance; a backend whose connection outlives it releases that too. */
  protected async _close(): Promise<void> {
    await this.db.destroy();
  }

  protected override _mapError(error: unknown): MemoryError {
    return this.dialect.mapError(error, 'operation');
  }

  protected override _describeLocation(): { backend: string; location: string } {
    return { backend: this.dialect.name, location: this.dialect.location };
  }

  protected override async _check(scope: Scope): Promise<StoreHealth> {
    const { serverVersion, schemaVersion } = await this.dialect.health();
    const counts = await this.#countRows(scope);
    return { ...this._describeLocation(), reachable: true, serverVersion, schemaVersion, ...counts };
  }

  protected async _createSession(record: SessionRecord, _scope: Scope): Promise<void> {
    this.#writable();
    const at = dateToIsoMicros(record.createdAt);
    const row = sessionRow({ ...record, createdAt: at, updatedAt: at }, this.codecs);
    await this.writeTransaction(async (trx) => {
      // In the writing transaction, so that no other writer slips orphans in between: an id that orphan messages
      // (legacy rows whose session is gone) still reference is not free, or the new session would adopt them.
      if ((await this.#orphanedIds(trx, [record.id])) !== undefined) {
        throw new ConflictError('session', record.id, ORPHANS_REFERENCE_IT);
      }
      const result = await this.dialect
        .ignoreDuplicates(trx.insertInto('sessions').values(row))
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new ConflictError('session', record.id);
    });
  }

  protected async _addMessage(record: MessageRecord, scope: Scope, encoded: EncodedMessage): Promise<void> {
    this.#writable();
    const at = this.codecs.encodeTimestamp(dateToIsoMicros(record.createdAt));
    this.#addMessageStatements ??= this.#compileAddMessage();
    const statements = this.#addMessageStatements;
    const touch =
      scope.ownerId === null
        ? statements.touch({ sessionId: record.sessionId, at })
        : statements.touchOwned({ sessionId: record.sessionId, at, ownerId: scope.ownerId });
    const insert = statements.insert({
      id: record.id,
      sessionId: record.sessionId,
      role: record.role,
      content: record.content,
      at,
      metadata: this.codecs.encodeMetadata(record.metadata),
      payload: encoded.payloadJson,
      format: record.format ?? null,
      digest: encoded.digest,
    });
    try {
      await this.writeCompiled(async (run) => {
        // The session row is updated first: it proves the session exists in scope and, on PostgreSQL, locks it
        // so that concurrent writers to one session commit in the order their sequence numbers were drawn.
        const updated = await run(touch);
        if (Number(updated.numAffectedRows ?? 0) === 0) throw new SessionNotFoundError(record.sessionId);
        const inserted = await run(insert);
        if (Number(inserted.numAffectedRows ?? 0) > 0) return;
        // Message ids are unique per session (schema version 7): the id is taken in this session. The same
        // message again (a retry whose first commit was unknown) resolves to it, writing nothing: the session
        // update is rolled back. Another message under that id is a conflict.
        const { rows } = await run(statements.stored({ sessionId: record.sessionId, id: record.id }));
        const row = rows[0] as Parameters<typeof storedDigest>[0] | undefined;
        if (row !== undefined && storedDigest(row, this.codecs) === encoded.digest) throw ALREADY_STORED;
        throw new ConflictError('message', record.id);
      });
    } catch (error) {
      if (error !== ALREADY_STORED) throw error;
    }
  }

  /** `_addMessage`'s statements, compiled on first use. */
  #compileAddMessage(): AddMessageStatements {
    const byTriggers = this.dialect.activityKeptByTriggers ?? false;
    const touch = (p: { sessionId: string; at: StoredTimestamp }) =>
      this.db
        .updateTable('sessions')
        .set((eb) =>
          byTriggers
            ? { updated_at: p.at }
            : { updated_at: p.at, last_message_at: p.at, message_count: eb('message_count', '+', 1) },
        )
        .where('id', '=', p.sessionId);
    return {
      touch: compileOnce(touch),
      touchOwned: compileOnce((p) => touch(p).where('owner_id', '=', p.ownerId)),
      insert: compileOnce((p) =>
        this.dialect.ignoreDuplicates(
          this.db.insertInto('messages').values({
            id: p.id,
            session_id: p.sessionId,
            role: p.role,
            content: p.content,
            created_at: p.at,
            metadata: p.metadata,
            payload: p.payload,
            format: p.format,
            digest: p.digest,
          }),
        ),
      ),
      stored: compileOnce((p) =>
        this.db
          .selectFrom('messages')
          .select(['role', 'content', 'metadata', 'format', 'payload', 'digest'])
          .where('session_id', '=', p.sessionId)
          .where('id', '=', p.id),
      ),
    };
  }

  /**
   * A fast path, compiled once: all rows oldest first, or the last `limit` newest first then reversed, without
   * positions.
   */
  protected override async _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]> {
    const reads = this.#reads();
    if (limit === undefined) {
      const { rows } = await this.db.executeQuery(reads.history(scope, { sessionId }));
      return rows.map((row) => toMessage(row, this.codecs));
    }
    const { rows } = await this.db.executeQuery(reads.latest(scope, { sessionId, limit }));
    const messages = new Array<Message>(rows.length);
    for (let i = 0; i < rows.length; i++) messages[rows.length - 1 - i] = toMessage(rows[i]!, this.codecs);
    return messages;
  }

  /** The hot reads' statements, compiled on first use (the dialect's key goes into their text). */
  #reads(): ReadStatements {
    this.#readStatements ??= this.#compileReads();
    return this.#readStatements;
  }

  #compileReads(): ReadStatements {
    const key = this.#orderKey('messages');
    return {
      history: compileForScope((p: { sessionId: string }, scope) =>
        this.#messagesOf(p.sessionId, scope).orderBy(key, 'asc').orderBy('seq', 'asc'),
      ),
      latest: compileForScope((p: { sessionId: string; limit: number }, scope) =>
        this.#messagesOf(p.sessionId, scope).orderBy(key, 'desc').orderBy('seq', 'desc').limit(p.limit),
      ),
      activity: compileForScope((p: { limit: number; offset: number }, scope) =>
        this.#activityQuery(p.limit, p.offset, scope, undefined),
      ),
      created: compileForScope((p: { limit: number }, scope) =>
        this.#createdQuery(p.limit, null, scope, undefined),
      ),
      createdAfter: compileForScope((p: { limit: number; at: StoredTimestamp; id: string }, scope) =>
        this.#createdQuery(p.limit, p, scope, undefined),
      ),
    };
  }

  protected async _readHistory(read: HistoryRead, scope: Scope): Promise<HistoryRow[]> {
    const rows = await this.#historyRows(read, scope);
    return rows.map((row) => ({ message: toMessage(row, this.codecs), position: this.#positionOf(row) }));
  }

  /** The rows of a history read, with the key they are ordered by (`order_at`). */
  #historyRows(read: HistoryRead, scope: Scope) {
    const key = this.#orderKey('messages');
    const direction = read.order === 'oldest' ? 'asc' : 'desc';
    const beyond = read.order === 'oldest' ? '>' : '<';
    let query = this.#messagesOf(read.sessionId, scope).$if(this.dialect.orderKey !== undefined, (q) =>
      q.select(key.as('order_at')),
    );
    const { from } = read;
    if (from !== null) {
      const at = this.codecs.encodeTimestamp(from.createdAt);
      // `key <= at` (`>=` oldest first) is implied by the OR, but only it lets the index seek to the cursor:
      // without it the database walks the index from the end and filters, and page N costs N pages.
      query = query.where((eb) =>
        eb.and([
          eb(key, `${beyond}=`, at),
          eb.or([eb(key, beyond, at), eb.and([eb(key, '=', at), eb('seq', beyond, from.seq)])]),
        ]),
      );
    }
    query = query.orderBy(key, direction).orderBy('seq', direction);
    return (read.limit === undefined ? query : query.limit(read.limit)).execute();
  }

  /** The cursor holds the key the rows are ordered by, decoded: the instant, in canonical form. */
  #positionOf(row: KeyedRow & { seq: number | bigint | string }): HistoryPosition {
    return { createdAt: this.codecs.decodeTimestamp(this.#keyOf(row)), seq: Number(row.seq) };
  }

  /**
   * The key a row is ordered by, as stored: the dialect's order key, selected as `order_at`, or where the dialect
   * has none, `created_at` itself. Not selecting the same column twice matters on PostgreSQL, where each
   * timestamp the driver reads is parsed into a `Date`: an extra one per row cost a sessions page 10%.
   */
  #keyOf(row: KeyedRow): StoredTimestamp | null {
    return row.order_at ?? row.created_at;
  }

  protected async _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]> {
    if (listing.order === 'created') {
      return (await this.#createdPage(listing.limit, listing.after, scope, listing.where)).map((row) =>
        toSessionSummary(row, this.codecs),
      );
    }
    if (listing.order === 'activity') {
      return this._getSessions(listing.limit, listing.offset, scope, listing.where);
    }
    const rows = await this.#byId(listing.after, listing.limit, listing.ids, scope);
    return rows.map((row) => toSessionSummary(row, this.codecs));
  }

  /** A fast path, compiled once without `where`: most recent activity first. */
  protected override async _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionSummary[]> {
    const rows =
      where?.metadata === undefined
        ? (await this.db.executeQuery(this.#reads().activity(scope, { limit, offset }))).rows
        : await this.#filtered(where, offset + limit, (filter) =>
            this.#activityQuery(limit, offset, scope, filter).execute(),
          );
    return rows.map((row) => toSessionSummary(row, this.codecs));
  }

  /** A fast path: the cursor is the key the rows are ordered by, as stored (legacy SQLite text included). */
  protected override async _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>> {
    const rows = await this.#createdPage(limit + 1, cursor, scope, where);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => toSessionSummary(row, this.codecs)),
      next:
        rows.length > limit && last
          ? { createdAt: this.codecs.decodeTimestamp(this.#keyOf(last)), id: last.id }
          : null,
    };
  }

  /** Sessions newest first by creation, after `cursor`, with the key they are ordered by (`order_at`). */
  async #createdPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionsRowWithKey[]> {
    const after = cursor && { at: this.codecs.encodeTimestamp(cursor.createdAt), id: cursor.id };
    if (where?.metadata === undefined) {
      const reads = this.#reads();
      const query =
        after === null ? reads.created(scope, { limit }) : reads.createdAfter(scope, { limit, ...after });
      return (await this.db.executeQuery(query)).rows;
    }
    return this.#filtered(where, limit, (filter) =>
      this.#createdQuery(limit, after, scope, filter).execute(),
    );
  }

  /** Sessions of `scope` (matching `filter`) by most recent activity, `limit` after `offset`. */
  #activityQuery(limit: number, offset: number, scope: Scope, filter: PlannedFilter | undefined) {
    return this.#sessionsIn(this.db, scope, filter)
      .selectAll()
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset);
  }

  /** Sessions of `scope` (matching `filter`) newest first by creation after `after`, with their key. */
  #createdQuery(
    limit: number,
    after: { at: StoredTimestamp; id: string } | null,
    scope: Scope,
    filter: PlannedFilter | undefined,
  ) {
    const key = this.#orderKey('sessions');
    let query = this.#sessionsIn(this.db, scope, filter)
      .selectAll()
      .$if(this.dialect.orderKey !== undefined, (q) => q.select(key.as('order_at')));
    if (after !== null) query = query.where((eb) => this.#keysetBefore(eb, key, after.at, after.id));
    return query.orderBy(key, 'desc').orderBy('id', 'desc').limit(limit);
  }

  /** Sessions of `scope` by id, after `afterId`, at most `limit`; only `sessionIds` when given. */
  async #byId(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ) {
    if (sessionIds?.length === 0) return [];
    let query = this.#sessionsIn(this.db, scope).selectAll().orderBy('id', 'asc').limit(limit);
    if (afterId !== null) query = query.where('id', '>', afterId);
    if (sessionIds) query = query.where('id', 'in', sessionIds);
    return query.execute();
  }

  protected async _getSession(sessionId: string, scope: Scope): Promise<Session | null> {
    const row = await this.#sessionsIn(this.db, scope)
      .selectAll()
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row ? toSession(row, this.codecs) : null;
  }

  protected async _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean> {
    this.#writable();
    let update = this.db
      .updateTable('sessions')
      .set({ title, updated_at: this.codecs.encodeTimestamp(dateToIsoMicros(updatedAt)) })
      .where('id', '=', sessionId);
    if (scope.ownerId !== null) update = update.where('owner_id', '=', scope.ownerId);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  protected async _deleteSession(sessionId: string, scope: Scope): Promise<boolean> {
    this.#writable();
    return this.writeTransaction(async (trx) => {
      let remove = trx.deleteFrom('sessions').where('id', '=', sessionId);
      if (scope.ownerId !== null) remove = remove.where('owner_id', '=', scope.ownerId);
      const result = await remove.executeTakeFirst();
      const existed = Number(result.numDeletedRows) > 0;
      // Explicit, not left to ON DELETE CASCADE: legacy SQLite files may not enforce the foreign key. Only the
      // messages of the session deleted: orphans of that id (legacy rows whose session was already gone) are
      // never deleted as a side effect of a delete that answers "not found".
      if (existed) await trx.deleteFrom('messages').where('session_id', '=', sessionId).execute();
      return existed;
    });
  }

  /** One statement per table instead of the derived batches. */
  protected override async _clearAll(scope: Scope): Promise<void> {
    this.#writable();
    await this.writeTransaction(async (trx) => {
      if (scope.ownerId === null) {
        await trx.deleteFrom('messages').execute();
        await trx.deleteFrom('sessions').execute();
        return;
      }
      const owned = this.#sessionsIn(trx, scope).select('id');
      await trx.deleteFrom('messages').where('session_id', 'in', owned).execute();
      await trx.deleteFrom('sessions').where('owner_id', '=', scope.ownerId).execute();
    });
  }

  /** Overridden to export the timestamps as stored, to the microsecond (a summary holds milliseconds). */
  protected override async _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ): Promise<PortableSession[]> {
    const rows = await this.#byId(afterId, limit, sessionIds, scope);
    return rows.map((row) => toPortableSession(row, this.codecs));
  }

  /** Overridden to export the timestamps as stored, to the microsecond (a `Message` holds milliseconds). */
  protected override async _exportMessages(
    sessionId: string,
    after: HistoryPosition | null,
    limit: number,
    scope: Scope,
  ): Promise<PageRows<PortableMessage, HistoryPosition>> {
    const rows = await this.#historyRows({ sessionId, order: 'oldest', from: after, limit }, scope);
    const last = rows[rows.length - 1];
    return {
      items: rows.map((row) => toPortableMessage(row, this.codecs)),
      next: rows.length === limit && last ? this.#positionOf(last) : null,
    };
  }

  protected async _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult> {
    this.#writable();
    return this.writeTransaction(async (trx) => {
      // A session id that orphan messages reference is refused as in createSession: importing it would hand
      // them to the imported session.
      for (const part of chunks(sessions, ROWS_PER_INSERT)) {
        const orphaned = await this.#orphanedIds(
          trx,
          part.map((s) => s.id),
        );
        if (orphaned !== undefined) {
          throw new ConflictError('session', orphaned, ORPHANS_REFERENCE_IT);
        }
      }
      const sessionsWritten = await insertAll(
        sessions.map((session) => sessionRow(session, this.codecs)),
        (rows) => this.dialect.ignoreDuplicates(trx.insertInto('sessions').values(rows)),
      );
      // Checked after the sessions are written, so a message may name a session of the same batch; a session of
      // another owner is invisible here, so its messages are refused rather than slipped in.
      const targets = [...new Set(messages.map((m) => m.sessionId))];
      const found = new Set<string>();
      for (const ids of chunks(targets, ROWS_PER_INSERT)) {
        const rows = await this.#sessionsIn(trx, scope).select('id').where('id', 'in', ids).execute();
        for (const row of rows) found.add(row.id);
      }
      const missing = targets.find((id) => !found.has(id));
      if (missing !== undefined) throw new SessionNotFoundError(missing);
      const messagesWritten = await insertAll(
        messages.map((message) => messageRow(message, this.codecs)),
        (rows) => this.dialect.ignoreDuplicates(trx.insertInto('messages').values(rows)),
      );
      if (messagesWritten > 0) {
        for (const ids of chunks(targets, ROWS_PER_INSERT)) await recountSessions(trx, ids);
      }
      return {
        sessions: { written: sessionsWritten, skipped: sessions.length - sessionsWritten },
        messages: { written: messagesWritten, skipped: messages.length - messagesWritten },
      };
    });
  }

  /** The first of `ids` that no session has and orphan messages reference, if any. */
  async #orphanedIds(db: Db, ids: readonly string[]): Promise<string | undefined> {
    const row = await db
      .selectFrom('messages')
      .select('session_id')
      .where('session_id', 'in', ids)
      .where(isOrphan)
      .limit(1)
      .executeTakeFirst();
    return row?.session_id;
  }

  /**
   * Counts the sessions and messages of `scope`; unscoped, also the orphan messages among them (their session
   * is gone: only legacy SQLite files can hold them, and no owner view sees them); for `check()`.
   */
  async #countRows(scope: Scope): Promise<{ sessions: number; messages: number; orphanMessages?: number }> {
    const count = (eb: ExpressionBuilder<Database, keyof Database>) =>
      eb.fn.countAll<number | string>().as('n');
    if (scope.ownerId !== null) {
      const [sessions, messages] = await Promise.all([
        this.#sessionsIn(this.db, scope).select(count).executeTakeFirstOrThrow(),
        this.db
          .selectFrom('messages')
          .where('session_id', 'in', this.#sessionsIn(this.db, scope).select('id'))
          .select(count)
          .executeTakeFirstOrThrow(),
      ]);
      return { sessions: Number(sessions.n), messages: Number(messages.n) };
    }
    const [sessions, messages, orphans] = await Promise.all([
      this.db.selectFrom('sessions').select(count).executeTakeFirstOrThrow(),
      this.db.selectFrom('messages').select(count).executeTakeFirstOrThrow(),
      this.db.selectFrom('messages').where(isOrphan).select(count).executeTakeFirstOrThrow(),
    ]);
    return { sessions: Number(sessions.n), messages: Number(messages.n), orphanMessages: Number(orphans.n) };
  }

  /** The search skeleton: the dialect's statement, run, its errors mapped (phase `search`), hits built. */
  protected override async _searchMessages(
    terms: readonly SearchTerm[],
    request: SearchRequest,
    scope: Scope,
  ): Promise<SearchHit[]> {
    const search = this.dialect.search;
    if (search === undefined) throw new UnsupportedCapabilityError('fullTextSearch');
    const query = search.query(terms, {
      ...request,
      sessionIds: this.#sessionsIn(this.db, scope).select('id'),
      ownerScoped: scope.ownerId !== null,
    });
    let rows: SqlSearchRow[];
    try {
      ({ rows } = await query.execute(this.db));
    } catch (error) {
      throw this.dialect.mapError(error, 'search');
    }
    return rows.map((row) => {
      const message = toMessage(row, this.codecs);
      return { message, rank: Number(row.score), snippet: search.snippet(row, message.content, terms) };
    });
  }

  /** The dialect's key of `table`'s time order (see {@link SqlDialect.orderKey}). */
  #orderKey(table: 'messages' | 'sessions'): RawBuilder<StoredTimestamp> {
    return this.dialect.orderKey?.(table) ?? sql<StoredTimestamp>`${sql.ref('created_at')}`;
  }

  /** The dialect's keyset condition (see {@link SqlDialect.keysetBefore}). */
  #keysetBefore(
    eb: ExpressionBuilder<Database, 'sessions'>,
    key: RawBuilder<StoredTimestamp>,
    at: StoredTimestamp,
    id: string,
  ) {
    return (this.dialect.keysetBefore ?? rowComparisonBefore)(eb, key, at, id);
  }

  /**
   * Runs a listing's query, with the dialect's plan for `where.metadata` (for a listing that needs `window`
   * matching rows) when filtered; errors of a filtered listing go through the dialect's `filter` phase.
   */
  async #filtered<T>(
    where: SessionFilter | undefined,
    window: number,
    run: (filter: PlannedFilter | undefined) => Promise<T>,
  ): Promise<T> {
    const metadata = where?.metadata;
    if (metadata === undefined) return run(undefined);
    try {
      const plan = await this.#metadataFilter().plan?.(this.db, metadata, window);
      return await run({ metadata, plan });
    } catch (error) {
      throw this.dialect.mapError(error, 'filter');
    }
  }

  #metadataFilter(): SqlMetadataFilter {
    const filter = this.dialect.metadataFilter;
    if (filter === undefined) throw new UnsupportedCapabilityError('metadataFilter');
    return filter;
  }

  /** Sessions visible in `scope`, and matching `filter` when given. */
  #sessionsIn(db: Db, scope: Scope, filter?: PlannedFilter): SelectQueryBuilder<Database, 'sessions', {}> {
    let query = db.selectFrom('sessions');
    if (scope.ownerId !== null) query = query.where('owner_id', '=', scope.ownerId);
    if (filter !== undefined) {
      const { where } = this.#metadataFilter();
      query = query.where((eb) => where(eb, filter.metadata, filter.plan));
    }
    return query;
  }

  #messagesOf(sessionId: string, scope: Scope) {
    let query = this.db.selectFrom('messages').selectAll().where('session_id', '=', sessionId);
    if (scope.ownerId !== null) {
      query = query.where(
        'session_id',
        'in',
        this.#sessionsIn(this.db, scope).select('id').where('id', '=', sessionId),
      );
    }
    return query;
  }
}

/**
 * The pause after a purge batch that held a database-wide write lock (`rowLocks` false: SQLite's `BEGIN
 * IMMEDIATE`) for `heldMs`, before the next batch takes it again: twice the time held, 5 to 200 ms. SQLite has no
 * queue of waiting writers: another connection polls for the lock (every 1 to 10 ms in this library's driver),
 * and batches that follow each other within microseconds would keep it out until the purge ends. With the lock
 * free two thirds of the time, a concurrent write seldom waits, and never for more than a batch. A purge takes
 * about three times as long as it would back to back; it is a background task. Row locks (PostgreSQL) lock only
 * the idle sessions, which nothing else writes, so there the batches follow each other at once.
 */
function purgePause(heldMs: number): Promise<void> {
  const ms = Math.min(200, Math.max(5, 2 * heldMs));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Recomputes `message_count` and `last_message_at` of the given sessions from their messages: after a bulk
 * import, and after upgrading a legacy file, whose sessions had no such columns.
 */
export async function recountSessions(db: Db, sessionIds: readonly string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await db
    .updateTable('sessions')
    .set((eb) => ({
      message_count: eb
        .selectFrom('messages')
        .select((m) => m.fn.countAll<number>().as('n'))
        .whereRef('messages.session_id', '=', 'sessions.id'),
      last_message_at: eb
        .selectFrom('messages')
        .select((m) => m.fn.max('messages.created_at').as('t'))
        .whereRef('messages.session_id', '=', 'sessions.id'),
    }))
    .where('id', 'in', sessionIds)
    .execute();
}

/** The message's session is gone: an orphan, which only legacy SQLite files can hold. */
function isOrphan(eb: ExpressionBuilder<Database, 'messages'>) {
  return eb.not(
    eb.exists(eb.selectFrom('sessions').select('id').whereRef('sessions.id', '=', 'messages.session_id')),
  );
}

/**
 * Inserts `rows` in statements of {@link ROWS_PER_INSERT}, each built by `insert` (which skips duplicates), and
 * returns how many were written.
 */
async function insertAll<R>(
  rows: readonly R[],
  insert: (rows: R[]) => { executeTakeFirst(): Promise<InsertResult> },
): Promise<number> {
  let written = 0;
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    const result = await insert(part).executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return written;
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
