import { createHash } from 'node:crypto';
import type { JsonValue, Message, Metadata, NewMessage } from '@flux-rag/memory-core';
import type { UIMessage } from 'ai';

/** The `format` of every message this package stores: the payload is a whole AI SDK `UIMessage`. */
export const UI_MESSAGE_FORMAT = 'ai-sdk/ui-message';

/**
 * What this package records in a stored message's own metadata (never in the `UIMessage`, whose `metadata` stays
 * inside the payload), under the key `aiSdk`.
 */
export interface StoredMessageFlags {
  /** The store made up the id: the SDK gave the message the empty id (no `generateMessageId`). */
  readonly generatedId?: true;
  /**
   * The stream that produced this message was stopped before it completed (`onEnd`'s `isAborted` or
   * `isCancelled`): the message may be partial.
   */
  readonly aborted?: true;
  /** The client went away (or stopped) before the stream declared an outcome (`onEnd`'s `isCancelled`). */
  readonly cancelled?: true;
  /** The stream's outcome when it was not `completed` (`failed`, `aborted`, `unknown`). */
  readonly outcome?: string;
  /** The model's finish reason, recorded only with one of the flags above. */
  readonly finishReason?: string;
}

/**
 * The text of a message for search and for readers of the store that do not know the AI SDK: its text parts
 * joined by a newline.
 */
export function textContent(message: UIMessage): string {
  const texts: string[] = [];
  for (const part of message.parts ?? []) {
    if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
  }
  return texts.join('\n');
}

/**
 * The stored form of a `UIMessage` under `id`: the whole message (its id set to the store's) as the payload, the
 * text parts as `content`, and `metadata` as given (the store's own, `{}` by default).
 */
export function toNewMessage(
  message: UIMessage,
  id: string,
  metadata: Metadata = {},
): NewMessage & { id: string } {
  return {
    id,
    role: message.role,
    content: textContent(message),
    metadata,
    format: UI_MESSAGE_FORMAT,
    payload: { ...(message as unknown as { [key: string]: JsonValue }), id },
  };
}

/**
 * The contract's `messageDigest` of a message this package built, without the validation `messageDigest` runs
 * first: sha256 of `JSON.stringify([role, content, metadata, format, payload])`, the formula the contract
 * documents. Validating every message of a 200-message chat on each save cost several times the save itself; a
 * message that would not pass validation gets a digest no stored message has, so it is written, and the store's
 * validation refuses it there. `test/message-codec.test.ts` holds it equal to `messageDigest`.
 */
export function storedDigest(message: NewMessage): string {
  const canonical = [
    message.role,
    message.content,
    message.metadata ?? {},
    message.format ?? null,
    message.payload ?? null,
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * The `UIMessage` a stored message holds. A message some other writer stored (no AI SDK payload) becomes a
 * message with one text part; its role is kept when the SDK knows it, any other role (`tool`...) reads as
 * `assistant`.
 */
export function toUIMessage(message: Message): UIMessage {
  if (message.format === UI_MESSAGE_FORMAT && isObject(message.payload)) {
    // The payload is a fresh value (the contract's promise), already holding the store's id: no copy needed.
    const stored = message.payload as unknown as UIMessage;
    if (stored.id !== message.id) stored.id = message.id;
    return stored;
  }
  const role: UIMessage['role'] =
    message.role === 'user' ? 'user' : message.role === 'system' ? 'system' : 'assistant';
  return { id: message.id, role, parts: [{ type: 'text', text: message.content }] };
}

/** The flags this package recorded on a stored message (`{}` when none). */
export function storedFlags(metadata: Metadata): StoredMessageFlags {
  const flags = metadata.aiSdk;
  return isObject(flags) ? (flags as StoredMessageFlags) : {};
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
