import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  type ConversationMemory,
  LIMITS,
  SessionNotFoundError,
  ValidationError,
} from '@flux-rag/memory-core';
import type {
  AgentInputItem,
  RunContext,
  RunContextAwareSession,
  SessionHistoryTransactionArgs,
  SessionHistoryTransactionAwareSession,
} from '@openai/agents-core';
import { applyTransaction } from './history-transaction.js';
import { toItem, toNewMessage } from './stored-item.js';

/** Options of {@link FluxSession}. */
export interface FluxSessionOptions<TContext = unknown> {
  /** The store the items go to: any `ConversationMemory` of contract 1.1 with `structuredMessages` and `historyEditing`. */
  memory: ConversationMemory;
  /**
   * The store session to bind to (1 to 255 characters). When left out, a new id: a random UUID v4. Without
   * `ownerOf`, `getSessionId()` creates the session when it does not exist.
   */
  sessionId?: string;
  /**
   * Maps the run's context to the owner (user or tenant id) whose sessions this session may see: every operation
   * then runs on `memory.forOwner(ownerOf(runContext))`, and one called without a run context is a
   * `ValidationError` (never silently unscoped). The session is created, for that owner, at the first write.
   */
  ownerOf?: (runContext: RunContext<TContext>) => string;
}

/**
 * A session of the OpenAI Agents SDK (`@openai/agents-core` 0.20) kept in a flux-rag `ConversationMemory`: pass
 * it as `run(agent, input, { session })`. Each item is one stored message: the item itself as the payload, with
 * a searchable `content` and a role (see {@link itemRole}); the store generates the message id and the item's own
 * id stays in the payload. Implements the SDK's optional `RunContextAwareSession` (owner scoping through
 * {@link FluxSessionOptions.ownerOf}), `SessionHistoryTransactionAwareSession` (atomic, idempotent history
 * transactions) and `replaceHistoryWithCompaction` (atomic).
 *
 * Every write is one transaction of the store: a failed `addItems` writes none of its items.
 */
export class FluxSession<TContext = unknown>
  implements RunContextAwareSession<TContext>, SessionHistoryTransactionAwareSession
{
  /** Tells the SDK's runner to pass the run context to every history operation. */
  readonly acceptsRunContext = true as const;

  readonly #memory: ConversationMemory;
  readonly #ownerOf: ((runContext: RunContext<TContext>) => string) | undefined;
  readonly #sessionId: string | undefined;
  #ready: Promise<string> | undefined;
  #view: { ownerId: string; store: ConversationMemory } | undefined;

  constructor(options: FluxSessionOptions<TContext>) {
    this.#memory = options.memory;
    this.#ownerOf = options.ownerOf;
    this.#sessionId = options.sessionId ?? (options.ownerOf === undefined ? undefined : randomUUID());
  }

  /**
   * The store session's id. Without `ownerOf`, the session is created first when it does not exist (once per
   * instance). With `ownerOf`, the SDK gives this method no run context, so it only returns the id and the
   * session is created by the first write.
   */
  getSessionId(): Promise<string> {
    if (this.#ownerOf !== undefined) return Promise.resolve(this.#sessionId as string);
    this.#ready ??= this.#ensure(this.#memory).catch((error: unknown) => {
      this.#ready = undefined; // a failed setup is retried by the next call, not remembered
      throw error;
    });
    return this.#ready;
  }

  /**
   * The latest `limit` items, oldest first (the whole history when `limit` is left out; `[]` when it is 0 or
   * less), as deep-equal copies of the items written. A session that does not exist, or that belongs to another
   * owner, has no items.
   */
  async getItems(limit?: number, runContext?: RunContext<TContext>): Promise<AgentInputItem[]> {
    if (limit !== undefined && limit <= 0) return [];
    const { store, sessionId } = await this.#target(runContext);
    const count = limit === undefined ? undefined : Math.ceil(limit);
    const messages =
      count === undefined || count > LIMITS.historyLimit
        ? (await store.getHistory(sessionId)).slice(count === undefined ? 0 : -count)
        : await store.getHistory(sessionId, { limit: count });
    return messages.map(toItem);
  }

  /** Appends the items in order, all or none, creating the session when it does not exist yet. */
  async addItems(items: AgentInputItem[], runContext?: RunContext<TContext>): Promise<void> {
    if (items.length === 0) return;
    const target = await this.#target(runContext);
    const messages = items.map((item) => toNewMessage(item));
    await this.#writing(target, () => target.store.upsertMessages(target.sessionId, messages));
  }

  /** Removes and returns the latest item; `undefined` when there is none. */
  async popItem(runContext?: RunContext<TContext>): Promise<AgentInputItem | undefined> {
    const { store, sessionId } = await this.#target(runContext);
    const popped = await store.popMessage(sessionId);
    return popped === null ? undefined : toItem(popped);
  }

  /**
   * Removes every item. The store session stays (its title, metadata and owner), and so do the operation ids of
   * the history transactions already applied: replaying one after a clear changes nothing.
   */
  async clearSession(runContext?: RunContext<TContext>): Promise<void> {
    const { store, sessionId } = await this.#target(runContext);
    try {
      await store.rewriteHistory(sessionId, { after: null, messages: [] });
    } catch (error) {
      if (!SessionNotFoundError.isInstance(error)) throw error;
    }
  }

  /** Replaces the whole history with `items` (a compaction item and what it keeps), in one transaction. */
  async replaceHistoryWithCompaction(
    items: AgentInputItem[],
    runContext?: RunContext<TContext>,
  ): Promise<void> {
    const target = await this.#target(runContext);
    const messages = items.map((item) => toNewMessage(item));
    await this.#writing(target, () =>
      target.store.rewriteHistory(target.sessionId, { after: null, messages }),
    );
  }

  /**
   * Applies a history transaction atomically and idempotently: `append_items` appends; `replace_suffix` swaps the
   * stored tail for `replacement` if that tail still equals `expectedSuffix`, otherwise a `ConflictError`
   * (reason `'expected-ids'`) with nothing changed. The same `operationId` with the same transaction changes
   * nothing; with a different one it is a `ConflictError` (reason `'operation-reused'`).
   */
  async applyHistoryTransaction(
    args: SessionHistoryTransactionArgs,
    runContext?: RunContext<TContext>,
  ): Promise<void> {
    const target = await this.#target(runContext);
    await this.#writing(target, () => applyTransaction(target.store, target.sessionId, args));
  }

  /** The store (or the run owner's view of it) and the session id an operation works on. */
  async #target(runContext: RunContext<TContext> | undefined): Promise<Target> {
    if (this.#ownerOf === undefined) return { store: this.#memory, sessionId: await this.getSessionId() };
    if (runContext === undefined) {
      throw new ValidationError(
        'runContext',
        'is required: this session maps the run context to an owner (ownerOf)',
      );
    }
    const ownerId = this.#ownerOf(runContext);
    if (this.#view?.ownerId !== ownerId) this.#view = { ownerId, store: this.#memory.forOwner(ownerId) };
    return { store: this.#view.store, sessionId: this.#sessionId as string };
  }

  /**
   * Runs a write; when the session does not exist (not created yet, deleted meanwhile), creates it and runs the
   * write again. A session id another owner holds cannot be created: that `ConflictError` is what the caller gets.
   */
  async #writing<T>(target: Target, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!SessionNotFoundError.isInstance(error)) throw error;
    }
    let conflict: unknown;
    try {
      await target.store.createSession({ id: target.sessionId });
    } catch (error) {
      if (!ConflictError.isInstance(error)) throw error;
      conflict = error; // created meanwhile by another writer, or held by another owner: the retry tells which
    }
    try {
      return await write();
    } catch (error) {
      throw SessionNotFoundError.isInstance(error) && conflict !== undefined ? conflict : error;
    }
  }

  async #ensure(store: ConversationMemory): Promise<string> {
    if (this.#sessionId === undefined) return store.createSession();
    if ((await store.getSession(this.#sessionId)) !== null) return this.#sessionId;
    try {
      return await store.createSession({ id: this.#sessionId });
    } catch (error) {
      if (ConflictError.isInstance(error) && (await store.getSession(this.#sessionId)) !== null)
        return this.#sessionId;
      throw error;
    }
  }
}

interface Target {
  store: ConversationMemory;
  sessionId: string;
}
