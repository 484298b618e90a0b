import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type EncodedMessage,
  type HistoryRead,
  type HistoryRow,
  type MessageRecord,
  type MessageWrite,
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
import type { HistoryPosition } from '../cursor.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import { type RecordedOperation, replayOperation } from '../operations.js';
import type { ImportResult, PortableMessage, PortableSession } from '../portable.js';
import { matchContent, snippetOf } from '../search/match-message.js';
import { jsonContains } from '../search/metadata-contains.js';
import type { SearchTerm } from '../search/search-query.js';
import { applySessionUpdate } from '../session-update.js';
import { dateToIsoMicros, isoMicrosToDate } from '../timestamp.js';
import type {
  JsonValue,
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
import { LIMITS } from '../types.js';
import { encodeMessage } from '../validation.js';
import { compareSessionsByActivity, compareSessionsByCreation } from './ordering.js';

const CAPABILITIES: MemoryCapabilities = Object.freeze({
  metadataFilter: true,
  fullTextSearch: true,
  structuredMessages: true,
  historyEditing: true,
  sessionUpdates: true,
  retention: true,
});

interface StoredMessage {
  message: Message;
  /** Insertion sequence, as SQL backends keep in `messages.seq`; a replaced message keeps it. */
  seq: number;
  /** The message's digest, as SQL backends keep in `messages.digest`. */
  digest: string;
}

interface StoredSession {
  session: Session;
  /** In history order: `createdAt`, then `seq`. */
  messages: StoredMessage[];
  /** The same messages by id: ids are unique within a session. */
  byId: Map<string, StoredMessage>;
  /** Operations by id, oldest first (a `Map` keeps insertion order), at most `LIMITS.operationsKept`. */
  operations: Map<string, RecordedOperation<UpsertResult | RewriteResult>>;
}

/** Options of {@link InMemoryConversationMemory}. */
export interface InMemoryMemoryOptions extends BaseMemoryOptions {}

/**
 * The reference backend: everything in a `Map`, nothing persisted. It passes the conformance suite and is meant
 * for users' own unit tests and as the model the suite compares other backends with. Values are deep-copied on
 * the way in and out, as a database would.
 */
export class InMemoryConversationMemory extends BaseConversationMemory {
  readonly #sessions = new Map<string, StoredSession>();
  #seq = 0;

  constructor(options: InMemoryMemoryOptions = {}) {
    super(options);
  }

  #visible(sessionId: string, scope: Scope): StoredSession | undefined {
    const stored = this.#sessions.get(sessionId);
    return stored && inScope(stored.session, scope) ? stored : undefined;
  }

  protected async _createSession(record: SessionRecord): Promise<void> {
    if (this.#sessions.has(record.id)) throw new ConflictError('session', record.id);
    const { id, title, metadata, createdAt, ownerId } = record;
    const session = {
      id,
      title,
      createdAt,
      updatedAt: createdAt,
      metadata: jsonCopy(metadata),
      ownerId,
    };
    this.#sessions.set(id, emptySession(session));
  }

  protected async _addMessage(
    record: MessageRecord,
    scope: Scope,
    encoded: EncodedMessage = encodeMessage(record),
  ): Promise<void> {
    const stored = this.#visible(record.sessionId, scope);
    if (!stored) throw new SessionNotFoundError(record.sessionId);
    const existing = stored.byId.get(record.id);
    if (existing) {
      // A retry of a committed addMessage resolves; another message under the id is a conflict.
      if (existing.digest === encoded.digest) return;
      throw new ConflictError('message', record.id);
    }
    this.#append(stored, {
      ...record,
      ...encoded,
      payload: record.payload ?? null,
      format: record.format ?? null,
    });
    stored.session = { ...stored.session, updatedAt: record.createdAt };
  }

  /** Appends at the end of the history, with the record's `createdAt`, which the caller chose not to go back. */
  #append(stored: StoredSession, write: MessageWrite): void {
    const entry = { message: storedMessage(write, write.createdAt), seq: ++this.#seq, digest: write.digest };
    stored.messages.push(entry);
    stored.byId.set(write.id, entry);
  }

  /** Removes `entries` (which are stored in `stored`) from the history. */
  #remove(stored: StoredSession, entries: readonly StoredMessage[]): void {
    const gone = new Set(entries);
    stored.messages = stored.messages.filter((entry) => !gone.has(entry));
    for (const entry of entries) stored.byId.delete(entry.message.id);
  }

  /** Records an operation's result, forgetting the oldest beyond `LIMITS.operationsKept`. */
  #record(
    stored: StoredSession,
    request: UpsertRequest | RewriteRequest,
    result: UpsertResult | RewriteResult,
  ) {
    if (request.operation === undefined) return;
    stored.operations.set(request.operation.operationId, {
      requestDigest: request.operation.requestDigest,
      result: structuredClone(result),
    });
    for (const id of stored.operations.keys()) {
      if (stored.operations.size <= LIMITS.operationsKept) break;
      stored.operations.delete(id);
    }
  }

  /** The session in `scope`, or `SessionNotFoundError`. */
  #require(sessionId: string, scope: Scope): StoredSession {
    const stored = this.#visible(sessionId, scope);
    if (!stored) throw new SessionNotFoundError(sessionId);
    return stored;
  }

  protected override async _upsertMessages(request: UpsertRequest, scope: Scope): Promise<UpsertResult> {
    const stored = this.#require(request.sessionId, scope);
    const replayed = replayOperation(request.sessionId, request.operation, recorded(stored, request));
    if (replayed) return structuredClone(replayed as UpsertResult);
    if (request.ifLastId !== undefined) {
      const lastId = stored.messages.at(-1)?.message.id ?? null;
      if (lastId !== request.ifLastId) {
        throw new ConflictError('history', request.sessionId, undefined, { reason: 'last-id' });
      }
    }
    // Nothing below throws, so the edit is all or nothing as a transaction would make it.
    const result: UpsertResult = { ids: [], appended: 0, replaced: 0, unchanged: 0 };
    for (const write of request.messages) {
      result.ids.push(write.id);
      const existing = stored.byId.get(write.id);
      if (existing === undefined) {
        this.#append(stored, { ...write, createdAt: notBeforeLast(stored, request.now) });
        result.appended++;
      } else if (existing.digest === write.digest) {
        result.unchanged++;
      } else {
        // In place: the position (seq, createdAt) stays, the fields change.
        existing.message = storedMessage(write, existing.message.createdAt);
        existing.digest = write.digest;
        result.replaced++;
      }
    }
    if (result.appended + result.replaced > 0) stored.session = { ...stored.session, updatedAt: request.now };
    this.#record(stored, request, result);
    return result;
  }

  protected override async _rewriteHistory(request: RewriteRequest, scope: Scope): Promise<RewriteResult> {
    const { sessionId, after } = request;
    const stored = this.#require(sessionId, scope);
    const replayed = replayOperation(sessionId, request.operation, recorded(stored, request));
    if (replayed) return structuredClone(replayed as RewriteResult);
    const keep = after === null ? 0 : stored.messages.findIndex((entry) => entry.message.id === after) + 1;
    if (keep === 0 && after !== null) {
      throw new ConflictError('history', sessionId, undefined, { reason: 'after-missing' });
    }
    const removed = stored.messages.slice(keep);
    const differs = (expected: readonly string[] | undefined, actual: string[]) =>
      expected !== undefined &&
      (expected.length !== actual.length || expected.some((value, i) => value !== actual[i]));
    if (
      differs(
        request.expectedIds,
        removed.map((entry) => entry.message.id),
      ) ||
      differs(
        request.expectedDigests,
        removed.map((entry) => entry.digest),
      )
    ) {
      throw new ConflictError('history', sessionId, undefined, { reason: 'expected-ids' });
    }
    const kept = new Set(stored.messages.slice(0, keep).map((entry) => entry.message.id));
    const reused = request.messages.find((write) => kept.has(write.id));
    if (reused) throw new ConflictError('message', reused.id);
    this.#remove(stored, removed);
    const createdAt = notBeforeLast(stored, request.now);
    for (const write of request.messages) this.#append(stored, { ...write, createdAt });
    if (removed.length + request.messages.length > 0) {
      stored.session = { ...stored.session, updatedAt: request.now };
    }
    const result = {
      removed: removed.map((entry) => entry.message.id),
      ids: request.messages.map((write) => write.id),
    };
    this.#record(stored, request, result);
    return result;
  }

  protected override async _deleteMessages(
    sessionId: string,
    ids: readonly string[],
    now: Date,
    scope: Scope,
  ): Promise<number> {
    const stored = this.#visible(sessionId, scope);
    if (!stored) return 0;
    const doomed = ids.flatMap((id) => stored.byId.get(id) ?? []);
    if (doomed.length === 0) return 0;
    this.#remove(stored, doomed);
    stored.session = { ...stored.session, updatedAt: now };
    return doomed.length;
  }

  protected override async _popMessage(sessionId: string, now: Date, scope: Scope): Promise<Message | null> {
    const stored = this.#visible(sessionId, scope);
    const last = stored?.messages.at(-1);
    if (!stored || !last) return null;
    this.#remove(stored, [last]);
    stored.session = { ...stored.session, updatedAt: now };
    return copyMessage(last.message);
  }

  protected override async _readDigests(sessionId: string, scope: Scope): Promise<MessageDigest[]> {
    const messages = this.#visible(sessionId, scope)?.messages ?? [];
    return messages.map((entry) => ({ id: entry.message.id, digest: entry.digest }));
  }

  protected override async _updateSession(
    sessionId: string,
    update: SessionUpdate,
    scope: Scope,
  ): Promise<Session | null> {
    const stored = this.#visible(sessionId, scope);
    if (!stored) return null;
    const metadata = jsonCopy(applySessionUpdate(sessionId, stored.session.metadata, update));
    stored.session = {
      ...stored.session,
      metadata,
      ...(update.title !== undefined && { title: update.title }),
      ...(update.updatedAt !== undefined && { updatedAt: update.updatedAt }),
    };
    return copySession(stored.session);
  }

  protected override async _purgeBatch(batch: PurgeBatch, scope: Scope): Promise<PurgeBatchResult> {
    // Deleted sessions leave the candidates, so every batch starts from the oldest remaining one.
    const idle = this.#inScope(scope)
      .filter((stored) => stored.session.updatedAt.getTime() < batch.inactiveBefore.getTime())
      .sort((a, b) => compareSessionsByActivity(b.session, a.session));
    const doomed = idle.slice(0, batch.limit);
    let messages = 0;
    for (const stored of doomed) {
      messages += stored.messages.length;
      this.#sessions.delete(stored.session.id);
    }
    return {
      sessions: doomed.length,
      messages,
      unreadable: 0,
      next: idle.length > batch.limit ? 'more' : null,
    };
  }

  protected async _readHistory(read: HistoryRead, scope: Scope): Promise<HistoryRow[]> {
    // Kept in history order (appends are monotonic, imports re-sort), so a position is an index.
    const messages = this.#visible(read.sessionId, scope)?.messages ?? [];
    const { from, limit = messages.length } = read;
    const start = from === null ? 0 : messages.filter((m) => !isAfter(m, from)).length;
    const end = from === null ? messages.length : messages.filter((m) => isBefore(m, from)).length;
    const rows =
      read.order === 'oldest'
        ? messages.slice(start, start + limit)
        : messages.slice(Math.max(0, end - limit), end).reverse();
    return rows.map((m) => ({
      message: copyMessage(m.message),
      position: { createdAt: dateToIsoMicros(m.message.createdAt), seq: m.seq },
    }));
  }

  override get capabilities(): MemoryCapabilities {
    return CAPABILITIES;
  }

  protected async _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]> {
    let sessions: StoredSession[];
    let skip = 0;
    if (listing.order === 'activity') {
      sessions = this.#inScope(scope, listing.where).sort((a, b) =>
        compareSessionsByActivity(a.session, b.session),
      );
      skip = listing.offset;
    } else if (listing.order === 'created') {
      const { after } = listing;
      const from = after && { id: after.id, createdAt: isoMicrosToDate(after.createdAt) };
      sessions = this.#inScope(scope, listing.where)
        .filter((s) => !from || compareSessionsByCreation(s.session, from) > 0)
        .sort((a, b) => compareSessionsByCreation(a.session, b.session));
    } else {
      const { after } = listing;
      const wanted = listing.ids && new Set(listing.ids);
      sessions = this.#inScope(scope)
        .filter(({ session: { id } }) => (after === null || id > after) && (!wanted || wanted.has(id)))
        .sort((a, b) => (a.session.id < b.session.id ? -1 : a.session.id > b.session.id ? 1 : 0));
    }
    return sessions.slice(skip, skip + listing.limit).map(summarise);
  }

  protected async _getSession(sessionId: string, scope: Scope): Promise<Session | null> {
    const stored = this.#visible(sessionId, scope);
    return stored ? copySession(stored.session) : null;
  }

  protected async _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean> {
    const stored = this.#visible(sessionId, scope);
    if (!stored) return false;
    stored.session = { ...stored.session, title, updatedAt };
    return true;
  }

  protected async _deleteSession(sessionId: string, scope: Scope): Promise<boolean> {
    if (!this.#visible(sessionId, scope)) return false;
    this.#sessions.delete(sessionId);
    return true;
  }

  protected async _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult> {
    // Checked before anything is written, as the SQL backends' transaction would roll back: a message may name
    // a session of this batch, unless that id is already taken by a session outside the scope.
    const arriving = new Set(sessions.map((s) => s.id));
    for (const message of messages) {
      const id = message.sessionId;
      if (!this.#visible(id, scope) && !(arriving.has(id) && !this.#sessions.has(id))) {
        throw new SessionNotFoundError(id);
      }
    }
    const result: ImportResult = {
      sessions: { written: 0, skipped: 0 },
      messages: { written: 0, skipped: 0 },
    };
    for (const s of sessions) {
      if (this.#sessions.has(s.id)) {
        result.sessions.skipped++;
        continue;
      }
      const session = {
        id: s.id,
        title: s.title,
        createdAt: isoMicrosToDate(s.createdAt),
        updatedAt: isoMicrosToDate(s.updatedAt),
        metadata: jsonCopy(s.metadata),
        ownerId: s.ownerId,
      };
      this.#sessions.set(s.id, emptySession(session));
      result.sessions.written++;
    }
    const touched = new Set<StoredSession>();
    for (const { type: _, ...m } of messages) {
      const stored = this.#visible(m.sessionId, scope)!;
      if (stored.byId.has(m.id)) {
        result.messages.skipped++;
        continue;
      }
      const payload = m.payload ?? null;
      const format = m.format ?? null;
      const encoded = encodeMessage({ ...m, payload, format });
      const write = { ...m, ...encoded, payload, format, createdAt: isoMicrosToDate(m.createdAt) };
      const entry = {
        message: storedMessage(write, write.createdAt),
        seq: ++this.#seq,
        digest: encoded.digest,
      };
      stored.messages.push(entry);
      stored.byId.set(m.id, entry);
      touched.add(stored);
      result.messages.written++;
    }
    // Imported messages may arrive out of time order; keep each history in the SQL backends' read order.
    for (const stored of touched) {
      stored.messages.sort(
        (a, b) => a.message.createdAt.getTime() - b.message.createdAt.getTime() || a.seq - b.seq,
      );
    }
    return result;
  }

  // No `_check` override: the derived one counts this store's sessions and messages in scope, and reports no
  // `orphanMessages`, since a message is only ever stored inside its session here.

  protected override _describeLocation() {
    return { backend: 'memory', location: 'process memory' };
  }

  protected async _close(): Promise<void> {
    this.#sessions.clear();
  }

  protected override async _searchMessages(
    terms: readonly SearchTerm[],
    request: SearchRequest,
    scope: Scope,
  ): Promise<SearchHit[]> {
    const hits: { hit: SearchHit; seq: number }[] = [];
    const sessions =
      request.sessionId === undefined ? this.#inScope(scope) : [this.#visible(request.sessionId, scope)];
    for (const stored of sessions) {
      for (const { message, seq } of stored?.messages ?? []) {
        if (request.role !== undefined && message.role !== request.role) continue;
        const rank = matchContent(message.content, terms);
        if (rank > 0) hits.push({ hit: { message, rank, snippet: snippetOf(message.content, terms) }, seq });
      }
    }
    return hits
      .sort(
        (a, b) =>
          b.hit.rank - a.hit.rank ||
          b.hit.message.createdAt.getTime() - a.hit.message.createdAt.getTime() ||
          b.seq - a.seq,
      )
      .slice(request.offset, request.offset + request.limit)
      .map(({ hit }) => ({ ...hit, message: copyMessage(hit.message) }));
  }

  #inScope(scope: Scope, where?: SessionFilter): StoredSession[] {
    return [...this.#sessions.values()].filter(
      (stored) =>
        inScope(stored.session, scope) &&
        (where?.metadata === undefined || jsonContains(stored.session.metadata, where.metadata)),
    );
  }
}

/**
 * Stores metadata as a database would: through JSON, so `-0` becomes `0` exactly as on the SQL backends
 * (a structured clone would keep it and make the reference differ from them).
 */
function jsonCopy(metadata: Metadata): Metadata {
  return JSON.parse(JSON.stringify(metadata)) as Metadata;
}

function emptySession(session: Session): StoredSession {
  return { session, messages: [], byId: new Map(), operations: new Map() };
}

/** The message to keep for `write`: its fields only (no encoding), its payload parsed from its JSON text. */
function storedMessage(write: MessageWrite, createdAt: Date): Message {
  const { id, sessionId, role, content, metadata, format, payloadJson } = write;
  const payload = payloadJson === null ? null : (JSON.parse(payloadJson) as JsonValue);
  return { id, sessionId, role, content, createdAt, metadata: jsonCopy(metadata), payload, format };
}

/** `now`, or the session's latest `createdAt` when later: an appended message never sorts before the last. */
function notBeforeLast(stored: StoredSession, now: Date): Date {
  const last = stored.messages.at(-1)?.message.createdAt;
  return last !== undefined && last.getTime() > now.getTime() ? new Date(last) : now;
}

function recorded(
  stored: StoredSession,
  request: UpsertRequest | RewriteRequest,
): RecordedOperation<UpsertResult | RewriteResult> | undefined {
  return request.operation && stored.operations.get(request.operation.operationId);
}

function inScope(session: Session, scope: Scope): boolean {
  return scope.ownerId === null || session.ownerId === scope.ownerId;
}

function isBefore(m: StoredMessage, position: HistoryPosition): boolean {
  const at = dateToIsoMicros(m.message.createdAt);
  return at < position.createdAt || (at === position.createdAt && m.seq < position.seq);
}

function isAfter(m: StoredMessage, position: HistoryPosition): boolean {
  const at = dateToIsoMicros(m.message.createdAt);
  return at > position.createdAt || (at === position.createdAt && m.seq > position.seq);
}

function summarise({ session, messages }: StoredSession): SessionSummary {
  const last = messages[messages.length - 1];
  return {
    ...copySession(session),
    messageCount: messages.length,
    lastMessageAt: last ? new Date(last.message.createdAt) : null,
  };
}

function copySession(session: Session): Session {
  return {
    ...session,
    createdAt: new Date(session.createdAt),
    updatedAt: new Date(session.updatedAt),
    metadata: structuredClone(session.metadata),
  };
}

function copyMessage(message: Message): Message {
  return {
    ...message,
    createdAt: new Date(message.createdAt),
    metadata: structuredClone(message.metadata),
    payload: message.payload === null ? null : structuredClone(message.payload),
  };
}
