import { randomUUID } from 'node:crypto';
import { type Clock, monotonic } from './clock.js';
import type { ConversationMemory } from './conversation-memory.js';
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

/** Records read per page by `exportRecords`. */
const EXPORT_PAGE = 500;

/**
 * The implementor's side of the contract. Public methods validate their arguments, refuse use after `close()`,
 * keep writes to a session in call order, apply the owner scope, and turn any non-contract error into a
 * `MemoryError` through `mapError`; then they call the protected `_` method, which receives only valid input.
 * A backend implements the `_` methods and nothing else of the contract.
 */
export abstract class BaseConversationMemory implements ConversationMemory {
  readonly #writes = new KeyedQueue();
  readonly #now: Clock;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: BaseMemoryOptions = {}) {
    this.#now = monotonic(options.clock);
  }

  /** Creates or upgrades the schema; called once, before the first operation. Default: nothing to do. */
  protected _init(): Promise<void> {
    return Promise.resolve();
  }
  /** Stores a new session; throws `ConflictError` when the id is taken (by any owner). */
  protected abstract _createSession(session: SessionRecord): Promise<void>;
  /**
   * Stores a message and updates its session, in one transaction; throws `SessionNotFoundError` when the
   * session does not exist in `scope`, `ConflictError` when the message id is taken.
   */
  protected abstract _addMessage(message: MessageRecord, scope: Scope): Promise<void>;
  /** Oldest first; with `limit`, the last `limit` messages; `[]` for a session not in `scope`. */
  protected abstract _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]>;
  /** The `limit` messages before `before` (or the latest), oldest first, and the position of the oldest. */
  protected abstract _getHistoryPage(
    sessionId: string,
    limit: number,
    before: HistoryPosition | null,
    scope: Scope,
  ): Promise<PageRows<Message, HistoryPosition>>;
  /** Most recent `updatedAt` first, ties by id descending; only sessions matching `where` when given. */
  protected abstract _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionSummary[]>;
  /** Newest `createdAt` first, ties by id descending, after `cursor`; only sessions matching `where` when given. */
  protected abstract _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>>;
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
  /** The session or `null`. */
  protected abstract _getSession(sessionId: string, scope: Scope): Promise<Session | null>;
  /** Returns `false` when the session does not exist in `scope`. */
  protected abstract _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean>;
  /** Returns `false` when the session did not exist in `scope`. */
  protected abstract _deleteSession(sessionId: string, scope: Scope): Promise<boolean>;
  /** Deletes every session in `scope` and their messages. */
  protected abstract _clearAll(scope: Scope): Promise<void>;
  /** Releases what the store opened itself. */
  protected abstract _close(): Promise<void>;
  /** Sessions in `scope` ordered by id, after `afterId` (exclusive), at most `limit`; only `sessionIds` when given. */
  protected abstract _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ): Promise<PortableSession[]>;
  /** A session's messages in history order, skipping `offset`, at most `limit`. */
  protected abstract _exportMessages(
    sessionId: string,
    offset: number,
    limit: number,
  ): Promise<PortableMessage[]>;
  /**
   * Writes validated records in one transaction, skipping ids already stored, then recomputes the counts of
   * the sessions touched. Throws `SessionNotFoundError`, writing nothing, when a message's session is neither
   * stored in `scope` nor in `sessions`.
   */
  protected abstract _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult>;
  /** Backend name, location, version and counts; may throw when unreachable (the caller turns that into a report). */
  protected abstract _check(): Promise<StoreHealth>;
  /** Backend name and location for the report of an unreachable store. */
  protected abstract describeLocation(): { backend: string; location: string };

  /**
   * Turns an error that is not a `MemoryError` into one. Backends override it to recognise their driver's
   * errors (connection refused, busy, ...); the default wraps it as a generic `MemoryError`, keeping `cause`.
   */
  protected mapError(error: unknown): MemoryError {
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
   * every read, write, listing, export and delete sees only that owner's sessions and messages, others behaving
   * as not found. `close()` on the view only closes the view; `forOwner` on a view is refused.
   */
  forOwner(ownerId: string): ConversationMemory {
    this.#assertOpen();
    assertId('ownerId', ownerId);
    const scope: Scope = Object.freeze({ ownerId });
    let viewClosed = false;
    const open = () => {
      if (viewClosed) throw new MemoryClosedError();
    };
    const guard =
      <A extends unknown[], R>(operation: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        open();
        return operation(...args);
      };
    return {
      createSession: guard((input?: NewSession) => this.#createSession(scope, input)),
      addMessage: guard((sessionId: string, input: NewMessage) => this.#addMessage(scope, sessionId, input)),
      getHistory: guard((sessionId: string, options?: HistoryOptions) =>
        this.#getHistory(scope, sessionId, options),
      ),
      getHistoryPage: guard((sessionId: string, options?: HistoryPageOptions) =>
        this.#getHistoryPage(scope, sessionId, options),
      ),
      getSessions: guard((options?: ListSessionsOptions) => this.#getSessions(scope, options)),
      getSessionsPage: guard((options?: SessionsPageOptions) => this.#getSessionsPage(scope, options)),
      searchMessages: guard((query: string, options?: SearchOptions) =>
        this.#searchMessages(scope, query, options),
      ),
      capabilities: this.capabilities,
      getSession: guard((sessionId: string) => this.#getSession(scope, sessionId)),
      updateSessionTitle: guard((sessionId: string, title: string | null) =>
        this.#updateSessionTitle(scope, sessionId, title),
      ),
      deleteSession: guard((sessionId: string) => this.#deleteSession(scope, sessionId)),
      clearAll: guard(() => this.#clearAll(scope)),
      exportRecords: (options?: ExportOptions) => {
        open();
        return this.#exportRecords(scope, options);
      },
      importRecords: guard(
        (records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>, options?: ImportOptions) =>
          this.#importRecords(scope, records, options),
      ),
      check: guard(() => this.check()),
      forOwner: () => {
        // A closed view answers as every closed store does, before saying it cannot be scoped again.
        open();
        this.#assertOpen();
        throw new ValidationError('ownerId', 'this store is already scoped to one owner');
      },
      close: async () => {
        viewClosed = true;
      },
    };
  }

  async check(): Promise<StoreHealth> {
    this.#assertOpen();
    try {
      return await this.#call(() => this._check());
    } catch (error) {
      const cause = error instanceof Error ? error.message : String(error);
      return { ...this.describeLocation(), reachable: false, error: maskSecrets(cause) };
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#writes.allSettled();
      try {
        await this._close();
      } catch (error) {
        throw MemoryError.isInstance(error) ? error : this.mapError(error);
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
      await this._createSession({ id, title, metadata, ownerId, createdAt: this.#now() });
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
    return { backend: this.describeLocation().backend, ownerId: scope.ownerId };
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
        for (let offset = 0; ; offset += EXPORT_PAGE) {
          this.#assertOpen();
          const messages = await this.#call(() => this._exportMessages(session.id, offset, EXPORT_PAGE));
          yield* messages;
          if (messages.length < EXPORT_PAGE) break;
        }
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
      throw MemoryError.isInstance(error) ? error : this.mapError(error);
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
