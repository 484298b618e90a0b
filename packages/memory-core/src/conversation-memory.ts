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

/** Version of the contract this package describes; a backend states the version it implements. */
export const CONTRACT_VERSION = '1.1';

/**
 * Conversation memory: sessions and their messages behind one contract, whatever the database.
 *
 * Every method validates its arguments first and throws a `ValidationError` naming the field, before anything
 * touches the database. Every error is a `MemoryError` with a stable `code`; a driver's error is kept as its
 * `cause`, never thrown as is. After `close()` every method but `close()` throws `MemoryClosedError`.
 *
 * Writes to one session through one store instance take effect in call order, even when the caller starts
 * them without awaiting each other; reads of a session wait for the writes to it that were started before them.
 */
export interface ConversationMemory {
  /**
   * The contract version this store implements: `CONTRACT_VERSION` of the core it was built against
   * (`'1.1'` today), so an application can refuse a store older than the features it uses.
   */
  readonly contractVersion: string;

  /**
   * The optional capabilities this store has (metadata filters, full-text search, structured messages, history
   * editing, session updates, retention). A method needing one the store lacks throws
   * `UnsupportedCapabilityError` naming it, after validating its arguments.
   */
  readonly capabilities: MemoryCapabilities;

  /**
   * Creates a session and returns its id. Default title `null`, default metadata `{}`, default id a random
   * UUID v4. `createdAt` and `updatedAt` are set to now. Throws `ConflictError` when `id` is already used.
   */
  createSession(input?: NewSession): Promise<string>;

  /**
   * Appends a message to a session and returns its id; the session's `updatedAt`, `messageCount` and
   * `lastMessageAt` change in the same transaction. Throws `SessionNotFoundError` when the session does not
   * exist and `ConflictError` (reason `'exists'`) when `id` is already used by a different message; in both
   * cases nothing is written. With the `historyEditing` capability, ids are unique per session, and an `id`
   * already stored in this session with an equal message (same `messageDigest`) returns that id and writes
   * nothing, so retrying after a timeout whose commit is unknown is safe. A non-null `payload` or `format` needs
   * the `structuredMessages` capability.
   */
  addMessage(sessionId: string, input: NewMessage): Promise<string>;

  /**
   * Writes messages by id, atomically, in the order given: a message without an id, or with an id not stored in
   * the session, is appended (`createdAt` now, never earlier than the message before it); one whose id is stored
   * in the session is replaced in place (its position and `createdAt` kept), unless its `messageDigest` equals
   * the stored one, in which case it is not written (`unchanged`). The session's row is updated once
   * (`updatedAt` to now when something was written; counts and `lastMessageAt` exact). Ids repeated within the
   * call are a `ValidationError`; a missing session is a `SessionNotFoundError`; `ifLastId` and `operationId`
   * are described in {@link UpsertOptions}. Needs `historyEditing` (and `structuredMessages` for payloads).
   */
  upsertMessages(
    sessionId: string,
    messages: readonly NewMessage[],
    options?: UpsertOptions,
  ): Promise<UpsertResult>;

  /**
   * In one transaction, removes every message after `input.after` (all of them when `null`) and appends
   * `input.messages`, which may reuse the removed ids. When `after` is not in the history, or `expectedIds` /
   * `expectedDigests` differ from the removed messages in order, throws `ConflictError` having changed nothing.
   * With `operationId`, a replay returns the first result before any of these checks (see
   * {@link UpsertOptions.operationId}). A missing session is a `SessionNotFoundError`. `updatedAt` moves to now
   * when something changed. Costs in proportion to the suffix, not the history. Needs `historyEditing`.
   */
  rewriteHistory(sessionId: string, input: RewriteInput): Promise<RewriteResult>;

  /**
   * Deletes the session's messages with these ids and returns how many it deleted; unknown ids (and a session
   * that does not exist) count 0, not an error. `updatedAt` moves to now when something was deleted. Needs
   * `historyEditing`.
   */
  deleteMessages(sessionId: string, ids: readonly string[]): Promise<number>;

  /**
   * Removes and returns the session's latest message (in history order), or `null` when it has none or does not
   * exist. `updatedAt` moves to now when a message was removed. Needs `historyEditing`.
   */
  popMessage(sessionId: string): Promise<Message | null>;

  /**
   * The id and `messageDigest` of each of the session's messages, oldest first, without reading their payloads:
   * what a caller compares with its own messages before `upsertMessages` or `rewriteHistory`. `[]` for a session
   * that does not exist. Needs `historyEditing`.
   */
  getHistoryDigests(sessionId: string): Promise<MessageDigest[]>;

  /**
   * The session's messages oldest first: by `createdAt`, then by insertion order for equal timestamps. With
   * `limit`, the last `limit` of them (still oldest first). A session that does not exist has no messages:
   * the result is `[]`, not an error.
   */
  getHistory(sessionId: string, options?: HistoryOptions): Promise<Message[]>;

  /**
   * The history read backwards one page at a time: the `limit` (default 50) messages just before `before`
   * (or the latest ones), oldest first, with the cursor of the page before them (`null` at the start).
   * Messages added meanwhile land after the first page and never shift later pages: no repeats, no skips.
   * A session that does not exist has an empty last page. A cursor from another listing is a `ValidationError`.
   */
  getHistoryPage(sessionId: string, options?: HistoryPageOptions): Promise<Page<Message>>;

  /**
   * A page of sessions, most recent activity (`updatedAt`) first, ties broken by id (descending), each with its
   * exact `messageCount`. `limit` defaults to 50 (1 to 1000), `offset` to 0. Consecutive pages neither overlap
   * nor skip while nothing is written in between.
   */
  getSessions(options?: ListSessionsOptions): Promise<SessionSummary[]>;

  /**
   * Sessions a page at a time by keyset: newest `createdAt` first, ties by id descending, with the cursor of the
   * next page (`null` after the last). Creation order is used, not activity, because it never changes: paging
   * while others write never repeats or skips a session (sessions created after the first page are not in it).
   * `limit` defaults to 50 (1 to 1000).
   */
  getSessionsPage(options?: SessionsPageOptions): Promise<Page<SessionSummary>>;

  /**
   * Full-text search over message content, best match first (ties newest first), a page at a time. `query` is
   * words (all must match, case-insensitively), `word*` prefixes and `"quoted phrases"`; no other operators, so
   * user input is safe to pass as is. Words in scripts written without spaces (Japanese, Chinese, Korean, Thai)
   * match as substrings. Each hit carries a `snippet` with the matches in `<mark>` tags. `limit` defaults to 20
   * (1 to 100). Needs the `fullTextSearch` capability (`UnsupportedCapabilityError` otherwise); a malformed
   * query is a `ValidationError` on `query`.
   */
  searchMessages(query: string, options?: SearchOptions): Promise<Page<SearchHit>>;

  /** The session with this id, or `null` when there is none. */
  getSession(sessionId: string): Promise<Session | null>;

  /**
   * Sets the session's title (`null` clears it) and its `updatedAt` to now. Throws `SessionNotFoundError`
   * when the session does not exist.
   */
  updateSessionTitle(sessionId: string, title: string | null): Promise<void>;

  /**
   * Changes a session's title and metadata in one transaction and returns the session as it is after. `metadata`
   * replaces the metadata; `metadataPatch` applies a JSON Merge Patch (RFC 7396); both at once is a
   * `ValidationError`, as is a result larger than the metadata limits. With `ifMetadata`, the current metadata
   * must contain that value (`jsonb @>` semantics) or a `ConflictError` (reason `'if-metadata'`) is thrown and
   * nothing changes. Only a `title` moves `updatedAt`; a metadata-only update does not. Listings filtered by
   * metadata see the change at once. A missing session is a `SessionNotFoundError`. Needs `sessionUpdates`.
   */
  updateSession(sessionId: string, input: UpdateSessionInput): Promise<Session>;

  /**
   * Deletes the sessions (and their messages) whose `updatedAt` is earlier than `inactiveBefore`, in bounded
   * transactions of `batchSize` sessions, re-checking each session inside its transaction so that one written to
   * meanwhile stays. Sessions whose timestamps cannot be read (legacy files) are never purged and are counted in
   * `unreadable`. On an owner view, only that owner's sessions. Needs `retention`.
   */
  purgeSessions(options: PurgeOptions): Promise<PurgeResult>;

  /**
   * Deletes the session and all its messages in one transaction. Returns `true` when it existed, `false`
   * when there was nothing to delete (deleting twice is not an error).
   */
  deleteSession(sessionId: string): Promise<boolean>;

  /** Deletes every session and message of this store, in one transaction. */
  clearAll(): Promise<void>;

  /**
   * Streams the store's content as portable records: each session (ordered by id), then its messages in
   * history order, timestamps at the precision the database keeps (microseconds on SQL backends). Reads page
   * by page, so memory stays bounded whatever the store's size.
   */
  exportRecords(options?: ExportOptions): AsyncIterable<PortableRecord>;

  /**
   * Writes portable records exactly as given (ids, timestamps, metadata), in transactions of `batchSize`
   * records. A record whose id is already stored is skipped, not overwritten, so importing the same file twice
   * writes nothing the second time. Each record is validated first (`ValidationError` naming
   * `records[i].field`). A message whose session is neither stored nor earlier in the input throws
   * `SessionNotFoundError`, and nothing of its batch is written. Message counts are recomputed for every
   * session touched.
   */
  importRecords(
    records: Iterable<PortableRecord> | AsyncIterable<PortableRecord>,
    options?: ImportOptions,
  ): Promise<ImportResult>;

  /**
   * Reports whether the database answers, its version, the schema version and row counts. Never throws for
   * an unreachable database (that is `reachable: false` with a masked `error`); throws `MemoryClosedError`
   * after `close()`.
   */
  check(): Promise<StoreHealth>;

  /**
   * A view of this store restricted to one owner (a user or tenant id), sharing its connections. Sessions it
   * creates belong to that owner; every method sees only that owner's sessions and messages, and another
   * owner's behave exactly as if they did not exist (not found, empty, `false`). Closing the view does not close
   * the store. The unscoped store itself sees every session.
   */
  forOwner(ownerId: string): ConversationMemory;

  /**
   * Waits for the writes already started, then releases the store's resources (connections, file handles)
   * that it opened itself; a database handle or pool passed in by the caller stays open. Idempotent.
   */
  close(): Promise<void>;
}
