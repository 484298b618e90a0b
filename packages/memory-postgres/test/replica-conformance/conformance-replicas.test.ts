import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import { type ReplicaPair, startReplicaPair, uniqueName } from '@flux-rag/test-postgres';
import { afterAll, beforeAll } from 'vitest';
import { PostgresConversationMemory, type PostgresMemoryOptions } from '../../src/index.js';
import { reusedSchemas } from '../support.js';

// The whole suite (store mode: the owner view routes the same way) on a store that reads from a streaming
// replica: every case writes and reads back at once, so it fails if a read of this store's writes ever lands on
// a replica that has not replayed them. One pair for the file; schemas are reused as in conformance.test.ts
// (emptied on the primary after each case). Its own vitest config (vitest.replica-conformance.config.ts), run by
// CI, not by `pnpm test`: it takes several minutes on a loaded 2-core machine.
let pair: ReplicaPair;

beforeAll(async () => {
  pair = await startReplicaPair();
}, 120_000);
afterAll(() => pair?.destroy());
const schemas = reusedSchemas(() => pair.primary.url, uniqueName);
const emptySchema = () => schemas.next();

const options = (schema: string): PostgresMemoryOptions => ({
  connectionString: pair.primary.url,
  replicas: [pair.replica.url],
  schema,
});

runConformanceSuite(
  'postgres with a replica',
  async ({ clock }) =>
    new PostgresConversationMemory({ ...options(await emptySchema()), ...(clock ? { clock } : {}) }),
  {
    modes: ['store'],
    openShared: async () => {
      const schema = await emptySchema();
      return { open: async () => new PostgresConversationMemory(options(schema)), destroy: async () => {} };
    },
  },
);
