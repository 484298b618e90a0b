import { randomUUID } from 'node:crypto';
import { type Clock, monotonic } from './clock.js';
import { CONTRACT_VERSION, type ConversationMemory } from './conversation-memory.js';
import {
  encodeHistoryCursor,
  encodeSearchCursor,
  encodeSessionCursor,
  type HistoryPosition,
  type SessionPosition,
} from './cursor.js';
import {
  MemoryClosedError,
  MemoryError,
  SessionNotFoundError,
  UnsupportedCapabilityError,
  ValidationError,
} from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import { maskSecrets } from './mask.js';
import { OwnerView, type ScopedOperations } from './owner-view.js';
import type {
  ExportOptions,
  ImportOptions,
  ImportResult,
  PortableMessage,
  PortableRecord,
  PortableSession,
  StoreHealth,
} from './portable.js';
import { parseSearchQuery, type SearchTerm } from './search/search-query.js';
import { dateToIsoMicros } from './timestamp.js';
import type {
  HistoryOptions,
  HistoryPageOptions,
  ListSessionsOptions,
  MemoryCapabilities,
  Message,
  Metadata,
  NewMessage,
  NewSession,
  Page,
  SearchHit,
  SearchOptions,
  Session,
  SessionFilter,
  SessionSummary,
  SessionsPageOptions,
} from './types.js';
import {
  assertId,
  assertTitle,
  type ListingView,
  validateExportOptions,
  validateHistoryOptions,
  validateHistoryPageOptions,
  validateImportOptions,
  validateListSessionsOptions,
  validateNewMessage,
  validateNewSession,
  validatePortableRecord,
  validateSearchOptions,
  validateSessionsPageOptions,
} from './validation.js';

/** What `_searchMessages` receives besides the terms. */
export interface SearchRequest {
  sessionId: string | undefined;
  role: string | undefined;
  /** Hits wanted; a backend returns up to this many, best first. */
  limit: number;
  /** Hits to skip, best first. */
  offset: number;
}

/** A session as a backend must store it: validated, with its id and timestamp chosen. */
export interface SessionRecord {
  id: string;
  title: string | null;
  metadata: Metadata;
  /** Creation time; also the initial `updatedAt`. */
  createdAt: Date;
  ownerId: string | null;
}

/** A message as a backend must store it: validated, with its id and timestamp chosen. */
export interface MessageRecord {
  id: string;
  sessionId: string;
  role: string;
  content: string;
  metadata: Metadata;
  createdAt: Date;
}

/**
 * Which sessions an operation may see. `ownerId: null` is the unscoped store, which sees every session; a
 * string restricts every read and write to that owner's sessions, others behaving as if they did not exist.
 */
export interface Scope {
  readonly ownerId: string | null;
}

/** A page as a backend returns it: the items and where the page ended, or `null` when nothing follows. */
export interface PageRows<T, P> {
  items: T[];
  next: P | null;
}

/** A message as an ordered history read returns it: the message and its place in the session's order. */
export interface HistoryRow {
  message: Message;
  /**
   * Where the message sits in its session's order: its `createdAt` (microseconds) and a sequence number
   * that grows with insertion, breaking ties between equal timestamps. Keyset reads continue from it.
   */
  position: HistoryPosition;
}

/**
 * What `_readHistory` reads: a session's messages in one direction from a position, at most `limit`.
 * History order is `createdAt`, then insertion sequence.
 */
export interface HistoryRead {
  sessionId: string;
  /** `'oldest'`: oldest first, after `from`; `'newest'`: newest first, before `from`. */
  order: 'oldest' | 'newest';
  /** Exclusive start; `null` starts at the oldest (`'oldest'`) or newest (`'newest'`) message. */
  from: HistoryPosition | null;
  /** At most this many rows; `undefined` reads to the end. */
  limit: number | undefined;
}

/**
 * What `_listSessions` lists, in one of three orders:
 * - `'activity'`: most recent `updatedAt` first, ties by id descending, skipping `offset`;
 * - `'created'`: newest `createdAt` first, ties by id descending, after the position `after` (exclusive);
 * - `'id'`: by id ascending, after the id `after` (exclusive), only `ids` when given.
 *
 * `where` (activity and creation orders) keeps only the sessions matching the metadata filter; it is passed
 * only when the backend declares `capabilities.metadataFilter`.
 */
export type SessionListing =
  | { order: 'activity'; limit: number; offset: number; where: SessionFilter | undefined }
  | { order: 'created'; limit: number; after: SessionPosition | null; where: SessionFilter | undefined }
  | { order: 'id'; limit: number; after: string | null; ids: readonly string[] | undefined };

/** Options every backend accepts. */
export interface BaseMemoryOptions {
  /**
   * Source of timestamps; default the system clock. Whatever it returns, the store never lets time go
   * backwards (see `monotonic`), and truncates it to milliseconds.
   */
  clock?: Clock;
}

const UNSCOPED: Scope = Object.freeze({ ownerId: null });

const NO_CAPABILITIES: MemoryCapabilities = Object.freeze({ metadataFilter: false, fullTextSearch: false });

/** Records read per page by `exportRecords`, and sessions per batch of the derived `check()` and `clearAll()`. */
const EXPORT_PAGE = 500;

/**
 * The implementor's side of the contract. Public methods validate their arguments, refuse use after `close()`,
 * keep writes to a session in call order, apply the owner scope, and turn any non-contract error into a
 * `MemoryError` through `_mapError`; then they call a protected hook, which receives only valid input.
 *
 * Every hook is a protected method whose name starts with `_`. A backend implements the nine abstract ones
 * (`_createSession`, `_addMessage`, `_readHistory`, `_listSessions`, `_getSession`, `_updateSessionTitle`,
 * `_deleteSession`, `_importBatch`, `_close`), each taking the {@link Scope}; every other hook has a default
 * built on those, which a backend overrides only to be faster or to report more. A hook added later always
 * comes with a default (for a new optional operation: throwing `UnsupportedCapabilityError` for its capability
 * flag), so a backend written today keeps compiling and working.
 */
export abstract class BaseConversationMemory implements ConversationMemory {
  /** The contract version this store implements. */
  readonly contractVersion: string = CONTRACT_VERSION;
  readonly #writes = new KeyedQueue();
  readonly #now: Clock;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #scoped: ScopedOperations | undefined;

  constructor(options: BaseMemoryOptions = {}) {
    this.#now = monotonic(options.clock);
  }

  // ---- Required hooks ----

  /** Stores a new session; throws `ConflictError` when the id is taken (by any owner, in or out of `scope`). */
  protected abstract _createSession(session: SessionRecord, scope: Scope): Promise<void>;
  /**
   * Stores a message and updates its session's `updatedAt`, atomically; throws `SessionNotFoundError` when
   * the session does not exist in `scope`, `ConflictError` when the message id is taken.
   */
  protected abstract _addMessage(message: MessageRecord, scope: Scope): Promise<void>;
  /** The one ordered history read (see {@link HistoryRead}); `[]` for a session not in `scope`. */
  protected abstract _readHistory(read: HistoryRead, scope: Scope): Promise<HistoryRow[]>;
  /** The one session listing (see {@link SessionListing}): the sessions of `scope`, in the order asked. */
  protected abstract _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]>;
  /** The session or `null` when it does not exist in `scope`. */
  protected abstract _getSession(sessionId: string, scope: Scope): Promise<Session | null>;
  /** Sets the title and `updatedAt`; returns `false` when the session does not exist in `scope`. */
  protected abstract _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean>;
  /** Deletes the session and its messages; returns `false` when the session did not exist in `scope`. */
  protected abstract _deleteSession(sessionId: string, scope: Scope): Promise<boolean>;
  /**
   * Writes validated records atomically, skipping ids already stored, and keeps the touched sessions' message
   * counts exact. Throws `SessionNotFoundError`, writing nothing, when a message's session is neither stored in
   * `scope` nor in `sessions`. Sessions arrive with the scope's owner already set.
   */
  protected abstract _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult>;
  /** Releases what the store opened itself. */
  protected abstract _close(): Promise<void>;

  // ---- Hooks with defaults ----

  /** Creates or upgrades the schema; called once, before the first operation. Default: nothing to do. */
  protected _init(): Promise<void> {
    return Promise.resolve();
  }

  /** Oldest first; with `limit`, the last `limit` messages. Default: one `_readHistory`. */
  protected async _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]> {
    if (limit === undefined) {
      const rows = await this._readHistory({ sessionId, order: 'oldest', from: null, limit }, scope);
      return rows.map((row) => row.message);
    }
    const rows = await this._readHistory({ sessionId, order: 'newest', from: null, limit }, scope);
    return rows.reverse().map((row) => row.message);
  }

  /**
   * The `limit` messages before `before` (or the latest), oldest first, and the position of the oldest when
   * older ones remain. Default: one `_readHistory` of `limit + 1` rows, newest first.
   */
  protected async _getHistoryPage(
    sessionId: string,
    limit: number,
    before: HistoryPosition | null,
    scope: Scope,
  ): Promise<PageRows<Message, HistoryPosition>> {
    const rows = await this._readHistory(
      { sessionId, order: 'newest', from: before, limit: limit + 1 },
      scope,
    );
    const page = rows.slice(0, limit);
    const oldest = page[page.length - 1];
    return {
      items: page.reverse().map((row) => row.message),
      next: rows.length > limit && oldest ? oldest.position : null,
    };
  }

  /** Most recent `updatedAt` first, ties by id descending. Default: `_listSessions` in activity order. */
  protected _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionSummary[]> {
    return this._listSessions({ order: 'activity', limit, offset, where }, scope);
  }

  /**
   * Newest `createdAt` first, ties by id descending, after `cursor`. Default: `_listSessions` in creation
   * order, one row more than the page to know whether another follows.
   */
  protected async _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>> {
    const rows = await this._listSessions(
      { order: 'created', limit: limit + 1, after: cursor, where },
      scope,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page,
      next: rows.length > limit && last ? { createdAt: dateToIsoMicros(last.createdAt), id: last.id } : null,
    };
  }

  /**
   * Sessions of `scope` by id, after `afterId` (exclusive), at most `limit`; only `sessionIds` when given.
   * Default: `_listSessions` in id order, as portable records (timestamps at the precision the listing gives).
   */
  protected async _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ): Promise<PortableSession[]> {
    const sessions = await this._listSessions({ order: 'id', limit, after: afterId, ids: sessionIds }, scope);
    return sessions.map((s) => ({
      type: 'session',
      id: s.id,
      title: s.title,
      createdAt: dateToIsoMicros(s.createdAt),
      updatedAt: dateToIsoMicros(s.updatedAt),
      metadata: s.metadata,
      ownerId: s.ownerId,
    }));
  }

  /**
   * A session's messages in history order after `after` (exclusive), at most `limit`, and the position to
   * continue from (a keyset, so exporting a long session costs one seek per page, not an ever longer skip).
   * Default: one `_readHistory`, oldest first.
   */
  protected async _exportMessages(
    sessionId: string,
    after: HistoryPosition | null,
    limit: number,
    scope: Scope,
  ): Promise<PageRows<PortableMessage, HistoryPosition>> {
    const rows = await this._readHistory({ sessionId, order: 'oldest', from: after, limit }, scope);
    const last = rows[rows.length - 1];
    return {
      items: rows.map(({ message: m }) => ({
        type: 'message',
        id: m.id,
        sessionId: m.sessionId,
        role: m.role,
        content: m.content,
        createdAt: dateToIsoMicros(m.createdAt),
        metadata: m.metadata,
      })),
      next: rows.length === limit && last ? last.position : null,
    };
  }

  /**
   * Deletes every session in `scope` and their messages. Default: lists sessions by id and deletes them one
   * by one, in batches, so memory stays bounded; SQL backends override it with one statement per table.
   */
  protected async _clearAll(scope: Scope): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const batch = await this._listSessions(
        { order: 'id', limit: EXPORT_PAGE, after, ids: undefined },
        scope,
      );
      for (const session of batch) await this._deleteSession(session.id, scope);
      if (batch.length < EXPORT_PAGE) return;
      after = batch[batch.length - 1]!.id;
    }
  }

  /**
   * Backend name, location, version and counts of the sessions and messages in `scope`; may throw when
   * unreachable (the caller turns that into a report). Default: the location, and counts summed over
   * `_listSessions` in id order (each summary carries its message count).
   */
  protected async _check(scope: Scope): Promise<StoreHealth> {
    let sessions = 0;
    let messages = 0;
    let after: string | null = null;
    for (;;) {
      const batch = await this._listSessions(
        { order: 'id', limit: EXPORT_PAGE, after, ids: undefined },
        scope,
      );
      sessions += batch.length;
      for (const session of batch) messages += session.messageCount;
      if (batch.length < EXPORT_PAGE) break;
      after = batch[batch.length - 1]!.id;
    }
    return { ...this._describeLocation(), reachable: true, sessions, messages };
  }

  /**
   * Backend name (also what cursors are bound to) and location, with secrets masked. Default: the class
   * name and `'unknown'`.
   */
  protected _describeLocation(): { backend: string; location: string } {
    return { backend: this.constructor.name, location: 'unknown' };
  }

  /**
   * Messages in `scope` matching every term, best first (ties newest first). Called only when
   * `capabilities.fullTextSearch` is true; the default throws `UnsupportedCapabilityError`.
   */
  protected _searchMessages(
    _terms: readonly SearchTerm[],
    _request: SearchRequest,
    _scope: Scope,
  ): Promise<SearchHit[]> {
    return Promise.reject(new UnsupportedCapabilityError('fullTextSearch'));
  }

  /**
   * Turns an error that is not a `MemoryError` into one. Backends override it to recognise their driver's
   * errors (connection refused, busy, ...); the default wraps it as a generic `MemoryError`, keeping `cause`.
   */
  protected _mapError(error: unknown): MemoryError {
    const message = error instanceof Error ? error.message : String(error);
    return new MemoryError('MEMORY_ERROR', `Backend error: ${maskSecrets(message)}`, { cause: error });
  }

  /** The optional capabilities this backend has; none by default. */
  get capabilities(): MemoryCapabilities {
    return NO_CAPABILITIES;
  }

  /** Runs the schema setup now instead of on first use; safe to call more than once. */
  async init(): Promise<void> {
    this.#assertOpen();
    await this.#call(() => Promise.resolve());
  }

  createSession(input?: NewSession): Promise<string> {
    return this.#createSession(UNSCOPED, input);
  }
  addMessage(sessionId: string, input: NewMessage): Promise<string> {
    return this.#addMessage(UNSCOPED, sessionId, input);
  }
  getHistory(sessionId: string, options?: HistoryOptions): Promise<Message[]> {
    return this.#getHistory(UNSCOPED, sessionId, options);
  }
  getHistoryPage(sessionId: string, options?: HistoryPageOptions): Promise<Page<Message>> {
    return this.#getHistoryPage(UNSCOPED, sessionId, options);
  }
  getSessions(options?: ListSessionsOptions): Promise<SessionSummary[]> {
    return this.#getSessions(UNSCOPED, options);
  }
  getSessionsPage(options?: SessionsPageOptions): Promise<Page<SessionSummary>> {
    return this.#getSessionsPage(UNSCOPED, options);
  }
  searchMessages(query: string, options?: SearchOptions): Promise<Page<SearchHit>> {
    return this.#searchMessages(UNSCOPED, query, options);
  }
  getSession(sessionId: string): Promise<Session | null> {
    return this.#getSession(UNSCOPED, sessionId);
  }
  updateSessionTitle(sessionId: string, title: string | null): Promise<void> {
    return this.#updateSessionTitle(UNSCOPED, sessionId, title);
  }
  deleteSession(sessionId: string): Promise<boolean> {
    return this.#deleteSession(UNSCOPED, sessionId);
  }
  clearAll(): Promise<void> {
    return this.#clearAll(UNSCOPED);
  }
  exportRecords(options?: ExportOptions): AsyncIterable<PortableRecord> {
    return this.#exportRecords(UNSCOPED, options);
  }
  importRecords(
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options?: ImportOptions,
  ): Promise<ImportResult> {
    return this.#importRecords(UNSCOPED, records, options);
  }

  /**
   * A view of this store for one owner, sharing its connections. Sessions it creates belong to `ownerId`;
   * every read, write, listing, export, delete and `check()` sees only that owner's sessions and messages,
   * others behaving as not found. `close()` on the view only closes the view; `forOwner` on a view is refused.
   */
  forOwner(ownerId: string): ConversationMemory {
    this.#assertOpen();
    assertId('ownerId', ownerId);
    this.#scoped ??= this.#scopedOperations();
    return new OwnerView(this.#scoped, ownerId);
  }

  check(): Promise<StoreHealth> {
    return this.#check(UNSCOPED);
  }

  async #check(scope: Scope): Promise<StoreHealth> {
    this.#assertOpen();
    try {
      return await this.#call(() => this._check(scope));
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      return { ...this._describeLocation(), reachable: false, error: maskSecrets(cause) };
    }
  }

  /** The contract's operations with the scope as first argument, for {@link OwnerView}. */
  #scopedOperations(): ScopedOperations {
    return {
      assertOpen: () => this.#assertOpen(),
      capabilities: () => this.capabilities,
      contractVersion: this.contractVersion,
      createSession: (scope, input) => this.#createSession(scope, input),
      addMessage: (scope, sessionId, input) => this.#addMessage(scope, sessionId, input),
      getHistory: (scope, sessionId, options) => this.#getHistory(scope, sessionId, options),
      getHistoryPage: (scope, sessionId, options) => this.#getHistoryPage(scope, sessionId, options),
      getSessions: (scope, options) => this.#getSessions(scope, options),
      getSessionsPage: (scope, options) => this.#getSessionsPage(scope, options),
      searchMessages: (scope, query, options) => this.#searchMessages(scope, query, options),
      getSession: (scope, sessionId) => this.#getSession(scope, sessionId),
      updateSessionTitle: (scope, sessionId, title) => this.#updateSessionTitle(scope, sessionId, title),
      deleteSession: (scope, sessionId) => this.#deleteSession(scope, sessionId),
      clearAll: (scope) => this.#clearAll(scope),
      exportRecords: (scope, options) => this.#exportRecords(scope, options),
      importRecords: (scope, records, options) => this.#importRecords(scope, records, options),
      check: (scope) => this.#check(scope),
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#writes.allSettled();
      try {
        await this._close();
      } catch (error) {
        throw MemoryError.isInstance(error) ? error : this._mapError(error);
      }
    })();
    return this.#closing;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async #createSession(scope: Scope, input: NewSession | undefined): Promise<string> {
    this.#assertOpen();
    const valid = validateNewSession(input);
    if (scope.ownerId !== null && valid.ownerId !== null && valid.ownerId !== scope.ownerId) {
      throw new ValidationError('ownerId', 'differs from the owner this store is scoped to');
    }
    const id = valid.id ?? randomUUID();
    const ownerId = scope.ownerId ?? valid.ownerId;
    const { title, metadata } = valid;
    return this.#write(id, async () => {
      await this._createSession({ id, title, metadata, ownerId, createdAt: this.#now() }, scope);
      return id;
    });
  }

  async #addMessage(scope: Scope, sessionId: string, input: NewMessage): Promise<string> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const valid = validateNewMessage(input);
    const id = valid.id ?? randomUUID();
    return this.#write(sessionId, async () => {
      const { role, content, metadata } = valid;
      await this._addMessage({ id, sessionId, role, content, metadata, createdAt: this.#now() }, scope);
      return id;
    });
  }

  async #getHistory(
    scope: Scope,
    sessionId: string,
    options: HistoryOptions | undefined,
  ): Promise<Message[]> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const { limit } = validateHistoryOptions(options);
    await this.#writes.settled(sessionId);
    return this.#call(() => this._getHistory(sessionId, limit, scope));
  }

  async #getHistoryPage(
    scope: Scope,
    sessionId: string,
    options: HistoryPageOptions | undefined,
  ): Promise<Page<Message>> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const { limit, before, binding } = validateHistoryPageOptions(options, this.#view(scope), sessionId);
    await this.#writes.settled(sessionId);
    const page = await this.#call(() => this._getHistoryPage(sessionId, limit, before, scope));
    return { items: page.items, nextCursor: page.next && encodeHistoryCursor(binding, page.next) };
  }

  async #getSessions(scope: Scope, options: ListSessionsOptions | undefined): Promise<SessionSummary[]> {
    this.#assertOpen();
    const { limit, offset, where } = validateListSessionsOptions(options);
    this.#assertCapable(where);
    return this.#call(() => this._getSessions(limit, offset, scope, where));
  }

  async #getSessionsPage(
    scope: Scope,
    options: SessionsPageOptions | undefined,
  ): Promise<Page<SessionSummary>> {
    this.#assertOpen();
    const { limit, cursor, where, binding } = validateSessionsPageOptions(options, this.#view(scope));
    this.#assertCapable(where);
    const page = await this.#call(() => this._getSessionsPage(limit, cursor, scope, where));
    return { items: page.items, nextCursor: page.next && encodeSessionCursor(binding, page.next) };
  }

  async #searchMessages(
    scope: Scope,
    query: string,
    options: SearchOptions | undefined,
  ): Promise<Page<SearchHit>> {
    this.#assertOpen();
    const terms = parseSearchQuery(query);
    const { sessionId, role, limit, offset, binding } = validateSearchOptions(
      options,
      this.#view(scope),
      query,
    );
    if (!this.capabilities.fullTextSearch) throw new UnsupportedCapabilityError('fullTextSearch');
    if (sessionId !== undefined) await this.#writes.settled(sessionId);
    const hits = await this.#call(() =>
      this._searchMessages(terms, { sessionId, role, limit: limit + 1, offset }, scope),
    );
    return {
      items: hits.slice(0, limit),
      nextCursor: hits.length > limit ? encodeSearchCursor(binding, offset + limit) : null,
    };
  }

  /** The view a cursor of a listing read through `scope` is bound to: this backend and that owner. */
  #view(scope: Scope): ListingView {
    return { backend: this._describeLocation().backend, ownerId: scope.ownerId };
  }

  #assertCapable(where: SessionFilter | undefined): void {
    if (where !== undefined && !this.capabilities.metadataFilter) {
      throw new UnsupportedCapabilityError('metadataFilter');
    }
  }

  async #getSession(scope: Scope, sessionId: string): Promise<Session | null> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    await this.#writes.settled(sessionId);
    return this.#call(() => this._getSession(sessionId, scope));
  }

  async #updateSessionTitle(scope: Scope, sessionId: string, title: string | null): Promise<void> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    assertTitle('title', title);
    await this.#write(sessionId, async () => {
      if (!(await this._updateSessionTitle(sessionId, title, this.#now(), scope))) {
        throw new SessionNotFoundError(sessionId);
      }
    });
  }

  async #deleteSession(scope: Scope, sessionId: string): Promise<boolean> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    return this.#write(sessionId, () => this._deleteSession(sessionId, scope));
  }

  async #clearAll(scope: Scope): Promise<void> {
    this.#assertOpen();
    await this.#writes.allSettled();
    await this.#call(() => this._clearAll(scope));
  }

  async *#exportRecords(scope: Scope, options: ExportOptions | undefined): AsyncIterable<PortableRecord> {
    this.#assertOpen();
    const { sessionIds } = validateExportOptions(options);
    let afterId: string | null = null;
    for (;;) {
      const sessions: PortableSession[] = await this.#call(() =>
        this._exportSessions(afterId, EXPORT_PAGE, sessionIds, scope),
      );
      for (const session of sessions) {
        yield session;
        let after: HistoryPosition | null = null;
        do {
          this.#assertOpen();
          const from = after;
          const page: PageRows<PortableMessage, HistoryPosition> = await this.#call(() =>
            this._exportMessages(session.id, from, EXPORT_PAGE, scope),
          );
          yield* page.items;
          after = page.next;
        } while (after !== null);
      }
      if (sessions.length < EXPORT_PAGE) return;
      afterId = sessions[sessions.length - 1]!.id;
      this.#assertOpen();
    }
  }

  async #importRecords(
    scope: Scope,
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options: ImportOptions | undefined,
  ): Promise<ImportResult> {
    this.#assertOpen();
    const { batchSize } = validateImportOptions(options);
    const total: ImportResult = {
      sessions: { written: 0, skipped: 0 },
      messages: { written: 0, skipped: 0 },
    };
    let sessions: PortableSession[] = [];
    let messages: PortableMessage[] = [];
    const flush = async () => {
      if (sessions.length + messages.length === 0) return;
      const batch = { sessions, messages };
      sessions = [];
      messages = [];
      await this.#writes.allSettled();
      const result = await this.#call(() => this._importBatch(batch.sessions, batch.messages, scope));
      total.sessions.written += result.sessions.written;
      total.sessions.skipped += result.sessions.skipped;
      total.messages.written += result.messages.written;
      total.messages.skipped += result.messages.skipped;
    };
    let index = 0;
    for await (const raw of records) {
      this.#assertOpen();
      const record = validatePortableRecord(raw, index);
      if (record.type === 'session') {
        if (scope.ownerId !== null && record.ownerId !== null && record.ownerId !== scope.ownerId) {
          throw new ValidationError(
            `records[${index}].ownerId`,
            'differs from the owner this store is scoped to',
          );
        }
        sessions.push(scope.ownerId === null ? record : { ...record, ownerId: scope.ownerId });
      } else {
        messages.push(record);
      }
      index++;
      if (sessions.length + messages.length >= batchSize) await flush();
    }
    await flush();
    return total;
  }

  #assertOpen(): void {
    if (this.#closing) throw new MemoryClosedError();
  }

  #write<T>(sessionId: string, task: () => Promise<T>): Promise<T> {
    return this.#writes.run(sessionId, () => this.#call(task));
  }

  async #call<T>(task: () => Promise<T>): Promise<T> {
    try {
      await this.#ensureReady();
      return await task();
    } catch (error) {
      throw MemoryError.isInstance(error) ? error : this._mapError(error);
    }
  }

  #ensureReady(): Promise<void> {
    if (!this.#ready) {
      // A failed setup (server down at start) is retried on the next call instead of failing the store forever.
      this.#ready = this._init().catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    }
    return this.#ready;
  }
}
