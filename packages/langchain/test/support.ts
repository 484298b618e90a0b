import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConversationMemory, InMemoryConversationMemory } from '@flux-rag/memory-core';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, afterEach } from 'vitest';

/** Where a store keeps its data, so that a second store (or another process) can open the same data. */
export type StoreLocation =
  | { backend: 'memory' }
  | { backend: 'sqlite'; filename: string }
  | { backend: 'postgres'; url: string; schema: string };

/** A backend the tests run on: `create()` opens a store on fresh, empty data. */
export interface Backend {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  create(): Promise<{ memory: ConversationMemory; location: StoreLocation }>;
}

/** Opens a store on the data at `location` (closed after the test). */
export type Reopen = (location: StoreLocation) => ConversationMemory;

/**
 * The three backends on real data (a SQLite file in a fresh temporary directory, a fresh schema on the run's
 * PostgreSQL), with every store closed after each test and the files and schemas removed after the file.
 */
export function useBackends(): { backends: Backend[]; reopen: Reopen } {
  const closers: Array<() => Promise<unknown>> = [];
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  });
  const track = <M extends ConversationMemory>(memory: M): M => {
    closers.push(() => memory.close());
    return memory;
  };
  const reopen: Reopen = (location) => {
    switch (location.backend) {
      case 'memory':
        throw new Error('the in-memory store cannot be reopened');
      case 'sqlite':
        return track(new SqliteConversationMemory({ filename: location.filename }));
      case 'postgres':
        return track(
          new PostgresConversationMemory({ connectionString: location.url, schema: location.schema }),
        );
    }
  };
  const backends: Backend[] = [
    {
      name: 'memory',
      create: async () => ({
        memory: track(new InMemoryConversationMemory()),
        location: { backend: 'memory' },
      }),
    },
    {
      name: 'sqlite',
      create: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'flux-rag-langchain-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        const location: StoreLocation = { backend: 'sqlite', filename: join(dir, 'memory.db') };
        return { memory: reopen(location), location };
      },
    },
    {
      name: 'postgres',
      create: async () => {
        const url = testPostgresUrl();
        const schema = await createTestSchema(url, { create: false });
        cleanups.push(() => schema.drop());
        const location: StoreLocation = { backend: 'postgres', url, schema: schema.name };
        return { memory: reopen(location), location };
      },
    },
  ];
  return { backends, reopen };
}
