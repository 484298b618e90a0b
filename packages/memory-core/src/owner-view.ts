import type { Scope } from './base-memory.js';
import type { ConversationMemory } from './conversation-memory.js';
import { MemoryClosedError, ValidationError } from './errors.js';
import type { ExportOptions, ImportOptions, ImportResult, PortableRecord, StoreHealth } from './portable.js';
import type {
  HistoryOptions,
  HistoryPageOptions,
  ListSessionsOptions,
  MemoryCapabilities,
  Message,
  MessageDigest,
  NewMessage,
  NewSession,
  Page,
  PurgeOptions,
  PurgeResult,
  RewriteInput,
  RewriteResult,
  SearchHit,
  SearchOptions,
  Session,
  SessionSummary,
  SessionsPageOptions,
  UpdateSessionInput,
  UpsertOptions,
  UpsertResult,
} from './types.js';

/**
 * The contract's operations with the scope they run in as first argument: what a store hands to its owner
 * views. Each validates, applies the scope and maps errors exactly as the store's own method does.
 */
export interface ScopedOperations {
  /** Throws `MemoryClosedError` once the store is closed. */
  assertOpen(): void;
  capabilities(): MemoryCapabilities;
  readonly contractVersion: string;
  createSession(scope: Scope, input: NewSession | undefined): Promise<string>;
  addMessage(scope: Scope, sessionId: string, input: NewMessage): Promise<string>;
  getHistory(scope: Scope, sessionId: string, options: HistoryOptions | undefined): Promise<Message[]>;
  getHistoryPage(
    scope: Scope,
    sessionId: string,
    options: HistoryPageOptions | undefined,
  ): Promise<Page<Message>>;
  getSessions(scope: Scope, options: ListSessionsOptions | undefined): Promise<SessionSummary[]>;
  getSessionsPage(scope: Scope, options: SessionsPageOptions | undefined): Promise<Page<SessionSummary>>;
  searchMessages(scope: Scope, query: string, options: SearchOptions | undefined): Promise<Page<SearchHit>>;
  getSession(scope: Scope, sessionId: string): Promise<Session | null>;
  updateSessionTitle(scope: Scope, sessionId: string, title: string | null): Promise<void>;
  deleteSession(scope: Scope, sessionId: string): Promise<boolean>;
  clearAll(scope: Scope): Promise<void>;
  exportRecords(scope: Scope, options: ExportOptions | undefined): AsyncIterable<PortableRecord>;
  importRecords(
    scope: Scope,
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options: ImportOptions | undefined,
  ): Promise<ImportResult>;
  check(scope: Scope): Promise<StoreHealth>;
  upsertMessages(
    scope: Scope,
    sessionId: string,
    messages: readonly NewMessage[],
    options: UpsertOptions | undefined,
  ): Promise<UpsertResult>;
  rewriteHistory(scope: Scope, sessionId: string, input: RewriteInput): Promise<RewriteResult>;
  deleteMessages(scope: Scope, sessionId: string, ids: readonly string[]): Promise<number>;
  popMessage(scope: Scope, sessionId: string): Promise<Message | null>;
  getHistoryDigests(scope: Scope, sessionId: string): Promise<MessageDigest[]>;
  updateSession(scope: Scope, sessionId: string, input: UpdateSessionInput): Promise<Session>;
  purgeSessions(scope: Scope, options: PurgeOptions): Promise<PurgeResult>;
}

/**
 * One owner's view of a store (what `forOwner` returns): every operation, `check()` included, runs in that
 * owner's scope, so it sees, counts and changes only that owner's sessions and their messages. It shares the
 * store's connections; `close()` closes the view only (the store stays open), after which the view's methods
 * throw `MemoryClosedError`, as they do once the store is closed.
 */
export class OwnerView implements ConversationMemory {
  readonly #store: ScopedOperations;
  readonly #scope: Scope;
  #closed = false;

  /** A view of the store behind `store` for `ownerId`, which the store has validated. */
  constructor(store: ScopedOperations, ownerId: string) {
    this.#store = store;
    this.#scope = Object.freeze({ ownerId });
  }

  /** The owner this view is scoped to. */
  get ownerId(): string {
    return this.#scope.ownerId!;
  }

  /** The store's contract version. */
  get contractVersion(): string {
    return this.#store.contractVersion;
  }

  /** The store's capabilities. */
  get capabilities(): MemoryCapabilities {
    return this.#store.capabilities();
  }

  async createSession(input?: NewSession): Promise<string> {
    return this.#store.createSession(this.#open(), input);
  }
  async addMessage(sessionId: string, input: NewMessage): Promise<string> {
    return this.#store.addMessage(this.#open(), sessionId, input);
  }
  async getHistory(sessionId: string, options?: HistoryOptions): Promise<Message[]> {
    return this.#store.getHistory(this.#open(), sessionId, options);
  }
  async getHistoryPage(sessionId: string, options?: HistoryPageOptions): Promise<Page<Message>> {
    return this.#store.getHistoryPage(this.#open(), sessionId, options);
  }
  async getSessions(options?: ListSessionsOptions): Promise<SessionSummary[]> {
    return this.#store.getSessions(this.#open(), options);
  }
  async getSessionsPage(options?: SessionsPageOptions): Promise<Page<SessionSummary>> {
    return this.#store.getSessionsPage(this.#open(), options);
  }
  async searchMessages(query: string, options?: SearchOptions): Promise<Page<SearchHit>> {
    return this.#store.searchMessages(this.#open(), query, options);
  }
  async getSession(sessionId: string): Promise<Session | null> {
    return this.#store.getSession(this.#open(), sessionId);
  }
  async updateSessionTitle(sessionId: string, title: string | null): Promise<void> {
    return this.#store.updateSessionTitle(this.#open(), sessionId, title);
  }
  async deleteSession(sessionId: string): Promise<boolean> {
    return this.#store.deleteSession(this.#open(), sessionId);
  }
  async clearAll(): Promise<void> {
    return this.#store.clearAll(this.#open());
  }
  /** Throws `MemoryClosedError` at the call, not at the first iteration, as the store's own method does. */
  exportRecords(options?: ExportOptions): AsyncIterable<PortableRecord> {
    return this.#store.exportRecords(this.#open(), options);
  }
  async importRecords(
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options?: ImportOptions,
  ): Promise<ImportResult> {
    return this.#store.importRecords(this.#open(), records, options);
  }
  /** Another owner's session is missing here: `SessionNotFoundError`, nothing written. */
  async upsertMessages(
    sessionId: string,
    messages: readonly NewMessage[],
    options?: UpsertOptions,
  ): Promise<UpsertResult> {
    return this.#store.upsertMessages(this.#open(), sessionId, messages, options);
  }
  /** Another owner's session is missing here: `SessionNotFoundError`, nothing changed. */
  async rewriteHistory(sessionId: string, input: RewriteInput): Promise<RewriteResult> {
    return this.#store.rewriteHistory(this.#open(), sessionId, input);
  }
  /** In another owner's session nothing is found: `0`. */
  async deleteMessages(sessionId: string, ids: readonly string[]): Promise<number> {
    return this.#store.deleteMessages(this.#open(), sessionId, ids);
  }
  /** In another owner's session nothing is found: `null`. */
  async popMessage(sessionId: string): Promise<Message | null> {
    return this.#store.popMessage(this.#open(), sessionId);
  }
  /** Another owner's session has no messages here: `[]`. */
  async getHistoryDigests(sessionId: string): Promise<MessageDigest[]> {
    return this.#store.getHistoryDigests(this.#open(), sessionId);
  }
  /** Another owner's session is missing here: `SessionNotFoundError`, nothing changed. */
  async updateSession(sessionId: string, input: UpdateSessionInput): Promise<Session> {
    return this.#store.updateSession(this.#open(), sessionId, input);
  }
  /** Purges this owner's idle sessions only, and counts only theirs. */
  async purgeSessions(options: PurgeOptions): Promise<PurgeResult> {
    return this.#store.purgeSessions(this.#open(), options);
  }
  /** Health with this owner's counts only: its sessions and their messages. */
  async check(): Promise<StoreHealth> {
    return this.#store.check(this.#open());
  }
  /** Refused: a view is already scoped to one owner. */
  forOwner(_ownerId: string): ConversationMemory {
    // A closed view (or store) answers as every closed store does, before saying it cannot be scoped again.
    this.#open();
    this.#store.assertOpen();
    throw new ValidationError('ownerId', 'this store is already scoped to one owner');
  }
  /** Closes this view only; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #open(): Scope {
    if (this.#closed) throw new MemoryClosedError();
    return this.#scope;
  }
}
