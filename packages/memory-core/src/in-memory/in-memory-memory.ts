import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type HistoryRead,
  type HistoryRow,
  type MessageRecord,
  type Scope,
  type SearchRequest,
  type SessionListing,
  type SessionRecord,
} from '../base-memory.js';
import type { HistoryPosition } from '../cursor.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession } from '../portable.js';
import { matchContent, snippetOf } from '../search/match-message.js';
import { jsonContains } from '../search/metadata-contains.js';
import type { SearchTerm } from '../search/search-query.js';
import { dateToIsoMicros, isoMicrosToDate } from '../timestamp.js';
import type {
  MemoryCapabilities,
  Message,
  Metadata,
  SearchHit,
  Session,
  SessionFilter,
  SessionSummary,
} from '../types.js';

// Contract 1.1's capabilities are declared once the reference store implements them.
const CAPABILITIES: MemoryCapabilities = Object.freeze({
  metadataFilter: true,
  fullTextSearch: true,
  structuredMessages: false,
  historyEditing: false,
  sessionUpdates: false,
  retention: false,
});

import { compareSessionsByActivity, compareSessionsByCreation } from './ordering.js';

interface StoredMessage {
  message: Message;
  /** Insertion sequence, as SQL backends keep in `messages.seq`. */
  seq: number;
}

interface StoredSession {
  session: Session;
  messages: StoredMessage[];
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
  readonly #messageIds = new Set<string>();
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
    this.#sessions.set(id, { session, messages: [] });
  }

  protected async _addMessage(record: MessageRecord, scope: Scope): Promise<void> {
    const stored = this.#visible(record.sessionId, scope);
    if (!stored) throw new SessionNotFoundError(record.sessionId);
    if (this.#messageIds.has(record.id)) throw new ConflictError('message', record.id);
    this.#messageIds.add(record.id);
    stored.messages.push({
      message: { ...record, metadata: jsonCopy(record.metadata), payload: null, format: null },
      seq: ++this.#seq,
    });
    stored.session = { ...stored.session, updatedAt: record.createdAt };
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
    const stored = this.#visible(sessionId, scope);
    if (!stored) return false;
    for (const { message } of stored.messages) this.#messageIds.delete(message.id);
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
      this.#sessions.set(s.id, { session, messages: [] });
      result.sessions.written++;
    }
    const touched = new Set<StoredSession>();
    for (const { type: _, ...m } of messages) {
      const stored = this.#visible(m.sessionId, scope)!;
      if (this.#messageIds.has(m.id)) {
        result.messages.skipped++;
        continue;
      }
      this.#messageIds.add(m.id);
      const message = {
        ...m,
        createdAt: isoMicrosToDate(m.createdAt),
        metadata: jsonCopy(m.metadata),
        payload: null,
        format: null,
      };
      stored.messages.push({ message, seq: ++this.#seq });
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
    this.#messageIds.clear();
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
  return { ...message, createdAt: new Date(message.createdAt), metadata: structuredClone(message.metadata) };
}
