import type {
  ImportResult,
  Message,
  MessageDigest,
  PortableMessage,
  PortableSession,
  RewriteResult,
  SearchHit,
  Session,
  SessionFilter,
  SessionSummary,
  StoreHealth,
  UpsertResult,
} from '@flux-rag/memory-core';
import type {
  EncodedMessage,
  HistoryPosition,
  HistoryRead,
  HistoryRow,
  MessageRecord,
  MessageRow,
  PageRows,
  PurgeBatch,
  PurgeBatchResult,
  RewriteRequest,
  Scope,
  SearchRequest,
  SearchTerm,
  SessionListing,
  SessionPosition,
  SessionRecord,
  SessionUpdate,
  UpsertRequest,
} from '@flux-rag/memory-core/backend';
import { SqlConversationMemory } from '@flux-rag/memory-core/sql';
import type { PostgresServerHealth, ReadRouter } from './postgres-read-routing.js';

/** `check()` of a PostgreSQL store: with replicas, each server's role, state, lag and reads served. */
export interface PostgresStoreHealth extends StoreHealth {
  /** The primary then each replica, URLs masked; only when the store has replicas (and the primary answered). */
  servers?: PostgresServerHealth[];
}

/** Sessions an import names one by one; a larger import counts as a write to every session. */
const IMPORT_SESSIONS_TRACKED = 1_000;

/**
 * The SQL store's read and write hooks, each run through the store's {@link ReadRouter} when it has replicas: reads of one
 * session name it, listings and exports of sessions name none (they must see every write of this store),
 * writes record where they committed for the sessions they touched. Without replicas each hook is the SQL
 * store's own. Only the routing lives here; the queries are the shared ones. A hook not listed here (one added
 * to the contract later) runs on the primary, and the router then counts it as a possible write: the next read
 * waits for a replica to reach the primary's position. Listing it here (a read of one session or of the store,
 * or a write) makes it precise.
 */
export abstract class ReadRoutedMemory extends SqlConversationMemory {
  /** The store's router; `undefined` when it has no replicas. */
  protected abstract get readRouter(): ReadRouter | undefined;

  /** Runs a read through the router (on the primary when the store has no replicas). */
  protected routeRead<T>(sessionId: string | null, work: () => Promise<T>): Promise<T> {
    const router = this.readRouter;
    return router ? router.read(sessionId, work) : work();
  }

  /** Runs a write through the router, which records where it committed. */
  protected routeWrite<T>(sessionIds: readonly string[] | 'all', work: () => Promise<T>): Promise<T> {
    const router = this.readRouter;
    return router ? router.write(sessionIds, work) : work();
  }

  protected override _getHistory(
    sessionId: string,
    limit: number | undefined,
    scope: Scope,
  ): Promise<Message[]> {
    return this.routeRead(sessionId, () => super._getHistory(sessionId, limit, scope));
  }

  protected override _readHistory(read: HistoryRead, scope: Scope): Promise<HistoryRow[]> {
    return this.routeRead(read.sessionId, () => super._readHistory(read, scope));
  }

  protected override _getSession(sessionId: string, scope: Scope): Promise<Session | null> {
    return this.routeRead(sessionId, () => super._getSession(sessionId, scope));
  }

  protected override _exportMessages(
    sessionId: string,
    after: HistoryPosition | null,
    limit: number,
    scope: Scope,
  ): Promise<PageRows<PortableMessage, HistoryPosition>> {
    return this.routeRead(sessionId, () => super._exportMessages(sessionId, after, limit, scope));
  }

  protected override _getSessions(
    limit: number,
    offset: number,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<SessionSummary[]> {
    return this.routeRead(null, () => super._getSessions(limit, offset, scope, where));
  }

  protected override _searchMessages(
    terms: readonly SearchTerm[],
    request: SearchRequest,
    scope: Scope,
  ): Promise<SearchHit[]> {
    return this.routeRead(null, () => super._searchMessages(terms, request, scope));
  }

  /** The SQL store's report (on the primary), and with replicas each server's. */
  protected override async _check(scope: Scope): Promise<PostgresStoreHealth> {
    const router = this.readRouter;
    if (!router) return super._check(scope);
    const health = await router.inspect(() => super._check(scope));
    return { ...health, servers: await router.servers() };
  }

  protected override _listSessions(listing: SessionListing, scope: Scope): Promise<SessionSummary[]> {
    return this.routeRead(null, () => super._listSessions(listing, scope));
  }

  protected override _getSessionsPage(
    limit: number,
    cursor: SessionPosition | null,
    scope: Scope,
    where: SessionFilter | undefined,
  ): Promise<PageRows<SessionSummary, SessionPosition>> {
    return this.routeRead(null, () => super._getSessionsPage(limit, cursor, scope, where));
  }

  protected override _exportSessions(
    afterId: string | null,
    limit: number,
    sessionIds: readonly string[] | undefined,
    scope: Scope,
  ): Promise<PortableSession[]> {
    return this.routeRead(null, () => super._exportSessions(afterId, limit, sessionIds, scope));
  }

  protected override _createSession(record: SessionRecord, scope: Scope): Promise<void> {
    return this.routeWrite([record.id], () => super._createSession(record, scope));
  }

  protected override _addMessage(
    record: MessageRecord,
    scope: Scope,
    encoded: EncodedMessage,
  ): Promise<void> {
    return this.routeWrite([record.sessionId], () => super._addMessage(record, scope, encoded));
  }

  protected override _readDigests(sessionId: string, scope: Scope): Promise<MessageDigest[]> {
    return this.routeRead(sessionId, () => super._readDigests(sessionId, scope));
  }

  protected override _upsertMessages(request: UpsertRequest, scope: Scope): Promise<UpsertResult> {
    return this.routeWrite([request.sessionId], () => super._upsertMessages(request, scope));
  }

  protected override _rewriteHistory(request: RewriteRequest, scope: Scope): Promise<RewriteResult> {
    return this.routeWrite([request.sessionId], () => super._rewriteHistory(request, scope));
  }

  protected override _deleteMessages(
    sessionId: string,
    ids: readonly string[],
    now: Date,
    scope: Scope,
  ): Promise<number> {
    return this.routeWrite([sessionId], () => super._deleteMessages(sessionId, ids, now, scope));
  }

  protected override _popMessage(sessionId: string, now: Date, scope: Scope): Promise<MessageRow | null> {
    return this.routeWrite([sessionId], () => super._popMessage(sessionId, now, scope));
  }

  protected override _updateSession(
    sessionId: string,
    update: SessionUpdate,
    scope: Scope,
  ): Promise<Session | null> {
    return this.routeWrite([sessionId], () => super._updateSession(sessionId, update, scope));
  }

  protected override _purgeBatch(batch: PurgeBatch, scope: Scope): Promise<PurgeBatchResult> {
    return this.routeWrite('all', () => super._purgeBatch(batch, scope));
  }

  protected override _updateSessionTitle(
    sessionId: string,
    title: string | null,
    updatedAt: Date,
    scope: Scope,
  ): Promise<boolean> {
    return this.routeWrite([sessionId], () => super._updateSessionTitle(sessionId, title, updatedAt, scope));
  }

  protected override _deleteSession(sessionId: string, scope: Scope): Promise<boolean> {
    return this.routeWrite([sessionId], () => super._deleteSession(sessionId, scope));
  }

  protected override _clearAll(scope: Scope): Promise<void> {
    return this.routeWrite('all', () => super._clearAll(scope));
  }

  protected override _importBatch(
    sessions: PortableSession[],
    messages: PortableMessage[],
    scope: Scope,
  ): Promise<ImportResult> {
    const ids = new Set([...sessions.map((s) => s.id), ...messages.map((m) => m.sessionId)]);
    const touched = ids.size > IMPORT_SESSIONS_TRACKED ? 'all' : [...ids];
    return this.routeWrite(touched, () => super._importBatch(sessions, messages, scope));
  }
}
