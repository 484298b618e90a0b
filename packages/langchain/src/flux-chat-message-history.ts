import {
  ConflictError,
  type ConversationMemory,
  type Metadata,
  SessionNotFoundError,
  UnsupportedCapabilityError,
} from '@flux-rag/memory-core';
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import type { BaseMessage } from '@langchain/core/messages';
import { toChatMessage, toNewMessage } from './stored-message-codec.js';

/** Options of {@link FluxChatMessageHistory}. */
export interface FluxChatMessageHistoryInput {
  /**
   * The store: any backend of contract 1.1 with the `structuredMessages` and `historyEditing` capabilities, or an
   * owner view of one (`memory.forOwner(userId)`), which scopes this history to that user or tenant.
   */
  memory: ConversationMemory;
  /** The session that holds this conversation (1 to 255 characters); created at the first write when missing. */
  sessionId: string;
  /** Title and metadata of the session when this history creates it; default no title, `{}`. */
  newSession?: { title?: string | null; metadata?: Metadata };
}

/**
 * A LangChain chat message history stored in a flux-rag conversation memory, on any of its backends.
 *
 * Each message is stored as LangChain's own `StoredMessage` (the `payload`, format `langchain/stored-message`),
 * so content blocks, tool calls, invalid tool calls, tool call ids, names, ids, usage and response metadata come
 * back as they went in; its text is the row's `content`, so the store's search finds it. Rows written by other
 * code (legacy rows without payload) are read from their role and content.
 */
export class FluxChatMessageHistory extends BaseListChatMessageHistory {
  /** LangChain's serialization namespace of this class. */
  lc_namespace = ['flux_rag', 'stores', 'message'];

  /** The session this history reads and writes. */
  readonly sessionId: string;
  readonly #memory: ConversationMemory;
  readonly #newSession: { title?: string | null; metadata?: Metadata };

  /**
   * Throws `UnsupportedCapabilityError` when the store lacks `structuredMessages` (it would drop the payload) or
   * `historyEditing` (needed by `clear`). Nothing is read or written until the first call.
   */
  constructor(input: FluxChatMessageHistoryInput) {
    super(input);
    const { capabilities } = input.memory;
    for (const capability of ['structuredMessages', 'historyEditing'] as const) {
      if (!capabilities[capability]) {
        throw new UnsupportedCapabilityError(
          capability,
          `@flux-rag/langchain needs a store with the ${capability} capability (contract 1.1)`,
        );
      }
    }
    this.#memory = input.memory;
    this.sessionId = input.sessionId;
    this.#newSession = input.newSession ?? {};
  }

  /** The session's messages, oldest first; `[]` when the session does not exist (or is another owner's). */
  async getMessages(): Promise<BaseMessage[]> {
    const history = await this.#memory.getHistory(this.sessionId);
    return history.map(toChatMessage);
  }

  /** Appends one message (see {@link addMessages}). */
  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /**
   * Appends the messages in order, atomically: all are stored or, on any error, none (LangChain's default loops
   * over `addMessage`, one write each). Creates the session when it does not exist. A message LangChain could not
   * load back (a type other than human, ai, system, tool, function, generic) or one the contract refuses (a payload
   * value that is not JSON, such as a `Uint8Array`) is a `ValidationError` naming `messages[i]`, and nothing is
   * written. On an owner view, a session id that another owner holds is a `ConflictError`.
   */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const batch = messages.map((message, i) => toNewMessage(message, `messages[${i}]`));
    try {
      await this.#memory.upsertMessages(this.sessionId, batch);
      return;
    } catch (error) {
      if (!SessionNotFoundError.isInstance(error)) throw error;
    }
    try {
      await this.#memory.createSession({ ...this.#newSession, id: this.sessionId });
    } catch (error) {
      // Another writer created it first: append to it. If it is still not found, the id is another owner's
      // session, hidden by this view: the conflict says so without revealing it.
      if (!ConflictError.isInstance(error)) throw error;
      try {
        await this.#memory.upsertMessages(this.sessionId, batch);
        return;
      } catch (retry) {
        throw SessionNotFoundError.isInstance(retry) ? error : retry;
      }
    }
    await this.#memory.upsertMessages(this.sessionId, batch);
  }

  /** Removes every message of the session in one transaction; the session itself (title, metadata) stays. */
  override async clear(): Promise<void> {
    try {
      await this.#memory.rewriteHistory(this.sessionId, { after: null, messages: [] });
    } catch (error) {
      if (!SessionNotFoundError.isInstance(error)) throw error;
    }
  }
}
