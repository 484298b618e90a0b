// LangChain.js chat message history over any flux-rag `ConversationMemory` (contract 1.1).
export { FluxChatMessageHistory, type FluxChatMessageHistoryInput } from './flux-chat-message-history.js';
export { STORED_MESSAGE_FORMAT, toChatMessage, toNewMessage } from './stored-message-codec.js';
