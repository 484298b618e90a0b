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
import { sha256Hex } from './sha256.js';
import { dateToIsoMicros } from './timestamp.js';
import type {
  HistoryOptions,
  HistoryPageOptions,
  JsonValue,
  ListSessionsOptions,
  MemoryCapabilities,
  Message,
  MessageDigest,
  Metadata,
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
  SessionFilter,
  SessionSummary,
  SessionsPageOptions,
  UpdateSessionInput,
  UpsertOptions,
  UpsertResult,
} from './types.js';
import {
  assertId,
  assertTitle,
  type ListingView,
  type ValidMessage,
  validateExportOptions,
  validateHistoryOptions,
  validateHistoryPageOptions,
  validateIdList,
  validateImportOptions,
  validateListSessionsOptions,
  validateMessageList,
  validateNewMessage,
  validateNewSession,
  validatePortableRecord,
  validatePurgeOptions,
  validateRewriteInput,
  validateSearchOptions,
  validateSessionsPageOptions,
  validateUpdateSessionInput,
  validateUpsertOptions,
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
  /**
   * The payload (contract 1.1), `null` when none. The base always sets it (and `format`) on the records it
   * passes to `_addMessage`; it is optional in this type only so that records a backend builds itself (from
   * version 1 portable messages) still type-check. A backend without `structuredMessages` never receives a
   * non-null one. Write `payloadJson` of `_addMessage`'s third argument rather than serialising it again.
   */
  payload?: JsonValue | null;
  /** The payload's format tag, `null` when none; see `payload`. */
  format?: string | null;
}

/**
 * What the base computed for a message it passes to a hook: the payload's JSON text (what SQL backends store)
 * and the message's {@link messageDigest}. Kept apart from the record, which a backend may store as the message.
 */
export interface EncodedMessage {
  /** `JSON.stringify(payload)`, `null` when the payload is `null`. */
  payloadJson: string | null;
  /** The message's digest (SHA-256 hex of its role, content, metadata, format and payload). */
  digest: string;
}

/**
 * A message as the history-editing hooks receive it: a validated record with its id chosen (a fresh UUID v4
 * for a message given without one), `payload` and `format` set, and its encoding. `createdAt` is the call's
 * "now"; see each hook for which timestamp an appended or replaced row gets. Do not store this object as the
 * message itself: it carries `payloadJson` and `digest`, which are not fields of a `Message`.
 */
export interface MessageWrite extends MessageRecord, EncodedMessage {
  payload: JsonValue | null;
  format: string | null;
}

/**
 * A message as a history read returns it. A backend without `structuredMessages` may leave `payload` and
 * `format` out; the base returns them as `null`.
 */
export type MessageRow = Omit<Message, 'payload' | 'format'> & {
  readonly payload?: JsonValue | null;
  readonly format?: string | null;
};

/**
 * An `operationId` (contract 1.1) as the editing hooks receive it, with the digest of the request it came with.
 * A backend keeps, per session and in the same transaction as the edit, `operationId`, `requestDigest` and the
 * result; before anything else (preconditions included), a stored `operationId` with the same `requestDigest`
 * returns the stored result and changes nothing, one with another digest throws
 * `ConflictError('history', sessionId, undefined, { reason: 'operation-reused' })`. It keeps the latest
 * `LIMITS.operationsKept` per session and deletes them with the session.
 */
export interface OperationKey {
  operationId: string;
  /** SHA-256 hex of the request (the kind of call and every argument but the generated ids). */
  requestDigest: string;
}

/** What `_upsertMessages` receives. */
export interface UpsertRequest {
  sessionId: string;
  /**
   * The messages in call order, ids distinct. One whose id is not stored in the session is appended with
   * `createdAt` = max(`now`, the session's latest `createdAt`); one whose id is stored is replaced in place,
   * keeping its position (order key, seq) and stored `createdAt`, unless its `digest` equals the stored one
   * (not written, counted `unchanged`).
   */
  messages: MessageWrite[];
  /**
   * `undefined`: no check. Otherwise the id the session's latest message (in history order) must have, or `null`
   * for an empty history; else `ConflictError('history', sessionId, undefined, { reason: 'last-id' })`.
   */
  ifLastId: string | null | undefined;
  /** The operation to record or replay; `undefined` when the call has none. */
  operation: OperationKey | undefined;
  /** The call's time: the session's new `updatedAt` when anything was written (the session row updated once). */
  now: Date;
}

/** What `_rewriteHistory` receives. */
export interface RewriteRequest {
  sessionId: string;
  /**
   * Keep the messages up to this id (history order) and remove the rest; `null` removes them all. An id not in
   * the session is `ConflictError('history', sessionId, undefined, { reason: 'after-missing' })`.
   */
  after: string | null;
  /**
   * When given, the removed messages' ids must be exactly these, in history order, else
   * `ConflictError('history', sessionId, undefined, { reason: 'expected-ids' })`.
   */
  expectedIds: readonly string[] | undefined;
  /** When given, the removed messages' digests must be exactly these, in order (same conflict as `expectedIds`). */
  expectedDigests: readonly string[] | undefined;
  /**
   * Appended after the kept messages, in order, with `createdAt` = max(`now`, the kept messages' latest
   * `createdAt`); their ids are distinct and may be ids of removed messages.
   */
  messages: MessageWrite[];
  /** The operation to record or replay; `undefined` when the call has none. */
  operation: OperationKey | undefined;
  /** The call's time: the session's new `updatedAt` when anything was removed or appended. */
  now: Date;
}

/** What `_updateSession` receives: validated, `metadata` and `metadataPatch` never both set. */
export interface SessionUpdate {
  /** The new title (`null` clears it); `undefined` leaves it. */
  title: string | null | undefined;
  /** Replaces the metadata; `undefined` leaves it (or `metadataPatch` changes it). */
  metadata: Metadata | undefined;
  /** RFC 7396 merge patch applied to the stored metadata, inside the transaction. */
  metadataPatch: Metadata | undefined;
  /**
   * The stored metadata must contain this (`jsonContains`), checked with the row locked, else
   * `ConflictError('session', sessionId, undefined, { reason: 'if-metadata' })` and nothing changes.
   */
  ifMetadata: Metadata | undefined;
  /**
   * The session's new `updatedAt`: set when `title` is given, `undefined` otherwise (a metadata-only update
   * leaves `updatedAt` as it is).
   */
  updatedAt: Date | undefined;
}

/** One batch of `purgeSessions`, as `_purgeBatch` receives it. */
export interface PurgeBatch {
  /** Delete sessions whose `updatedAt` is earlier, re-checked inside the batch's transaction. */
  inactiveBefore: Date;
  /** At most this many sessions in this batch (one short transaction). */
  limit: number;
  /** Where the previous batch stopped (the backend's own `next`), `null` for the first batch. */
  after: string | null;
}

/** What one `_purgeBatch` did. */
export interface PurgeBatchResult {
  /** Sessions deleted. */
  sessions: number;
  /** Their messages, deleted with them. */
  messages: number;
  /**
   * Sessions passed over because their `updatedAt` cannot be read (never deleted). Each such session must be
   * counted in exactly one batch of the purge.
   */
  unreadable: number;
  /**
   * Opaque to the base: passed back as the next batch's `after`; `null` when no candidate remains. A backend
   * whose candidates disappear as they are deleted may return any non-null marker until a batch finds none.
   */
  next: string | null;
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
  message: MessageRow;
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

const NO_CAPABILITIES: MemoryCapabilities = Object.freeze({
  metadataFilter: false,
  fullTextSearch: false,
  structuredMessages: false,
  historyEditing: false,
  sessionUpdates: false,
  retention: false,
});

/**
 * A backend's capabilities from the ones it declares: every capability not named is `false`, so a backend
 * written before a capability existed keeps compiling and reports it missing. Frozen.
 */
export function declareCapabilities(declared: Partial<MemoryCapabilities>): MemoryCapabilities {
  return Object.freeze({ ...NO_CAPABILITIES, ...declared });
}

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
   * the session does not exist in `scope`, `ConflictError` when the message id is taken. With
   * `historyEditing`, ids are unique per session: an id stored in that session whose digest equals
   * `encoded.digest` writes nothing and returns normally (a retry); a different message under it is a
   * `ConflictError` (reason `'exists'`); the same id in another session is no conflict. `encoded` (contract 1.1)
   * holds the payload's JSON text and the digest; the base always passes it, a backend written before may ignore
   * it, and a subclass calling `super._addMessage(record, scope)` may leave it out (then `encodeMessage(record)`).
   */
  protected abstract _addMessage(
    message: MessageRecord,
    scope: Scope,
    encoded?: EncodedMessage,
  ): Promise<void>;
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
      return rows.map((row) => completeMessage(row.message));
    }
    const rows = await this._readHistory({ sessionId, order: 'newest', from: null, limit }, scope);
    return rows.reverse().map((row) => completeMessage(row.message));
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
      items: page.reverse().map((row) => completeMessage(row.message)),
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
        // Left out when null, so that a message without them is exported as format version 1 wrote it.
        ...(m.payload != null && { payload: m.payload }),
        ...(m.format != null && { format: m.format }),
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

  // ---- Contract 1.1 hooks: optional, each throwing UnsupportedCapabilityError until the backend overrides it
  // and declares the capability. Each runs in the session's write queue, receives validated input and the scope
  // (a session outside it behaves as missing), and must be atomic: one transaction, nothing changed on a throw.

  /**
   * `upsertMessages` (see {@link UpsertRequest}): in one transaction, replays `operation` if recorded, checks
   * `ifLastId`, appends, replaces or skips each message, updates the session row once (`updatedAt` = `now`
   * when anything was written, counts and `lastMessageAt` exact) and records `operation` with the result.
   * Throws `SessionNotFoundError` when the session is not in `scope`. Needs `historyEditing`.
   */
  protected _upsertMessages(_request: UpsertRequest, _scope: Scope): Promise<UpsertResult> {
    return Promise.reject(new UnsupportedCapabilityError('historyEditing'));
  }

  /**
   * `rewriteHistory` (see {@link RewriteRequest}): in one transaction, replays `operation` if recorded, checks
   * `after`, `expectedIds` and `expectedDigests`, removes the suffix, appends `messages`, sets `updatedAt` =
   * `now` if anything changed, keeps counts exact and records `operation`. Returns the removed ids in history
   * order and the appended ids in order. Throws `SessionNotFoundError` when the session is not in `scope`.
   * Costs in proportion to the suffix. Needs `historyEditing`.
   */
  protected _rewriteHistory(_request: RewriteRequest, _scope: Scope): Promise<RewriteResult> {
    return Promise.reject(new UnsupportedCapabilityError('historyEditing'));
  }

  /**
   * Deletes the session's messages with these ids (distinct; unknown ones ignored) and returns how many it
   * deleted; `0` when the session is not in `scope`. When it deleted any: `updatedAt` = `now`, counts and
   * `lastMessageAt` exact. Needs `historyEditing`.
   */
  protected _deleteMessages(
    _sessionId: string,
    _ids: readonly string[],
    _now: Date,
    _scope: Scope,
  ): Promise<number> {
    return Promise.reject(new UnsupportedCapabilityError('historyEditing'));
  }

  /**
   * Removes and returns the session's latest message in history order (highest order key, then seq), or `null`
   * when it has none or is not in `scope`. When it removed one: `updatedAt` = `now`, counts and `lastMessageAt`
   * exact. Needs `historyEditing`.
   */
  protected _popMessage(_sessionId: string, _now: Date, _scope: Scope): Promise<MessageRow | null> {
    return Promise.reject(new UnsupportedCapabilityError('historyEditing'));
  }

  /**
   * The id and digest of each of the session's messages, oldest first (history order), without reading
   * payloads; `[]` when the session is not in `scope`. Rows written without a digest (legacy writers) get theirs
   * computed from their fields (`digestOf`). Needs `historyEditing`.
   */
  protected _readDigests(_sessionId: string, _scope: Scope): Promise<MessageDigest[]> {
    return Promise.reject(new UnsupportedCapabilityError('historyEditing'));
  }

  /**
   * `updateSession` (see {@link SessionUpdate}): in one transaction with the session's row locked, checks
   * `ifMetadata`, computes the new metadata (`applySessionUpdate` does both, and the merge patch), writes title,
   * metadata and, when set, `updatedAt`, and returns the session as it is after; `null` when the session is not
   * in `scope`. Needs `sessionUpdates`.
   */
  protected _updateSession(
    _sessionId: string,
    _update: SessionUpdate,
    _scope: Scope,
  ): Promise<Session | null> {
    return Promise.reject(new UnsupportedCapabilityError('sessionUpdates'));
  }

  /**
   * One bounded batch of `purgeSessions` (see {@link PurgeBatch}): in one short transaction, deletes up to
   * `limit` sessions of `scope` whose `updatedAt` is earlier than `inactiveBefore` (re-checked inside the
   * transaction, so a session written to meanwhile stays) with their messages and recorded operations. Sessions
   * whose `updatedAt` cannot be read are never deleted, and counted once in `unreadable`. The base calls it
   * until `next` is `null`, checking the abort signal between batches. Needs `retention`.
   */
  protected _purgeBatch(_batch: PurgeBatch, _scope: Scope): Promise<PurgeBatchResult> {
    return Promise.reject(new UnsupportedCapabilityError('retention'));
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
  upsertMessages(
    sessionId: string,
    messages: readonly NewMessage[],
    options?: UpsertOptions,
  ): Promise<UpsertResult> {
    return this.#upsertMessages(UNSCOPED, sessionId, messages, options);
  }
  rewriteHistory(sessionId: string, input: RewriteInput): Promise<RewriteResult> {
    return this.#rewriteHistory(UNSCOPED, sessionId, input);
  }
  deleteMessages(sessionId: string, ids: readonly string[]): Promise<number> {
    return this.#deleteMessages(UNSCOPED, sessionId, ids);
  }
  popMessage(sessionId: string): Promise<Message | null> {
    return this.#popMessage(UNSCOPED, sessionId);
  }
  getHistoryDigests(sessionId: string): Promise<MessageDigest[]> {
    return this.#getHistoryDigests(UNSCOPED, sessionId);
  }
  updateSession(sessionId: string, input: UpdateSessionInput): Promise<Session> {
    return this.#updateSession(UNSCOPED, sessionId, input);
  }
  purgeSessions(options: PurgeOptions): Promise<PurgeResult> {
    return this.#purgeSessions(UNSCOPED, options);
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
      upsertMessages: (scope, sessionId, messages, options) =>
        this.#upsertMessages(scope, sessionId, messages, options),
      rewriteHistory: (scope, sessionId, input) => this.#rewriteHistory(scope, sessionId, input),
      deleteMessages: (scope, sessionId, ids) => this.#deleteMessages(scope, sessionId, ids),
      popMessage: (scope, sessionId) => this.#popMessage(scope, sessionId),
      getHistoryDigests: (scope, sessionId) => this.#getHistoryDigests(scope, sessionId),
      updateSession: (scope, sessionId, input) => this.#updateSession(scope, sessionId, input),
      purgeSessions: (scope, options) => this.#purgeSessions(scope, options),
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
    this.#assertStructured([valid]);
    const id = valid.id ?? randomUUID();
    return this.#write(sessionId, async () => {
      const { role, content, metadata, payload, format, payloadJson, digest } = valid;
      const record = { id, sessionId, role, content, metadata, payload, format, createdAt: this.#now() };
      await this._addMessage(record, scope, { payloadJson, digest });
      return id;
    });
  }

  async #upsertMessages(
    scope: Scope,
    sessionId: string,
    messages: readonly NewMessage[],
    options: UpsertOptions | undefined,
  ): Promise<UpsertResult> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const valid = validateMessageList('messages', messages);
    const { operationId, ifLastId } = validateUpsertOptions(options);
    this.#assertCapability('historyEditing');
    this.#assertStructured(valid);
    const operation = operationKey(
      operationId,
      ['upsertMessages', ifLastId ?? null, ifLastId === undefined],
      valid,
    );
    return this.#write(sessionId, () => {
      const now = this.#now();
      const writes = valid.map((message) => messageWrite(message, sessionId, now));
      return this._upsertMessages({ sessionId, messages: writes, ifLastId, operation, now }, scope);
    });
  }

  async #rewriteHistory(scope: Scope, sessionId: string, input: RewriteInput): Promise<RewriteResult> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const { after, expectedIds, expectedDigests, messages, operationId } = validateRewriteInput(input);
    this.#assertCapability('historyEditing');
    this.#assertStructured(messages);
    const request = ['rewriteHistory', after, expectedIds ?? null, expectedDigests ?? null];
    const operation = operationKey(operationId, request, messages);
    return this.#write(sessionId, () => {
      const now = this.#now();
      const writes = messages.map((message) => messageWrite(message, sessionId, now));
      return this._rewriteHistory(
        { sessionId, after, expectedIds, expectedDigests, messages: writes, operation, now },
        scope,
      );
    });
  }

  async #deleteMessages(scope: Scope, sessionId: string, ids: readonly string[]): Promise<number> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const distinct = validateIdList('ids', ids);
    this.#assertCapability('historyEditing');
    if (distinct.length === 0) return 0;
    return this.#write(sessionId, () => this._deleteMessages(sessionId, distinct, this.#now(), scope));
  }

  async #popMessage(scope: Scope, sessionId: string): Promise<Message | null> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    this.#assertCapability('historyEditing');
    return this.#write(sessionId, async () => {
      const row = await this._popMessage(sessionId, this.#now(), scope);
      return row && completeMessage(row);
    });
  }

  async #getHistoryDigests(scope: Scope, sessionId: string): Promise<MessageDigest[]> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    this.#assertCapability('historyEditing');
    await this.#writes.settled(sessionId);
    return this.#call(() => this._readDigests(sessionId, scope));
  }

  async #updateSession(scope: Scope, sessionId: string, input: UpdateSessionInput): Promise<Session> {
    this.#assertOpen();
    assertId('sessionId', sessionId);
    const valid = validateUpdateSessionInput(input);
    this.#assertCapability('sessionUpdates');
    return this.#write(sessionId, async () => {
      const updatedAt = valid.title === undefined ? undefined : this.#now();
      const session = await this._updateSession(sessionId, { ...valid, updatedAt }, scope);
      if (session === null) throw new SessionNotFoundError(sessionId);
      return session;
    });
  }

  async #purgeSessions(scope: Scope, options: PurgeOptions): Promise<PurgeResult> {
    this.#assertOpen();
    const { inactiveBefore, batchSize, signal } = validatePurgeOptions(options);
    this.#assertCapability('retention');
    await this.#writes.allSettled();
    const total: PurgeResult = { sessions: 0, messages: 0, unreadable: 0 };
    let after: string | null = null;
    do {
      // Between batches only: a batch's transaction is never cut short, so what it deleted stays deleted.
      signal?.throwIfAborted();
      this.#assertOpen();
      const from = after;
      const batch: PurgeBatchResult = await this.#call(() =>
        this._purgeBatch({ inactiveBefore, limit: batchSize, after: from }, scope),
      );
      total.sessions += batch.sessions;
      total.messages += batch.messages;
      total.unreadable += batch.unreadable;
      after = batch.next;
    } while (after !== null);
    return total;
  }

  /** Refuses a call needing a capability this backend does not declare (after its arguments were validated). */
  #assertCapability(capability: keyof MemoryCapabilities): void {
    if (!this.capabilities[capability]) throw new UnsupportedCapabilityError(capability);
  }

  /** Refuses payloads and formats on a backend without `structuredMessages`, instead of dropping them. */
  #assertStructured(messages: readonly ValidMessage[]): void {
    if (this.capabilities.structuredMessages) return;
    if (messages.some((m) => m.payload !== null || m.format !== null)) {
      throw new UnsupportedCapabilityError('structuredMessages');
    }
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
        if (!this.capabilities.structuredMessages && (record.payload != null || record.format != null)) {
          throw new UnsupportedCapabilityError('structuredMessages');
        }
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

/** A message a hook read, with `payload` and `format` as `null` when the backend left them out. */
function completeMessage(message: MessageRow): Message {
  if (message.payload !== undefined && message.format !== undefined) return message as Message;
  return { ...message, payload: message.payload ?? null, format: message.format ?? null };
}

/** A validated message as the editing hooks receive it, its id chosen. */
function messageWrite(message: ValidMessage, sessionId: string, now: Date): MessageWrite {
  const { role, content, metadata, payload, format, payloadJson, digest } = message;
  const id = message.id ?? randomUUID();
  return { id, sessionId, role, content, metadata, payload, format, payloadJson, digest, createdAt: now };
}

/**
 * The operation of a call with an `operationId`: the id and the digest of the request (the call's kind, its other
 * arguments, and each message's given id or `null` with its digest), so that a replay matches whatever ids the
 * first call generated.
 */
function operationKey(
  operationId: string | undefined,
  request: readonly unknown[],
  messages: readonly ValidMessage[],
): OperationKey | undefined {
  if (operationId === undefined) return undefined;
  const text = JSON.stringify([...request, messages.map((m) => [m.id ?? null, m.digest])]);
  return { operationId, requestDigest: sha256Hex(text) };
}
