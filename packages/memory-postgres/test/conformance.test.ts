import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import { createTestSchema, type TestSchema } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';
import { reusedSchemas } from './support.js';

const url = testPostgresUrl();
const created: TestSchema[] = [];
afterAll(async () => {
  await Promise.all(created.map((schema) => schema.drop()));
});
const schemas = reusedSchemas(
  () => url,
  async () => {
    const schema = await createTestSchema(url, { create: false });
    created.push(schema);
    return schema.name;
  },
);
const emptySchema = () => schemas.next();

runConformanceSuite(
  'postgres',
  async ({ clock }) =>
    new PostgresConversationMemory({
      connectionString: url,
      schema: await emptySchema(),
      ...(clock ? { clock } : {}),
    }),
  {
    openShared: async () => {
      const schema = await emptySchema();
      return {
        open: async () => new PostgresConversationMemory({ connectionString: url, schema }),
        destroy: async () => {},
      };
    },
  },
);
