import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type MessageRecord,
  type PageRows,
  type Scope,
  type SearchRequest,
  type SessionRecord,
} from '../base-memory.js';
import type { HistoryPosition, SessionPosition } from '../cursor.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession, StoreHealth } from '../portable.js';
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

const CAPABILITIES: MemoryCapabilities = Object.freeze({ metadataFilter: true, fullTextSearch: true });

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
      message: { ...record, metadata: jsonCopy(record.metadata) },
      seq: ++this.#seq,
    });
    stored.session = { ...stored.session, updatedAt: record.createdAt };
  }

  protected async _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]> {
    const messages = this.#visible(sessionId, scope)?.messages ?? [];
    const page = limit === undefined ? messages : messages.slice(-limit);
    return page.map((m) => copyMessage(m.message));
  }

  protected async _getHistoryPage(
    sessionId: string,
    limit: number,
    before: HistoryPosition | null,
    scope: Scope,
  ): Promise<PageRows<Message, HistoryPosition>> {
    const messages = this.#visible(sessionId, scope)?.messages ?? [];
    const end = before === null ? messages.length : messages.filter((m) => isBefore(m, before)).length;
    const start = Math.max(0, end - limit);
    const oldest = messages[start];
    return {
      items: messages.slice(start, end).map((m) => copyMessage(m.message)),
      next:
        start > 0 && oldest
          ? { createdAt: dateToIsoMicros(oldest.message.createdAt), seq: oldest.seq }
          : null,
    };
  }

  override get capabilities(): MemoryCapabilities {
    return CAPABILITIES;
  }

  protected async _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionSummary[]> {
    return this.#inScope(scope, where)
      .sort((a, b) => compareSessionsByActivity(a.session, b.session))
      .slice(offset, offset + limit)
      .map(summarise);
  }

  protected async _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>> {
    const after = cursor && { id: cursor.id, createdAt: isoMicrosToDate(cursor.createdAt) };
    const rest = this.#inScope(scope, where)
      .filter((s) => !after || compareSessionsByCreation(s.session, after) > 0)
      .sort((a, b) => compareSessionsByCreation(a.session, b.session));
    const items = rest.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(summarise),
      next:
        rest.length > limit && last
          ? { createdAt: dateToIsoMicros(last.session.createdAt), id: last.session.id }
          : null,
    };
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

  protected async _clearAll(scope: Scope): Promise<void> {
    for (const stored of this.#inScope(scope)) await this._deleteSession(stored.session.id, scope);
  }

  protected async _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ): Promise<PortableSession[]> {
    const wanted = sessionIds ? new Set(sessionIds) : undefined;
    return this.#inScope(scope)
      .map((stored) => stored.session)
      .filter(({ id }) => (afterId === null || id > afterId) && (!wanted || wanted.has(id)))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map(({ id, title, createdAt, updatedAt, metadata, ownerId }) => ({
        type: 'session',
        id,
        title,
        createdAt: dateToIsoMicros(createdAt),
        updatedAt: dateToIsoMicros(updatedAt),
        metadata: structuredClone(metadata),
        ownerId,
      }));
  }

  protected async _exportMessages(
    sessionId: string,
    offset: number,
    limit: number,
  ): Promise<PortableMessage[]> {
    const messages = this.#sessions.get(sessionId)?.messages ?? [];
    return messages.slice(offset, offset + limit).map(({ message: m }) => ({
      type: 'message',
      id: m.id,
      sessionId: m.sessionId,
      role: m.role,
      content: m.content,
      createdAt: dateToIsoMicros(m.createdAt),
      metadata: structuredClone(m.metadata),
    }));
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

  protected async _check(): Promise<StoreHealth> {
    let messages = 0;
    for (const stored of this.#sessions.values()) messages += stored.messages.length;
    // No `orphanMessages`: a message is only ever stored inside its session here, so there can be none.
    return { ...this.describeLocation(), reachable: true, sessions: this.#sessions.size, messages };
  }

  protected describeLocation() {
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
