import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type RawBuilder,
  type SelectQueryBuilder,
  type SqlBool,
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
  type PageRows,
  type Scope,
  type SessionListing,
  type SessionRecord,
} from '../base-memory.js';
import type { HistoryPosition, SessionPosition } from '../cursor.js';
import { ConflictError, SessionNotFoundError, UnsupportedCapabilityError } from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession } from '../portable.js';
import { dateToIsoMicros } from '../timestamp.js';
import type { Message, Metadata, Session, SessionFilter, SessionSummary } from '../types.js';
import { digestOf } from '../validation.js';
import type { SqlCodecs } from './codecs.js';
import { type CompiledStatement, compileOnce, type RunCompiled } from './compiled-statement.js';
import type { Database, StoredJson, StoredTimestamp } from './database.js';
import {
  storedDigest,
  toMessage,
  toPortableMessage,
  toPortableSession,
  toSession,
  toSessionSummary,
} from './rows.js';

/** Why a session id that no session has is still refused. */
const ORPHANS_REFERENCE_IT =
  'is still referenced by orphan messages (their session was deleted); a new session would adopt them ' +
  '(see check().orphanMessages)';

/** Rows per multi-row INSERT: 1000 x 10 parameters stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 1000;

/** What a SQL backend hands to the shared query code. */
export interface SqlMemoryOptions extends BaseMemoryOptions {
  /** The dialect's timestamp and metadata codecs. */
  codecs: SqlCodecs;
  /**
   * The query builder every shared query runs on. Given to the constructor, so it is there before any hook
   * runs; its dialect may open the connection lazily (on first query) from state the subclass sets later.
   */
  db: Kysely<Database>;
}

type Db = Kysely<Database> | Transaction<Database>;

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
 * The contract written once for every SQL backend, against the shared {@link Database} type: every required
 * hook of {@link BaseConversationMemory}, and the derived ones as single queries. A backend supplies the
 * Kysely instance and its codecs (to the constructor), its schema setup (`_init`), how a write transaction
 * starts (`writeTransaction`, e.g. `BEGIN IMMEDIATE` on SQLite), how its driver's errors map to contract errors
 * (`_mapError`), its health report (`_check`, usually with {@link countRows}), its name and location
 * (`_describeLocation`) and what closing releases (`_close`); optionally its metadata filter
 * (`metadataFilter`, and `metadataFilterError` for the errors a filter can cause) and a leaner transaction for
 * the statements compiled once (`writeCompiled`).
 */
export abstract class SqlConversationMemory extends BaseConversationMemory {
  /** The query builder every shared query runs on. */
  protected readonly db: Kysely<Database>;
  /** The dialect's codecs. */
  protected readonly codecs: SqlCodecs;
  #addMessageStatements: AddMessageStatements | undefined;

  constructor(options: SqlMemoryOptions) {
    super(options);
    this.codecs = options.codecs;
    this.db = options.db;
  }

  /**
   * True when the database itself keeps `sessions.message_count` and `last_message_at` (SQLite: triggers on
   * `messages`, so that other programs writing the file keep them exact too): `addMessage` then only sets the
   * session's `updated_at`, and nothing is counted twice. Default false: `addMessage` sets all three.
   */
  protected get activityKeptByTriggers(): boolean {
    return false;
  }

  /** Runs `work` in a transaction that writes; the default is Kysely's transaction. */
  protected writeTransaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /**
   * Runs `work`, which only runs statements compiled beforehand, in a transaction that writes. The default runs
   * them in {@link writeTransaction}; a backend may drive one connection itself instead (a Kysely transaction
   * builds a query executor and a `Transaction` per call), with the same begin, commit, rollback and error
   * semantics as its `writeTransaction`.
   */
  protected writeCompiled<T>(work: (run: RunCompiled) => Promise<T>): Promise<T> {
    return this.writeTransaction((trx) => work((query) => trx.executeQuery(query)));
  }

  protected async _createSession(record: SessionRecord, _scope: Scope): Promise<void> {
    const at = this.codecs.encodeTimestamp(dateToIsoMicros(record.createdAt));
    await this.writeTransaction(async (trx) => {
      // In the writing transaction, so that no other writer slips orphans in between: an id that orphan messages
      // (legacy rows whose session is gone) still reference is not free, or the new session would adopt them.
      if ((await this.#orphanedIds(trx, [record.id])) !== undefined) {
        throw new ConflictError('session', record.id, ORPHANS_REFERENCE_IT);
      }
      const result = await trx
        .insertInto('sessions')
        .values({
          id: record.id,
          title: record.title,
          created_at: at,
          updated_at: at,
          metadata: this.codecs.encodeMetadata(record.metadata),
          // Only named when set, so the statement stays the same as the original schema's for unowned sessions.
          ...(record.ownerId === null ? {} : { owner_id: record.ownerId }),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new ConflictError('session', record.id);
    });
  }

  protected async _addMessage(record: MessageRecord, scope: Scope, encoded: EncodedMessage): Promise<void> {
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

  /** `_addMessage`'s statements; compiled on first use, since `activityKeptByTriggers` is the subclass's. */
  #compileAddMessage(): AddMessageStatements {
    const byTriggers = this.activityKeptByTriggers;
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
        this.db
          .insertInto('messages')
          .values({
            id: p.id,
            session_id: p.sessionId,
            role: p.role,
            content: p.content,
            created_at: p.at,
            metadata: p.metadata,
            payload: p.payload,
            format: p.format,
            digest: p.digest,
          })
          .onConflict((conflict) => conflict.columns(['session_id', 'id']).doNothing()),
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

  /** A fast path: all rows oldest first, or the last `limit` newest first then reversed, without positions. */
  protected override async _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]> {
    const query = this.#messagesOf(sessionId, scope);
    const key = this.orderKey('messages');
    if (limit === undefined) {
      const rows = await query.orderBy(key, 'asc').orderBy('seq', 'asc').execute();
      return rows.map((row) => toMessage(row, this.codecs));
    }
    const rows = await query.orderBy(key, 'desc').orderBy('seq', 'desc').limit(limit).execute();
    return rows.reverse().map((row) => toMessage(row, this.codecs));
  }

  protected async _readHistory(read: HistoryRead, scope: Scope): Promise<HistoryRow[]> {
    const rows = await this.#historyRows(read, scope);
    return rows.map((row) => ({ message: toMessage(row, this.codecs), position: this.#positionOf(row) }));
  }

  /** The rows of a history read, with the key they are ordered by (`order_at`). */
  #historyRows(read: HistoryRead, scope: Scope) {
    const key = this.orderKey('messages');
    const direction = read.order === 'oldest' ? 'asc' : 'desc';
    const beyond = read.order === 'oldest' ? '>' : '<';
    let query = this.#messagesOf(read.sessionId, scope).select(key.as('order_at'));
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
  #positionOf(row: { order_at: StoredTimestamp; seq: number | bigint | string }): HistoryPosition {
    return { createdAt: this.codecs.decodeTimestamp(row.order_at), seq: Number(row.seq) };
  }

  protected async _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]> {
    if (listing.order === 'created') {
      return (await this.#createdPage(listing.limit, listing.after, scope, listing.where)).map((row) =>
        toSessionSummary(row, this.codecs),
      );
    }
    const rows =
      listing.order === 'activity'
        ? await this.#filtered(listing.where, () =>
            this.#sessionsIn(this.db, scope, listing.where)
              .selectAll()
              .orderBy('updated_at', 'desc')
              .orderBy('id', 'desc')
              .limit(listing.limit)
              .offset(listing.offset)
              .execute(),
          )
        : await this.#byId(listing.after, listing.limit, listing.ids, scope);
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
          ? { createdAt: this.codecs.decodeTimestamp(last.order_at), id: last.id }
          : null,
    };
  }

  /** Sessions newest first by creation, after `cursor`, with the key they are ordered by (`order_at`). */
  #createdPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    const key = this.orderKey('sessions');
    return this.#filtered(where, () => {
      let query = this.#sessionsIn(this.db, scope, where).selectAll().select(key.as('order_at'));
      if (cursor !== null) {
        const at = this.codecs.encodeTimestamp(cursor.createdAt);
        // A row comparison, not `created_at < $1 OR (created_at = $1 AND id < $2)`: both PostgreSQL and SQLite
        // turn it into the start of an index range on `(created_at DESC, id DESC)` (or `(owner_id, created_at
        // DESC, id DESC)`), while PostgreSQL applies the OR form as a filter to every row before the cursor, so a
        // page deep in the listing cost as much as an offset.
        // The redundant `key <= at` serves SQLite, whose key is an expression: it seeks its expression index
        // on a plain comparison but not on a row comparison holding the expression.
        query = query.where((eb) =>
          eb.and([eb(key, '<=', at), eb(eb.tuple(key, eb.ref('id')), '<', eb.tuple(at, cursor.id))]),
        );
      }
      return query.orderBy(key, 'desc').orderBy('id', 'desc').limit(limit).execute();
    });
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
    let update = this.db
      .updateTable('sessions')
      .set({ title, updated_at: this.codecs.encodeTimestamp(dateToIsoMicros(updatedAt)) })
      .where('id', '=', sessionId);
    if (scope.ownerId !== null) update = update.where('owner_id', '=', scope.ownerId);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  protected async _deleteSession(sessionId: string, scope: Scope): Promise<boolean> {
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
    const { encodeTimestamp, encodeMetadata } = this.codecs;
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
      let sessionsWritten = 0;
      for (const part of chunks(sessions, ROWS_PER_INSERT)) {
        const result = await trx
          .insertInto('sessions')
          .values(
            part.map((s) => ({
              id: s.id,
              title: s.title,
              created_at: encodeTimestamp(s.createdAt),
              updated_at: encodeTimestamp(s.updatedAt),
              metadata: encodeMetadata(s.metadata),
              ...(s.ownerId === null ? {} : { owner_id: s.ownerId }),
            })),
          )
          .onConflict((conflict) => conflict.column('id').doNothing())
          .executeTakeFirst();
        sessionsWritten += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
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
      let messagesWritten = 0;
      for (const part of chunks(messages, ROWS_PER_INSERT)) {
        const result = await trx
          .insertInto('messages')
          .values(
            part.map((m) => {
              const payload =
                m.payload === undefined || m.payload === null ? null : JSON.stringify(m.payload);
              const format = m.format ?? null;
              return {
                id: m.id,
                session_id: m.sessionId,
                role: m.role,
                content: m.content,
                created_at: encodeTimestamp(m.createdAt),
                metadata: encodeMetadata(m.metadata),
                payload,
                format,
                digest: digestOf(m.role, m.content, m.metadata, format, payload),
              };
            }),
          )
          .onConflict((conflict) => conflict.columns(['session_id', 'id']).doNothing())
          .executeTakeFirst();
        messagesWritten += Number(result.numInsertedOrUpdatedRows ?? 0);
      }
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
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('sessions').select('id').whereRef('sessions.id', '=', 'messages.session_id'),
          ),
        ),
      )
      .limit(1)
      .executeTakeFirst();
    return row?.session_id;
  }

  /**
   * Counts the sessions and messages of `scope`; unscoped, also the orphan messages among them (their session
   * is gone: only legacy SQLite files can hold them, and no owner view sees them); for `check()`.
   */
  protected async countRows(
    scope: Scope,
  ): Promise<{ sessions: number; messages: number; orphanMessages?: number }> {
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
      this.db
        .selectFrom('messages')
        .where((eb) =>
          eb.not(
            eb.exists(
              eb.selectFrom('sessions').select('id').whereRef('sessions.id', '=', 'messages.session_id'),
            ),
          ),
        )
        .select(count)
        .executeTakeFirstOrThrow(),
    ]);
    return { sessions: Number(sessions.n), messages: Number(messages.n), orphanMessages: Number(orphans.n) };
  }

  /**
   * The stored value `table`'s rows are listed by, in time order (history, history pages and exports for
   * `messages`, with `seq` after it; sessions pages for `sessions`, with `id` after it). Its text order must
   * be the order of the instants `codecs.decodeTimestamp` reads it as. The default is the `created_at` column,
   * right for a timestamp type; a dialect whose column may hold text in several forms (legacy SQLite) returns
   * an expression with a canonical sort key instead, backed by an index.
   */
  protected orderKey(_table: 'messages' | 'sessions'): RawBuilder<StoredTimestamp> {
    return sql<StoredTimestamp>`${sql.ref('created_at')}`;
  }

  /**
   * The dialect's condition for `where.metadata`: the session's metadata contains `filter` (`jsonb @>`
   * semantics, see core's `jsonContains`). Called only when the backend declares `metadataFilter`; the default
   * refuses.
   */
  protected metadataFilter(
    _eb: ExpressionBuilder<Database, 'sessions'>,
    _filter: Metadata,
  ): Expression<SqlBool> {
    throw new UnsupportedCapabilityError('metadataFilter');
  }

  /**
   * What an error of a listing filtered by `where` becomes: a backend turns the errors a filter can cause (one
   * its database cannot evaluate) into a `ValidationError` on `where.metadata`, and returns any other error
   * as is, for `_mapError`. The default returns every error as is.
   */
  protected metadataFilterError(error: unknown): unknown {
    return error;
  }

  /** Builds and runs a listing's query, its errors going through {@link metadataFilterError} when filtered. */
  async #filtered<T>(where: SessionFilter | undefined, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw where === undefined ? error : this.metadataFilterError(error);
    }
  }

  /** Sessions visible in `scope`, and matching `where` when given. */
  protected sessionsIn(
    db: Db,
    scope: Scope,
    where?: SessionFilter,
  ): SelectQueryBuilder<Database, 'sessions', {}> {
    return this.#sessionsIn(db, scope, where);
  }

  #sessionsIn(db: Db, scope: Scope, where?: SessionFilter): SelectQueryBuilder<Database, 'sessions', {}> {
    let query = db.selectFrom('sessions');
    if (scope.ownerId !== null) query = query.where('owner_id', '=', scope.ownerId);
    const metadata = where?.metadata;
    if (metadata !== undefined) query = query.where((eb) => this.metadataFilter(eb, metadata));
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

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
