import type { JsonValue, Message, NewMessage } from '@flux-rag/memory-core';
import { ValidationError } from '@flux-rag/memory-core';
import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  HumanMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessageToChatMessage,
  type StoredMessage,
  SystemMessage,
} from '@langchain/core/messages';

/**
 * The `format` this package writes beside each message: its `payload` is LangChain's `StoredMessage`
 * (`{ type, data }`, as `mapChatMessagesToStoredMessages` makes it). Rows of any other format, or none, are read
 * from their role and content.
 */
export const STORED_MESSAGE_FORMAT = 'langchain/stored-message';

/** The contract's role for each LangChain message type; `generic` (a `ChatMessage`) keeps its own role. */
const ROLE_OF_TYPE: Readonly<Record<string, string>> = {
  human: 'user',
  ai: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'function',
};

// The loader (`mapStoredMessagesToChatMessages`) throws on any other type, so such a message is refused on write,
// not stored to break every later read of the session.
const LOADABLE_TYPES = new Set([...Object.keys(ROLE_OF_TYPE), 'generic']);

// U+0000 and lone surrogates: the contract refuses them in `content`, and `content` is only the searchable text
// here (the payload keeps the message exactly, JSON-escaped), so they become U+FFFD instead of failing the write.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * A LangChain message as the contract's `NewMessage`: the `StoredMessage` as payload, the message's text as
 * `content` (what `searchMessages` finds), the role from its type. No store id is given: the store makes one,
 * and the message's own `id`, of any length, stays in `payload.data.id`. `at` names the message in errors.
 */
export function toNewMessage(message: BaseMessage, at: string): NewMessage {
  const [stored] = mapChatMessagesToStoredMessages([message]) as [StoredMessage];
  if (!LOADABLE_TYPES.has(stored.type)) {
    throw new ValidationError(
      `${at}.type`,
      `LangChain cannot load a stored message of type ${JSON.stringify(stored.type)} back (${[...LOADABLE_TYPES].join(', ')})`,
    );
  }
  const role = stored.type === 'generic' ? stored.data.role : ROLE_OF_TYPE[stored.type];
  if (typeof role !== 'string') throw new ValidationError(`${at}.role`, 'a ChatMessage needs a role');
  return {
    role,
    content: textOf(message).replace(UNSTORABLE_TEXT, '\ufffd'),
    // `kwargs` may hold `undefined` values: the contract drops such properties, as JSON.stringify does.
    payload: stored as unknown as JsonValue,
    format: STORED_MESSAGE_FORMAT,
  };
}

/**
 * `message.text`: the text blocks joined, after LangChain's provider translators (Anthropic, OpenAI...) made
 * standard blocks of the content. Those translators cost tens of microseconds a message, and for string content
 * (most messages) the text is that string, so it is taken as is.
 */
function textOf(message: BaseMessage): string {
  return typeof message.content === 'string' ? message.content : message.text;
}

/**
 * A stored message as a LangChain message: the payload through `mapStoredMessageToChatMessage` when this
 * package wrote it; otherwise (a legacy row, or another adapter's) a `HumanMessage`, `AIMessage` or
 * `SystemMessage` for the roles `user`, `assistant` and `system`, and a `ChatMessage` keeping any other role,
 * each with the row's content and no id.
 */
export function toChatMessage(message: Message): BaseMessage {
  if (message.format === STORED_MESSAGE_FORMAT && message.payload !== null) {
    return mapStoredMessageToChatMessage(unescapeLangChain(message.payload) as unknown as StoredMessage);
  }
  const { role, content } = message;
  if (role === 'user') return new HumanMessage(content);
  if (role === 'assistant') return new AIMessage(content);
  if (role === 'system') return new SystemMessage(content);
  return new ChatMessage({ content, role });
}

const ESCAPED = '__lc_escaped__';

/**
 * Undoes the escaping `toDict()` applies to user objects that look like serialized LangChain objects (an `lc` key):
 * it writes `{ __lc_escaped__: value }`, which `mapStoredMessagesToChatMessages` does not unwrap, so without this
 * such an object (say in `additional_kwargs`) would come back wrapped, and wrapped once more at every round trip.
 * The same rule as `@langchain/core`'s internal `unescapeValue` (not exported), applied in place: the contract
 * returns every read's payload as a fresh value, so nothing else holds it, and a copy would cost as much again.
 */
function unescapeLangChain(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = unescapeLangChain(value[i]!);
    return value;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === ESCAPED) return value[ESCAPED]!;
  for (const key of keys) value[key] = unescapeLangChain(value[key]!);
  return value;
}
