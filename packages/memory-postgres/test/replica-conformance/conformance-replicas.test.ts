import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import { type ReplicaPair, startReplicaPair, uniqueName, withClient } from '@flux-rag/test-postgres';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { PostgresConversationMemory, type PostgresMemoryOptions } from '../../src/index.js';

// The whole suite (store mode: the owner view routes the same way) on a store that reads from a streaming
// replica: every case writes and reads back at once, so it fails if a read of this store's writes ever lands on
// a replica that has not replayed them. One pair for the file; schemas are reused as in conformance.test.ts
// (emptied on the primary after each case). Its own vitest config (vitest.replica-conformance.config.ts), run by
// CI, not by `pnpm test`: it takes several minutes on a loaded 2-core machine.
let pair: ReplicaPair;
const used: string[] = [];
const empty: string[] = [];
const created: string[] = [];

beforeAll(async () => {
  pair = await startReplicaPair();
}, 120_000);
afterEach(async () => {
  const dirty = used.splice(0);
  if (dirty.length === 0) return;
  await withClient(pair.primary.url, (client) =>
    client.query(dirty.map((s) => `TRUNCATE "${s}".sessions, "${s}".messages RESTART IDENTITY;`).join('\n')),
  );
  empty.push(...dirty);
});
afterAll(() => pair?.destroy());

function emptySchema(): string {
  let name = empty.pop();
  if (name === undefined) {
    name = uniqueName();
    created.push(name);
  }
  used.push(name);
  return name;
}

const options = (schema: string): PostgresMemoryOptions => ({
  connectionString: pair.primary.url,
  replicas: [pair.replica.url],
  schema,
});

runConformanceSuite(
  'postgres with a replica',
  async ({ clock }) =>
    new PostgresConversationMemory({ ...options(emptySchema()), ...(clock ? { clock } : {}) }),
  {
    modes: ['store'],
    openShared: async () => {
      const schema = emptySchema();
      return { open: async () => new PostgresConversationMemory(options(schema)), destroy: async () => {} };
    },
  },
);
