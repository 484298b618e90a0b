// @flux-rag/ai-sdk: the AI SDK's chat persistence (UIMessage[] per chat) on any flux-rag conversation memory.
export {
  type ChatPage,
  type ChatStore,
  type ChatStoreOptions,
  type ChatStreamEnd,
  createChatStore,
  type SaveChatInput,
  type SaveChatResult,
} from './chat-store.js';
export { findInvalidMessages, type InvalidMessage, type ValidationSchemas } from './find-invalid-messages.js';
export { type StoredMessageFlags, textContent, UI_MESSAGE_FORMAT } from './message-codec.js';
