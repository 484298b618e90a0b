import { randomUUID } from 'node:crypto';
import { type Clock, monotonic } from './clock.js';
import type { ConversationMemory } from './conversation-memory.js';
import { MemoryClosedError, MemoryError, SessionNotFoundError } from './errors.js';
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
import type {
  HistoryOptions,
  ListSessionsOptions,
  Message,
  Metadata,
  NewMessage,
  NewSession,
  Session,
  SessionSummary,
} from './types.js';
import {
  assertId,
  assertTitle,
  validateExportOptions,
  validateHistoryOptions,
  validateImportOptions,
  validateListSessionsOptions,
  validateNewMessage,
  validateNewSession,
  validatePortableRecord,
} from './validation.js';

/** Records read per page by `exportRecords`. */
const EXPORT_PAGE = 500;

/** A session as a backend must store it: validated, with its id and timestamp chosen. */
export interface SessionRecord {
  id: string;
  title: string | null;
  metadata: Metadata;
  /** Creation time; also the initial `updatedAt`. */
  createdAt: Date;
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

/** Options every backend accepts. */
export interface BaseMemoryOptions {
  /**
   * Source of timestamps; default the system clock. Whatever it returns, the store never lets time go
   * backwards (see `monotonic`), and truncates it to milliseconds.
   */
  clock?: Clock;
}

/**
 * The implementor's side of the contract. Public methods validate their arguments, refuse use after `close()`,
 * keep writes to a session in call order, and turn any non-contract error into a `MemoryError` through
 * `mapError`; then they call the protected `_` method, which receives only valid input. A backend implements
 * the `_` methods and nothing else of the contract.
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
  /** Stores a new session; throws `ConflictError` when the id is taken. */
  protected abstract _createSession(session: SessionRecord): Promise<void>;
  /** Stores a message and updates its session, in one transaction; throws `SessionNotFoundError` or `ConflictError`. */
  protected abstract _addMessage(message: MessageRecord): Promise<void>;
  /** Oldest first; with `limit`, the last `limit` messages. */
  protected abstract _getHistory(sessionId: string, limit: number | undefined): Promise<Message[]>;
  /** Most recent `updatedAt` first, ties by id descending. */
  protected abstract _getSessions(limit: number, offset: number): Promise<SessionSummary[]>;
  /** The session or `null`. */
  protected abstract _getSession(sessionId: string): Promise<Session | null>;
  /** Returns `false` when the session does not exist. */
  protected abstract _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
  ): Promise<boolean>;
  /** Returns `false` when the session did not exist. */
  protected abstract _deleteSession(sessionId: string): Promise<boolean>;
  /** Deletes everything. */
  protected abstract _clearAll(): Promise<void>;
  /** Releases what the store opened itself. */
  protected abstract _close(): Promise<void>;
  /** Sessions ordered by id, after `afterId` (exclusive), at most `limit`; only `sessionIds` when given. */
  protected abstract _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
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
   * stored nor in `sessions`.
   */
  protected abstract _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
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

  /** Runs the schema setup now instead of on first use; safe to call more than once. */
  async init(): Promise<void> {
    this.#assertOpen();
    await this.#ensureReady();
  }

  async createSession(input?: NewSession): Promise<string> {
    this.#assertOpen();
    const valid = validateNewSession(input);
    const id = valid.id ?? randomUUID();
    return this.#write(id, async () => {
      await this._createSession({ id, title: valid.title, metadata: valid.metadata, createdAt: this.#now() });
      return id;
    });
  }

  async addMessage(sessionId: string, input: NewMessage): Promise<string> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const valid = validateNewMessage(input);
    const id = valid.id ?? randomUUID();
    return this.#write(sessionId, async () => {
      const { role, content, metadata } = valid;
      await this._addMessage({ id, sessionId, role, content, metadata, createdAt: this.#now() });
      return id;
    });
  }

  async getHistory(sessionId: string, options?: HistoryOptions): Promise<Message[]> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const { limit } = validateHistoryOptions(options);
    await this.#writes.settled(sessionId);
    return this.#call(() => this._getHistory(sessionId, limit));
  }

  async getSessions(options?: ListSessionsOptions): Promise<SessionSummary[]> {
    this.#assertOpen();
    const { limit, offset } = validateListSessionsOptions(options);
    return this.#call(() => this._getSessions(limit, offset));
  }

  async getSession(sessionId: string): Promise<Session | null> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    await this.#writes.settled(sessionId);
    return this.#call(() => this._getSession(sessionId));
  }

  async updateSessionTitle(sessionId: string, title: string | null): Promise<void> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    assertTitle('title', title);
    await this.#write(sessionId, async () => {
      if (!(await this._updateSessionTitle(sessionId, title, this.#now())))
        throw new SessionNotFoundError(sessionId);
    });
  }

  async deleteSession(sessionId: string): Promise<boolean> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    return this.#write(sessionId, () => this._deleteSession(sessionId));
  }

  async clearAll(): Promise<void> {
    this.#assertOpen();
    await this.#writes.allSettled();
    await this.#call(() => this._clearAll());
  }

  async *exportRecords(options?: ExportOptions): AsyncIterable<PortableRecord> {
    this.#assertOpen();
    const { sessionIds } = validateExportOptions(options);
    let afterId: string | null = null;
    for (;;) {
      const sessions: PortableSession[] = await this.#call(() =>
        this._exportSessions(afterId, EXPORT_PAGE, sessionIds),
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

  async importRecords(
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options?: ImportOptions,
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
      const result = await this.#call(() => this._importBatch(batch.sessions, batch.messages));
      total.sessions.written += result.sessions.written;
      total.sessions.skipped += result.sessions.skipped;
      total.messages.written += result.messages.written;
      total.messages.skipped += result.messages.skipped;
    };
    let index = 0;
    for await (const raw of records) {
      this.#assertOpen();
      const record = validatePortableRecord(raw, index++);
      if (record.type === 'session') sessions.push(record);
      else messages.push(record);
      if (sessions.length + messages.length >= batchSize) await flush();
    }
    await flush();
    return total;
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
