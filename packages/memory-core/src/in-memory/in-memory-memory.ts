import {
  BaseConversationMemory,
  type BaseMemoryOptions,
  type MessageRecord,
  type SessionRecord,
} from '../base-memory.js';
import { ConflictError, SessionNotFoundError } from '../errors.js';
import type { ImportResult, PortableMessage, PortableSession, StoreHealth } from '../portable.js';
import { dateToIsoMicros, isoMicrosToDate } from '../timestamp.js';
import type { Message, Session, SessionSummary } from '../types.js';
import { compareSessionsByActivity } from './ordering.js';

interface StoredSession {
  session: Session;
  messages: Message[];
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

  constructor(options: InMemoryMemoryOptions = {}) {
    super(options);
  }

  protected async _createSession(record: SessionRecord): Promise<void> {
    if (this.#sessions.has(record.id)) throw new ConflictError('session', record.id);
    const { id, title, metadata, createdAt } = record;
    const session = { id, title, createdAt, updatedAt: createdAt, metadata: structuredClone(metadata) };
    this.#sessions.set(id, { session, messages: [] });
  }

  protected async _addMessage(record: MessageRecord): Promise<void> {
    const stored = this.#sessions.get(record.sessionId);
    if (!stored) throw new SessionNotFoundError(record.sessionId);
    if (this.#messageIds.has(record.id)) throw new ConflictError('message', record.id);
    this.#messageIds.add(record.id);
    stored.messages.push({ ...record, metadata: structuredClone(record.metadata) });
    stored.session = { ...stored.session, updatedAt: record.createdAt };
  }

  protected async _getHistory(sessionId: string, limit: number | undefined): Promise<Message[]> {
    const messages = this.#sessions.get(sessionId)?.messages ?? [];
    const page = limit === undefined ? messages : messages.slice(-limit);
    return page.map(copyMessage);
  }

  protected async _getSessions(limit: number, offset: number): Promise<SessionSummary[]> {
    return [...this.#sessions.values()]
      .sort((a, b) => compareSessionsByActivity(a.session, b.session))
      .slice(offset, offset + limit)
      .map(({ session, messages }) => ({
        ...copySession(session),
        messageCount: messages.length,
        lastMessageAt: messages.length > 0 ? new Date(messages[messages.length - 1]!.createdAt) : null,
      }));
  }

  protected async _getSession(sessionId: string): Promise<Session | null> {
    const stored = this.#sessions.get(sessionId);
    return stored ? copySession(stored.session) : null;
  }

  protected async _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
  ): Promise<boolean> {
    const stored = this.#sessions.get(sessionId);
    if (!stored) return false;
    stored.session = { ...stored.session, title, updatedAt };
    return true;
  }

  protected async _deleteSession(sessionId: string): Promise<boolean> {
    const stored = this.#sessions.get(sessionId);
    if (!stored) return false;
    for (const message of stored.messages) this.#messageIds.delete(message.id);
    this.#sessions.delete(sessionId);
    return true;
  }

  protected async _clearAll(): Promise<void> {
    this.#sessions.clear();
    this.#messageIds.clear();
  }

  protected async _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
  ): Promise<PortableSession[]> {
    const wanted = sessionIds ? new Set(sessionIds) : undefined;
    return [...this.#sessions.keys()]
      .filter((id) => (afterId === null || id > afterId) && (!wanted || wanted.has(id)))
      .sort()
      .slice(0, limit)
      .map((id) => {
        const { title, createdAt, updatedAt, metadata } = this.#sessions.get(id)!.session;
        return {
          type: 'session',
          id,
          title,
          createdAt: dateToIsoMicros(createdAt),
          updatedAt: dateToIsoMicros(updatedAt),
          metadata: structuredClone(metadata),
        };
      });
  }

  protected async _exportMessages(
    sessionId: string,
    offset: number,
    limit: number,
  ): Promise<PortableMessage[]> {
    const messages = this.#sessions.get(sessionId)?.messages ?? [];
    return messages.slice(offset, offset + limit).map((m) => ({
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
  ): Promise<ImportResult> {
    const known = new Set(sessions.map((s) => s.id));
    for (const message of messages) {
      if (!known.has(message.sessionId) && !this.#sessions.has(message.sessionId)) {
        throw new SessionNotFoundError(message.sessionId);
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
        metadata: structuredClone(s.metadata),
      };
      this.#sessions.set(s.id, { session, messages: [] });
      result.sessions.written++;
    }
    const touched = new Set<StoredSession>();
    for (const m of messages) {
      if (this.#messageIds.has(m.id)) {
        result.messages.skipped++;
        continue;
      }
      const stored = this.#sessions.get(m.sessionId)!;
      this.#messageIds.add(m.id);
      const { type: _, ...fields } = m;
      stored.messages.push({
        ...fields,
        createdAt: isoMicrosToDate(m.createdAt),
        metadata: structuredClone(m.metadata),
      });
      touched.add(stored);
      result.messages.written++;
    }
    // Imported messages may arrive out of time order; keep each history sorted as the SQL backends read it.
    for (const stored of touched)
      stored.messages.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return result;
  }

  protected async _check(): Promise<StoreHealth> {
    let messages = 0;
    for (const stored of this.#sessions.values()) messages += stored.messages.length;
    return { ...this.describeLocation(), reachable: true, sessions: this.#sessions.size, messages };
  }

  protected describeLocation() {
    return { backend: 'memory', location: 'process memory' };
  }

  protected async _close(): Promise<void> {
    this.#sessions.clear();
    this.#messageIds.clear();
  }
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
