// Everything an application imports from core (the contract, its types, errors and limits), so one import is
// enough; this package's own `createMemory` (with the default backends) takes precedence over core's.
export * from '@flux-rag/memory-core';
export type { BackendDescriptor, ResolvedLocation } from '@flux-rag/memory-core/backend';
export { postgresBackend } from '@flux-rag/memory-postgres';
export { sqliteBackend } from '@flux-rag/memory-sqlite';
export { createMemory, type MemoryConfig, resolveMemoryConfig } from './create-memory.js';
export { DEFAULT_BACKENDS } from './default-backends.js';
