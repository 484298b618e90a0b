import { randomUUID } from 'node:crypto';
import { digestOf, encodeMessage, validateNewMessage } from '../src/backend.js';
import type {
  EncodedMessage,
  MessageRecord,
  PageRows,
  PurgeBatch,
  RewriteRequest,
  Scope,
  SessionRecord,
  SessionUpdate,
  UpsertRequest,
} from '../src/base-memory.js';
import type { HistoryPosition } from '../src/cursor.js';
import type { ImportResult, PortableMessage, PortableSession, SessionFilter } from '../src/index.js';
import {
  ConflictError,
  InMemoryConversationMemory,
  type ListSessionsOptions,
  type Message,
  type Metadata,
  type NewMessage,
  type Session,
  SessionNotFoundError,
  type SessionSummary,
} from '../src/index.js';
import type { HistoryPageOptions } from '../src/types.js';

// Deliberately broken backends. Each imitates one bug a real backend could have, by overriding the
// in-memory reference as little as possible; the suite must catch every one of them.

const UNSCOPED: Scope = { ownerId: null };

/** Equal timestamps come back newest inserted first, as `ORDER BY created_at` without `seq` may do. */
export class TiesOutOfOrder extends InMemoryConversationMemory {
  protected override async _getHistory(id: string, limit: number | undefined, scope: Scope) {
    const messages = await super._getHistory(id, limit, scope);
    const groups: Message[][] = [];
    for (const m of messages) {
      const last = groups.at(-1);
      if (last && last[0]!.createdAt.getTime() === m.createdAt.getTime()) last.push(m);
      else groups.push([m]);
    }
    return groups.flatMap((group) => group.reverse());
  }
}

/** A denormalised counter incremented twice for a session's first message. */
export class MessageCountOffByOne extends InMemoryConversationMemory {
  protected override async _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    const sessions = await super._getSessions(limit, offset, scope, where);
    return sessions.map((s) => ({ ...s, messageCount: s.messageCount > 0 ? s.messageCount + 1 : 0 }));
  }
}

/** Hands out a shallow copy of a cached metadata object: nested values are shared between callers. */
export class ShallowMetadataCopy extends InMemoryConversationMemory {
  readonly #cache = new Map<string, Metadata>();
  protected override async _getSession(id: string, scope: Scope): Promise<Session | null> {
    const session = await super._getSession(id, scope);
    if (!session) return session;
    const cached = this.#cache.get(id) ?? session.metadata;
    this.#cache.set(id, cached);
    return { ...session, metadata: { ...cached } };
  }
}

/** Message metadata never reaches the database (a forgotten column in the INSERT). */
export class MetadataDropped extends InMemoryConversationMemory {
  protected override _addMessage(record: MessageRecord, scope: Scope) {
    return super._addMessage({ ...record, metadata: {} }, scope);
  }
}

/** Deleting a session leaves its messages behind (no ON DELETE CASCADE, no explicit delete). */
export class DeleteNotCascading extends InMemoryConversationMemory {
  readonly #orphans = new Map<string, Message[]>();
  protected override async _deleteSession(id: string, scope: Scope) {
    const messages = await super._getHistory(id, undefined, scope);
    const existed = await super._deleteSession(id, scope);
    if (existed) this.#orphans.set(id, [...(this.#orphans.get(id) ?? []), ...messages]);
    return existed;
  }
  protected override async _getHistory(id: string, limit: number | undefined, scope: Scope) {
    const all = [...(this.#orphans.get(id) ?? []), ...(await super._getHistory(id, undefined, scope))];
    return limit === undefined ? all : all.slice(-limit);
  }
  protected override _addMessage(record: MessageRecord, scope: Scope) {
    for (const messages of this.#orphans.values()) {
      if (messages.some((m) => m.id === record.id)) throw new ConflictError('message', record.id);
    }
    return super._addMessage(record, scope);
  }
}

/** A public method that skips validation (and the write queue) and goes straight to storage. */
export class ValidationSkipped extends InMemoryConversationMemory {
  override async addMessage(sessionId: string, input: NewMessage): Promise<string> {
    const id = input?.id ?? randomUUID();
    const record = { ...input, id, sessionId, metadata: input?.metadata ?? {}, createdAt: new Date() };
    await this._addMessage(record as MessageRecord, UNSCOPED);
    return id;
  }
}

/** Lone surrogates silently replaced by U+FFFD instead of refused, as a UTF-8 driver would. */
export class LoneSurrogatesReplaced extends InMemoryConversationMemory {
  override addMessage(sessionId: string, input: NewMessage): Promise<string> {
    const content =
      typeof input?.content === 'string'
        ? input.content.replace(
            /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
            '\uFFFD',
          )
        : input?.content;
    return super.addMessage(sessionId, { ...input, content } as NewMessage);
  }
}

/** A second close() rejects (a pool ended twice). */
export class CloseNotIdempotent extends InMemoryConversationMemory {
  #closed = false;
  override close(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('Called end on pool more than once'));
    this.#closed = true;
    return super.close();
  }
}

/** close() does nothing: the store keeps working afterwards. */
export class UseAfterCloseAllowed extends InMemoryConversationMemory {
  override async close(): Promise<void> {}
}

/** getHistory's limit is ignored. */
export class LimitIgnored extends InMemoryConversationMemory {
  protected override _getHistory(id: string, _limit: number | undefined, scope: Scope) {
    return super._getHistory(id, undefined, scope);
  }
}

/** Sessions with equal updatedAt are sorted by id ascending instead of descending. */
export class TieBreakAscending extends InMemoryConversationMemory {
  protected override async _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    const all = await super._getSessions(Number.MAX_SAFE_INTEGER, 0, scope, where);
    all.sort(
      (a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    return all.slice(offset, offset + limit);
  }
}

/** Sessions listed by creation time, ignoring later activity. */
export class ActivityIgnored extends InMemoryConversationMemory {
  protected override async _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    const all = await super._getSessions(Number.MAX_SAFE_INTEGER, 0, scope, where);
    all.sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    );
    return all.slice(offset, offset + limit);
  }
}

/** getSessions' default page size is 20 instead of 50. */
export class DefaultLimitWrong extends InMemoryConversationMemory {
  override getSessions(options?: ListSessionsOptions): Promise<SessionSummary[]> {
    return super.getSessions({ limit: 20, ...options });
  }
}

/** An offset past the first page skips one session (OFFSET computed as offset + 1). */
export class PagingSkipsOne extends InMemoryConversationMemory {
  protected override _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    return super._getSessions(limit, offset > 0 ? offset + 1 : 0, scope, where);
  }
}

/** A caller-supplied session id already taken silently replaces the old session (an UPSERT). */
export class DuplicateSessionIdAccepted extends InMemoryConversationMemory {
  protected override async _createSession(record: SessionRecord) {
    await super._deleteSession(record.id, UNSCOPED);
    return super._createSession(record);
  }
}

/** A refused duplicate message id still bumps the session's activity (no transaction around both). */
export class ConflictStillWrites extends InMemoryConversationMemory {
  protected override async _addMessage(record: MessageRecord, scope: Scope) {
    try {
      await super._addMessage(record, scope);
    } catch (error) {
      const session = await super._getSession(record.sessionId, scope);
      if (ConflictError.isInstance(error) && session) {
        await super._updateSessionTitle(record.sessionId, session.title, record.createdAt, scope);
      }
      throw error;
    }
  }
}

/** A message for a missing session is stored as an orphan row before the error is noticed. */
export class OrphanOnMissingSession extends InMemoryConversationMemory {
  readonly #orphans = new Map<string, MessageRecord[]>();
  protected override async _addMessage(record: MessageRecord, scope: Scope) {
    if (!(await super._getSession(record.sessionId, scope))) {
      this.#orphans.set(record.sessionId, [...(this.#orphans.get(record.sessionId) ?? []), record]);
      throw new SessionNotFoundError(record.sessionId);
    }
    return super._addMessage(record, scope);
  }
  protected override async _createSession(record: SessionRecord) {
    await super._createSession(record);
    for (const orphan of this.#orphans.get(record.id) ?? []) await super._addMessage(orphan, UNSCOPED);
    this.#orphans.delete(record.id);
  }
}

/** Un-awaited writes race each other: no per-session queue, and storage latency varies. */
export class WritesNotQueued extends InMemoryConversationMemory {
  #calls = 0;
  override async addMessage(sessionId: string, input: NewMessage): Promise<string> {
    const valid = validateNewMessage(input);
    const id = valid.id ?? randomUUID();
    // Every other call waits: the next one overtakes it, every time (random waits sometimes kept the order on a
    // loaded machine, and the suite then missed this variant).
    await new Promise((resolve) => setTimeout(resolve, this.#calls++ % 2 === 0 ? 4 : 0));
    await this._addMessage({ ...valid, id, sessionId, createdAt: new Date() }, UNSCOPED);
    return id;
  }
}

/** A `TIMESTAMP` without zone written in local time and read back as UTC: shifted unless TZ is UTC. */
export class LocalTimeShift extends InMemoryConversationMemory {
  protected override _addMessage(record: MessageRecord, scope: Scope) {
    const at = record.createdAt;
    return super._addMessage(
      { ...record, createdAt: new Date(at.getTime() - at.getTimezoneOffset() * 60_000) },
      scope,
    );
  }
}

/** Timestamps kept in whole seconds (an integer epoch column). */
export class SecondPrecision extends InMemoryConversationMemory {
  protected override _addMessage(record: MessageRecord, scope: Scope) {
    const seconds = Math.floor(record.createdAt.getTime() / 1000) * 1000;
    return super._addMessage({ ...record, createdAt: new Date(seconds) }, scope);
  }
}

/** Content trimmed on the way in, as a "helpful" form layer would. */
export class ContentTrimmed extends InMemoryConversationMemory {
  protected override _addMessage(record: MessageRecord, scope: Scope) {
    return super._addMessage({ ...record, content: record.content.trim() }, scope);
  }
}

/** History pages lose the oldest message of every page but the last (an off-by-one in the keyset). */
export class HistoryPageSkips extends InMemoryConversationMemory {
  protected override async _getHistoryPage(
    id: string,
    limit: number,
    before: HistoryPosition | null,
    scope: Scope,
  ): Promise<PageRows<Message, HistoryPosition>> {
    const page = await super._getHistoryPage(id, limit, before, scope);
    return page.next ? { ...page, items: page.items.slice(1) } : page;
  }
}

/** getSession forgets the owner filter, so a view sees other owners' sessions. */
export class OwnerLeak extends InMemoryConversationMemory {
  protected override _getSession(id: string, _scope: Scope) {
    return super._getSession(id, UNSCOPED);
  }
}

/** An import batch writes its sessions before it notices a message's missing session. */
export class ImportPartialWrite extends InMemoryConversationMemory {
  protected override async _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ) {
    try {
      return await super._importBatch(sessions, messages, scope);
    } catch (error) {
      if (SessionNotFoundError.isInstance(error)) await super._importBatch(sessions, [], scope);
      throw error;
    }
  }
}

/** Re-importing reports records already present as written (an UPSERT counting affected rows). */
export class ImportCountsSkippedAsWritten extends InMemoryConversationMemory {
  protected override async _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult> {
    const result = await super._importBatch(sessions, messages, scope);
    return {
      sessions: { written: sessions.length, skipped: 0 },
      messages: { written: messages.length, skipped: 0 },
      ...(result.sessions.skipped + result.messages.skipped === 0 ? result : {}),
    };
  }
}

/**
 * History cursors not tied to their session: the store remembers the position behind each cursor it hands out
 * and, given one back, pages from that position in whatever session is asked for (as a cursor holding only a
 * timestamp and a sequence number would).
 */
export class CursorIgnoresSession extends InMemoryConversationMemory {
  readonly #issued = new Map<string, HistoryPosition>();
  #lastNext: HistoryPosition | null = null;
  protected override async _getHistoryPage(
    sessionId: string,
    limit: number,
    before: HistoryPosition | null,
    scope: Scope,
  ): Promise<PageRows<Message, HistoryPosition>> {
    const page = await super._getHistoryPage(sessionId, limit, before, scope);
    this.#lastNext = page.next;
    return page;
  }
  override async getHistoryPage(sessionId: string, options?: HistoryPageOptions) {
    const known = options?.before ? this.#issued.get(options.before) : undefined;
    const page = known
      ? await this._getHistoryPage(sessionId, options?.limit ?? 50, known, UNSCOPED).then((p) => ({
          items: p.items,
          nextCursor: p.next && `unbound-${this.#issued.size}`,
        }))
      : await super.getHistoryPage(sessionId, options);
    if (page.nextCursor !== null && this.#lastNext) this.#issued.set(page.nextCursor, this.#lastNext);
    return page;
  }
}

/**
 * The owner filter is applied to the first page of `getSessions` only: a later page (`offset > 0`, a second
 * query path) lists every owner's sessions. The unscoped store cannot show it; only a view with another owner's
 * rows present does, so only the suite's view mode catches it.
 */
export class OwnerScopeLostAfterFirstPage extends InMemoryConversationMemory {
  protected override _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ) {
    return super._getSessions(limit, offset, offset > 0 ? UNSCOPED : scope, where);
  }
}

// ---- Contract 1.1: one or more per new operation ----

/** Replacing a stored id deletes it and appends the new version at the end, losing its position. */
export class UpsertMovesReplaced extends InMemoryConversationMemory {
  protected override async _upsertMessages(request: UpsertRequest, scope: Scope) {
    const stored = new Set((await super._readDigests(request.sessionId, scope)).map((d) => d.id));
    const moved = request.messages.filter((m) => stored.has(m.id)).map((m) => m.id);
    if (moved.length > 0) await super._deleteMessages(request.sessionId, moved, request.now, scope);
    return super._upsertMessages(request, scope);
  }
}

/** Never recognises an unchanged message (a digest computed differently on write and on read). */
export class UpsertRewritesUnchanged extends InMemoryConversationMemory {
  protected override _upsertMessages(request: UpsertRequest, scope: Scope) {
    const messages = request.messages.map((m) => ({ ...m, digest: `${m.digest.slice(1)}x` }));
    return super._upsertMessages({ ...request, messages }, scope);
  }
}

/** The operation log is never read nor written: a retried upsert appends again. */
export class OperationsForgotten extends InMemoryConversationMemory {
  protected override _upsertMessages(request: UpsertRequest, scope: Scope) {
    return super._upsertMessages({ ...request, operation: undefined }, scope);
  }
  protected override _rewriteHistory(request: RewriteRequest, scope: Scope) {
    return super._rewriteHistory({ ...request, operation: undefined }, scope);
  }
}

/** The compare-and-swap is skipped: expectedIds and expectedDigests are ignored. */
export class RewriteIgnoresExpected extends InMemoryConversationMemory {
  protected override _rewriteHistory(request: RewriteRequest, scope: Scope) {
    return super._rewriteHistory({ ...request, expectedIds: undefined, expectedDigests: undefined }, scope);
  }
}

/** A retried addMessage is refused as a conflict: any stored id conflicts, the digest is not compared. */
export class AddMessageRetryConflicts extends InMemoryConversationMemory {
  protected override async _addMessage(record: MessageRecord, scope: Scope, encoded?: EncodedMessage) {
    const stored = await this._readDigests(record.sessionId, scope);
    if (stored.some((d) => d.id === record.id)) throw new ConflictError('message', record.id);
    return super._addMessage(record, scope, encoded);
  }
}

/** `DELETE … WHERE id IN (…)` without the session: the same id in another session goes too. */
export class DeleteIgnoresSession extends InMemoryConversationMemory {
  protected override async _deleteMessages(
    sessionId: string,
    ids: readonly string[],
    now: Date,
    scope: Scope,
  ) {
    let deleted = 0;
    const sessions = await this._listSessions(
      { order: 'id', limit: 1_000, after: null, ids: undefined },
      scope,
    );
    for (const session of sessions) {
      const count = await super._deleteMessages(session.id, ids, now, scope);
      if (session.id === sessionId) deleted = count;
    }
    return deleted;
  }
}

/** `ORDER BY seq` without `DESC`: pops the oldest message instead of the latest. */
export class PopTakesOldest extends InMemoryConversationMemory {
  protected override async _popMessage(sessionId: string, now: Date, scope: Scope) {
    const [oldest] = await this._readHistory({ sessionId, order: 'oldest', from: null, limit: 1 }, scope);
    if (!oldest) return null;
    await super._deleteMessages(sessionId, [oldest.message.id], now, scope);
    return oldest.message as Message;
  }
}

/** Digests computed without the metadata (a column forgotten in the digest). */
export class DigestsWithoutMetadata extends InMemoryConversationMemory {
  protected override async _readDigests(sessionId: string, scope: Scope) {
    const rows = await this._readHistory({ sessionId, order: 'oldest', from: null, limit: undefined }, scope);
    return rows.map(({ message: m }) => ({
      id: m.id,
      digest: digestOf(
        m.role,
        m.content,
        {},
        m.format ?? null,
        m.payload == null ? null : JSON.stringify(m.payload),
      ),
    }));
  }
}

/** The payload's keys are stored sorted (a JSONB column): same value, another digest and key order. */
export class PayloadKeysSorted extends InMemoryConversationMemory {
  protected override _addMessage(record: MessageRecord, scope: Scope, encoded?: EncodedMessage) {
    const base = encoded ?? encodeMessage(record);
    const payloadJson =
      base.payloadJson === null ? null : JSON.stringify(sortKeys(JSON.parse(base.payloadJson)));
    return super._addMessage(record, scope, { ...base, payloadJson });
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

/** metadataPatch treated as a replacement: the keys it does not name are lost. */
export class PatchReplaces extends InMemoryConversationMemory {
  protected override _updateSession(sessionId: string, update: SessionUpdate, scope: Scope) {
    const { metadataPatch } = update;
    return super._updateSession(
      sessionId,
      metadataPatch === undefined ? update : { ...update, metadata: metadataPatch, metadataPatch: undefined },
      scope,
    );
  }
}

/** ifMetadata is not checked (the condition left out of the UPDATE). */
export class IfMetadataIgnored extends InMemoryConversationMemory {
  protected override _updateSession(sessionId: string, update: SessionUpdate, scope: Scope) {
    return super._updateSession(sessionId, { ...update, ifMetadata: undefined }, scope);
  }
}

/** Every updateSession moves updatedAt, a metadata-only one too (an `updated_at = now()` in every UPDATE). */
export class MetadataUpdateMovesActivity extends InMemoryConversationMemory {
  readonly #clock: () => Date;
  constructor(options: { clock?: () => Date } = {}) {
    super(options);
    this.#clock = options.clock ?? (() => new Date());
  }
  protected override _updateSession(sessionId: string, update: SessionUpdate, scope: Scope) {
    return super._updateSession(
      sessionId,
      { ...update, updatedAt: update.updatedAt ?? this.#clock() },
      scope,
    );
  }
}

/** `updated_at <= $cutoff`: a session idle exactly since the cutoff is purged too. */
export class PurgeInclusiveCutoff extends InMemoryConversationMemory {
  protected override _purgeBatch(batch: PurgeBatch, scope: Scope) {
    return super._purgeBatch(
      { ...batch, inactiveBefore: new Date(batch.inactiveBefore.getTime() + 1) },
      scope,
    );
  }
}

/** The purge forgets the owner: a view purges every owner's idle sessions. */
export class PurgeIgnoresOwner extends InMemoryConversationMemory {
  protected override _purgeBatch(batch: PurgeBatch, _scope: Scope) {
    return super._purgeBatch(batch, UNSCOPED);
  }
}
