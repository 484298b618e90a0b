import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConversationMemory, InMemoryConversationMemory } from '@flux-rag/memory-core';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterEach, beforeEach } from 'vitest';

/** Where a store lives, so that another process can open the same one. */
export type StoreLocation =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; connectionString: string; schema: string };

/** A fresh, empty store of one backend, and how to drop it. */
export interface OpenedStore {
  memory: ConversationMemory;
  /** `undefined` for the in-memory store, which no other process can open. */
  location: StoreLocation | undefined;
  /** Closes the store and removes its file or schema. */
  dispose(): Promise<void>;
}

/** Every backend the adapter is tested on: the reference in-memory store, SQLite and PostgreSQL. */
export const BACKENDS: ReadonlyArray<{ name: string; open(): Promise<OpenedStore> }> = [
  {
    name: 'in-memory',
    async open() {
      const memory = new InMemoryConversationMemory();
      return { memory, location: undefined, dispose: () => memory.close() };
    },
  },
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'flux-rag-openai-agents-'));
      const filename = join(dir, 'memory.db');
      const memory = new SqliteConversationMemory({ filename });
      return {
        memory,
        location: { kind: 'sqlite', filename },
        async dispose() {
          await memory.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = await createTestSchema(testPostgresUrl(), { prefix: 'oa_' });
      const memory = new PostgresConversationMemory({ connectionString: schema.url, schema: schema.name });
      return {
        memory,
        location: { kind: 'postgres', connectionString: schema.url, schema: schema.name },
        async dispose() {
          await memory.close();
          await schema.drop();
        },
      };
    },
  },
];

/** Opens the same store again from its location (as another process would). */
export function reopen(location: StoreLocation): ConversationMemory {
  return location.kind === 'sqlite'
    ? new SqliteConversationMemory({ filename: location.filename })
    : new PostgresConversationMemory({
        connectionString: location.connectionString,
        schema: location.schema,
      });
}

/**
 * Opens a fresh store of `backend` before each test of the calling `describe` and disposes of it after; returns
 * the current one.
 */
export function useStore(backend: { open(): Promise<OpenedStore> }): () => OpenedStore {
  let store: OpenedStore | undefined;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });
  return () => {
    if (store === undefined) throw new Error('useStore: no store outside a test');
    return store;
  };
}
