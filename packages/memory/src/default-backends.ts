import { inMemoryBackend } from '@flux-rag/memory-core';
import type { AnyBackendDescriptor } from '@flux-rag/memory-core/backend';
import { postgresBackend } from '@flux-rag/memory-postgres';
import { sqliteBackend } from '@flux-rag/memory-sqlite';

/**
 * The backends `createMemory()` and the `flux-memory` CLI choose from, the default first: SQLite (the
 * original settings' default), PostgreSQL, in-memory. This array is the wiring list: adding a backend is adding
 * its descriptor here (and the package to this package's dependencies), nothing else.
 */
export const DEFAULT_BACKENDS: readonly AnyBackendDescriptor[] = [
  sqliteBackend,
  postgresBackend,
  inMemoryBackend,
];
