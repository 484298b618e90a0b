export { type ConversationMemory, inMemoryBackend } from '@flux-rag/memory-core';
export type { BackendDescriptor, ResolvedLocation } from '@flux-rag/memory-core/backend';
export { postgresBackend } from '@flux-rag/memory-postgres';
export { sqliteBackend } from '@flux-rag/memory-sqlite';
export { createMemory, type MemoryConfig, resolveMemoryConfig } from './create-memory.js';
export { DEFAULT_BACKENDS } from './default-backends.js';
