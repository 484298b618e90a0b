import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConversationMemory, InMemoryConversationMemory } from '@flux-rag/memory-core';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';

/** A real store for one test, and how to remove everything it made. */
export interface OpenedBackend {
  readonly memory: ConversationMemory;
  destroy(): Promise<void>;
}

/** The backends every flow runs on: the in-memory reference, a SQLite file, a PostgreSQL schema. */
export const BACKENDS: Record<string, () => Promise<OpenedBackend>> = {
  memory: async () => {
    const memory = new InMemoryConversationMemory();
    return { memory, destroy: () => memory.close() };
  },
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-ai-sdk-'));
    const memory = new SqliteConversationMemory({ filename: join(dir, 'chats.db') });
    return {
      memory,
      destroy: async () => {
        await memory.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  postgres: async () => {
    const schema = await createTestSchema(testPostgresUrl(), { create: false, prefix: 'ai_sdk_' });
    const memory = new PostgresConversationMemory({ connectionString: schema.url, schema: schema.name });
    return {
      memory,
      destroy: async () => {
        await memory.close();
        await schema.drop();
      },
    };
  },
};
