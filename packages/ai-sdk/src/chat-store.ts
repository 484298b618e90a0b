import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  type ConversationMemory,
  type Message,
  type Metadata,
  type NewMessage,
  SessionNotFoundError,
  type SessionSummary,
  ValidationError,
} from '@flux-rag/memory-core';
import type { UIMessage } from 'ai';
import { decodeChatCursor, encodeChatCursor } from './chat-cursor.js';
import {
  type StoredMessageFlags,
  storedDigest,
  storedFlags,
  textContent,
  toNewMessage,
  toUIMessage,
} from './message-codec.js';
import { type ComparedMessage, planSave, type SaveHints } from './save-plan.js';

/** Options of {@link createChatStore}. */
export interface ChatStoreOptions {
  /**
   * Makes the id of a message the SDK gave with the empty id (a reply streamed without `generateMessageId`).
   * Default: `msg-` and a random UUID.
   */
  readonly generateId?: () => string;
}

/**
 * How the stream that produced the reply ended: `onEnd`'s event, or the part of it this store reads. When the
 * stream was aborted, cancelled or did not complete, the reply is stored as given with that recorded in the
 * stored message's metadata (`aiSdk.aborted`, `aiSdk.cancelled`, `aiSdk.outcome`, `aiSdk.finishReason`).
 */
export interface ChatStreamEnd<M extends UIMessage = UIMessage> {
  readonly responseMessage: M;
  readonly isAborted: boolean;
  readonly isCancelled?: true | undefined;
  readonly outcome?: { readonly status: string } | undefined;
  readonly finishReason?: string | undefined;
}

/** What {@link ChatStore.saveChat} takes: the resume guide's `{ id, messages?, activeStreamId }` or the persistence guide's `{ chatId, messages }`. */
export interface SaveChatInput<M extends UIMessage = UIMessage> {
  /** The chat's id (the resume guide's name). */
  readonly id?: string;
  /** The chat's id (the persistence guide's name); `id` wins when both are given. */
  readonly chatId?: string;
  /** The whole chat as the SDK has it; absent: the messages are left alone. */
  readonly messages?: readonly M[];
  /** The stream to resume (`null` clears it); absent: left alone. */
  readonly activeStreamId?: string | null;
  /** The request's `trigger` (`DefaultChatTransport` sends it): checks a regenerate or a plain send. */
  readonly trigger?: 'submit-message' | 'regenerate-message';
  /** The request's `messageId`: the message edited or regenerated. */
  readonly messageId?: string;
  /** `onEnd`'s event, when saving the reply: records how the stream ended on the reply. */
  readonly end?: ChatStreamEnd<M>;
}

/** What one {@link ChatStore.saveChat} wrote. */
export interface SaveChatResult {
  /** The chat did not exist and was created. */
  readonly created: boolean;
  /** Messages written (appended, or replaced because they changed). */
  readonly written: number;
  /** Stored messages removed (the tail a regenerate or an edit replaced). */
  readonly removed: number;
}

/** A page of {@link ChatStore.listChats}. */
export interface ChatPage {
  /** Most recent activity first, each with its title and message count. */
  readonly chats: SessionSummary[];
  /** The next page's cursor, `null` after the last page. */
  readonly nextCursor: string | null;
}

/** The chat store: the functions the AI SDK's persistence and resume guides ask an app to write. */
export interface ChatStore<M extends UIMessage = UIMessage> {
  /** Creates an empty chat (for the view's owner on an owner view) and returns its id (a random UUID by default). */
  createChat(input?: { id?: string; title?: string | null; metadata?: Metadata }): Promise<string>;
  /**
   * The chat's messages as the SDK gave them, oldest first. An unknown chat, or another owner's through an owner
   * view, is `[]`.
   */
  loadChat(id: string): Promise<M[]>;
  /** The resume guide's `readChat`: the messages and the stream to resume (`null` when none). */
  readChat(id: string): Promise<{ messages: M[]; activeStreamId: string | null }>;
  /**
   * Saves the chat, writing only what changed: new messages are appended and changed ones replaced under their
   * id; after a regenerate or an edit the stored tail is replaced in one compare-and-swap. An unknown chat is
   * created (for the view's owner). When another writer changed the chat meanwhile so that this history no
   * longer follows from the stored one (two tabs), throws `ConflictError` and changes nothing.
   */
  saveChat(input: SaveChatInput<M>): Promise<SaveChatResult>;
  /**
   * The resume guide's stop route: clears the chat's active stream only if it is still `streamId`, atomically.
   * `true` when cleared; `false` when another stream is active, none is, or the chat does not exist.
   */
  clearActiveStream(id: string, streamId: string): Promise<boolean>;
  /**
   * Chats, most recent activity first, a page at a time (`limit` 1 to 500, default 50). The cursor is opaque; it
   * counts chats, so a chat that gets a message while you page moves to the front and may be seen twice or
   * not at all on later pages.
   */
  listChats(options?: { cursor?: string; limit?: number }): Promise<ChatPage>;
  /** Deletes the chat and its messages; `false` when there was none. */
  deleteChat(id: string): Promise<boolean>;
}

const MAX_PAGE = 500;
const TITLE_LENGTH = 100;

/**
 * A chat store over any conversation memory (an owner view included): a chat is a session, a `UIMessage` a
 * message stored with its id, its text as `content` and the whole message as payload. Needs the contract's
 * `structuredMessages`, `historyEditing` and `sessionUpdates` capabilities.
 */
export function createChatStore<M extends UIMessage = UIMessage>(
  memory: ConversationMemory,
  options: ChatStoreOptions = {},
): ChatStore<M> {
  const generateId = options.generateId ?? (() => `msg-${randomUUID()}`);

  async function ensureChat(id: string, messages: readonly M[]): Promise<boolean> {
    if (await memory.getSession(id)) return false;
    const firstUser = messages.find((message) => message.role === 'user');
    const text = firstUser ? textContent(firstUser).trim() : '';
    try {
      await memory.createSession({ id, title: text === '' ? null : text.slice(0, TITLE_LENGTH) });
      return true;
    } catch (error) {
      // Another request created it first: fine. Another owner's chat stays a conflict.
      if (ConflictError.isInstance(error) && (await memory.getSession(id))) return false;
      throw error;
    }
  }

  async function saveMessages(
    id: string,
    messages: readonly M[],
    hints: SaveHints,
    end: ChatStreamEnd<M> | undefined,
  ): Promise<SaveChatResult> {
    messages.forEach((message, i) => {
      if (typeof message !== 'object' || message === null || typeof message.id !== 'string') {
        throw new ValidationError(`messages[${i}].id`, 'must be a string');
      }
    });
    const stored = await memory.getHistoryDigests(id);
    const created = stored.length === 0 ? await ensureChat(id, messages) : false;

    // The SDK's empty id: the id already stored at that position (a retried save), else a new one.
    const taken = new Set(messages.map((message) => message.id));
    const ids = messages.map((message, i) => {
      if (message.id !== '') return message.id;
      const candidate = stored[i]?.id;
      const chosen = candidate !== undefined && !taken.has(candidate) ? candidate : generateId();
      taken.add(chosen);
      return chosen;
    });
    const endIndex = end ? messages.findLastIndex((message) => message.id === end.responseMessage.id) : -1;
    const news: NewMessage[] = messages.map((message, i) =>
      toNewMessage(message, ids[i]!, flagsMetadata(message.id === '', i === endIndex ? end : undefined)),
    );
    const compared: ComparedMessage[] = news.map((message) => ({
      id: message.id!,
      role: message.role,
      digest: storedDigest(message),
    }));

    // A stored message whose digest differs may differ only by the store's own metadata (the abort flags, or
    // what the app set): read the stored tail from there, once, to compare with that metadata kept.
    const common = Math.min(stored.length, compared.length);
    let firstSuspect = -1;
    for (let i = 0; i < common; i++) {
      const differs = stored[i]!.id !== compared[i]!.id || stored[i]!.digest !== compared[i]!.digest;
      if (differs && i !== endIndex) {
        firstSuspect = i;
        break;
      }
    }
    const rekeyed = new Set<number>();
    if (firstSuspect >= 0) {
      const tail = await memory.getHistory(id, { limit: stored.length - firstSuspect });
      const byId = new Map(tail.map((message) => [message.id, message]));
      for (let i = firstSuspect; i < common; i++) {
        if (i === endIndex) continue;
        const storedMessage = byId.get(stored[i]!.id);
        if (!storedMessage) continue;
        if (stored[i]!.id === compared[i]!.id) {
          news[i] = toNewMessage(messages[i]!, ids[i]!, storedMessage.metadata);
          compared[i] = { ...compared[i]!, digest: storedDigest(news[i]!) };
        } else if (sameMessageUnderGeneratedId(storedMessage, messages[i]!)) {
          const { generatedId: _, ...flags } = storedFlags(storedMessage.metadata);
          news[i] = toNewMessage(messages[i]!, ids[i]!, withFlags(storedMessage.metadata, flags));
          compared[i] = { ...compared[i]!, digest: storedDigest(news[i]!) };
          rekeyed.add(i);
        } else {
          break;
        }
      }
    }

    const plan = planSave(stored, compared, hints, rekeyed);
    switch (plan.kind) {
      case 'none':
        return { created, written: 0, removed: 0 };
      case 'upsert': {
        const result = await memory.upsertMessages(
          id,
          plan.indices.map((i) => news[i]!),
          { ifLastId: plan.ifLastId },
        );
        return { created, written: result.appended + result.replaced, removed: 0 };
      }
      case 'rewrite': {
        const result = await memory.rewriteHistory(id, {
          after: plan.after,
          expectedIds: plan.expectedIds,
          messages: news.slice(plan.from),
        });
        return { created, written: result.ids.length, removed: result.removed.length };
      }
      case 'conflict':
        throw new ConflictError('history', id, plan.why, { reason: 'expected-ids' });
    }
  }

  return {
    async createChat(input = {}) {
      return memory.createSession({
        ...(input.id === undefined ? {} : { id: input.id }),
        title: input.title ?? null,
        metadata: input.metadata ?? {},
      });
    },

    async loadChat(id) {
      return (await memory.getHistory(id)).map((message) => toUIMessage(message) as M);
    },

    async readChat(id) {
      const [session, history] = await Promise.all([memory.getSession(id), memory.getHistory(id)]);
      const stream = (session?.metadata.aiSdk as { activeStreamId?: unknown } | undefined)?.activeStreamId;
      return {
        messages: history.map((message) => toUIMessage(message) as M),
        activeStreamId: typeof stream === 'string' ? stream : null,
      };
    },

    async saveChat(input) {
      const id = input.id ?? input.chatId;
      if (typeof id !== 'string') throw new ValidationError('id', 'is required (id, or chatId)');
      let result: SaveChatResult = { created: false, written: 0, removed: 0 };
      if (input.messages !== undefined) {
        if (!Array.isArray(input.messages)) throw new ValidationError('messages', 'must be an array');
        result = await saveMessages(
          id,
          input.messages,
          { trigger: input.trigger, messageId: input.messageId },
          input.end,
        );
      } else {
        result = { ...result, created: await ensureChat(id, []) };
      }
      if (input.activeStreamId !== undefined) {
        await memory.updateSession(id, {
          metadataPatch: { aiSdk: { activeStreamId: input.activeStreamId } },
        });
      }
      return result;
    },

    async clearActiveStream(id, streamId) {
      try {
        await memory.updateSession(id, {
          metadataPatch: { aiSdk: { activeStreamId: null } },
          ifMetadata: { aiSdk: { activeStreamId: streamId } },
        });
        return true;
      } catch (error) {
        if (ConflictError.isInstance(error) || SessionNotFoundError.isInstance(error)) return false;
        throw error;
      }
    },

    async listChats(options = {}) {
      const limit = options.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
        throw new ValidationError('limit', `must be an integer from 1 to ${MAX_PAGE}`);
      }
      const offset = options.cursor === undefined ? 0 : decodeChatCursor(options.cursor);
      const rows = await memory.getSessions({ limit: limit + 1, offset });
      return {
        chats: rows.slice(0, limit),
        nextCursor: rows.length > limit ? encodeChatCursor(offset + limit) : null,
      };
    },

    async deleteChat(id) {
      return memory.deleteSession(id);
    },
  };
}

/** The store metadata of a message: the generated-id flag and, for the reply, how its stream ended. */
function flagsMetadata(generatedId: boolean, end: ChatStreamEnd | undefined): Metadata {
  const flags: { -readonly [K in keyof StoredMessageFlags]: StoredMessageFlags[K] } = {};
  if (generatedId) flags.generatedId = true;
  if (end) {
    if (end.isAborted || end.isCancelled) flags.aborted = true;
    if (end.isCancelled) flags.cancelled = true;
    if (end.outcome && end.outcome.status !== 'completed') flags.outcome = end.outcome.status;
    if ((flags.aborted || flags.cancelled || flags.outcome) && end.finishReason !== undefined) {
      flags.finishReason = end.finishReason;
    }
  }
  return Object.keys(flags).length === 0 ? {} : { aiSdk: flags as Metadata };
}

/** `metadata` with its `aiSdk` flags replaced (removed when none are left). */
function withFlags(metadata: Metadata, flags: StoredMessageFlags): Metadata {
  const { aiSdk: _, ...rest } = metadata;
  return Object.keys(flags).length === 0 ? rest : { ...rest, aiSdk: flags as Metadata };
}

/**
 * Whether `stored` is `incoming` stored under an id the store made up (the SDK had given the empty id, and the
 * client then made up its own): same message but for the id.
 */
function sameMessageUnderGeneratedId(stored: Message, incoming: UIMessage): boolean {
  if (storedFlags(stored.metadata).generatedId !== true) return false;
  const mine = toUIMessage(stored);
  return storedDigest(toNewMessage(mine, 'x')) === storedDigest(toNewMessage(incoming, 'x'));
}
