import type { JsonInput, Message, NewMessage } from '@flux-rag/memory-core';
import type { AgentInputItem } from '@openai/agents-core';
import { ITEM_FORMAT, itemContent, itemRole } from './item-mapping.js';

/**
 * The message an item is stored as: its role and searchable text (see {@link itemRole}, {@link itemContent}),
 * the item itself as the payload with its keys in sorted order, and {@link ITEM_FORMAT}. No id: the store
 * generates one, and the item's own `id` (of any length) stays inside the payload.
 *
 * Sorting the keys makes the stored form, and so the digest `replace_suffix` compares, independent of the order
 * in which the SDK happened to build an object, as the SDK's own `MemorySession` compares items structurally.
 */
export function toNewMessage(item: AgentInputItem, id?: string): NewMessage {
  const message: NewMessage = {
    role: itemRole(item),
    content: itemContent(item),
    payload: canonical(item) as JsonInput,
    format: ITEM_FORMAT,
  };
  if (id !== undefined) message.id = id;
  return message;
}

/**
 * The item a stored message holds. A message written by other means (no payload, or another format: a row of the
 * original Python tables, a message added with `addMessage`) is read as a plain message item: `assistant` as
 * output text, `system` as a system message, any other role as user input.
 */
export function toItem(message: Message): AgentInputItem {
  if (message.format === ITEM_FORMAT && message.payload !== null) return message.payload as AgentInputItem;
  switch (message.role) {
    case 'assistant':
      return {
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: message.content }],
      };
    case 'system':
      return { role: 'system', content: message.content };
    default:
      return { role: 'user', content: message.content };
  }
}

/**
 * A copy of `value` with plain objects' keys sorted and `undefined` properties left out. Anything that is not a
 * plain object or array (a `Uint8Array`, a `Date`) is kept as it is, so that the store's validation names its path.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const record = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    // defineProperty, not assignment: a `__proto__` key is data here, as JSON.parse makes it.
    if (record[key] !== undefined) {
      Object.defineProperty(sorted, key, {
        value: canonical(record[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return sorted;
}
