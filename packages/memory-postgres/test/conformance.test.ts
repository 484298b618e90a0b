import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import { createTestSchema, type TestSchema, withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, afterEach } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';

const url = testPostgresUrl();
const schemas: TestSchema[] = [];
/** Schemas a case used, emptied after it and handed to later cases. */
const used: string[] = [];
const empty: string[] = [];

// Every case gets a schema with no rows, on a store instance of its own. Creating and migrating a schema per
// case (500+ cases) would dominate the run, so a schema is created once, and emptied after each case that used
// it (its rows deleted, its identity restarted) for the next. Schema creation itself is tested in
// src/postgres-migrations.test.ts and test/parallel-init.test.ts.
afterEach(async () => {
  const dirty = used.splice(0);
  if (dirty.length === 0) return;
  await withClient(url, (client) =>
    client.query(
      dirty
        .map((s) => `TRUNCATE "${s}".sessions, "${s}".messages, "${s}".message_operations RESTART IDENTITY;`)
        .join('\n'),
    ),
  );
  empty.push(...dirty);
});
afterAll(async () => {
  await Promise.all(schemas.map((schema) => schema.drop()));
});

/** An empty schema: one a previous case emptied, or a fresh name the store creates and migrates on first use. */
async function emptySchema(): Promise<string> {
  let name = empty.pop();
  if (name === undefined) {
    const schema = await createTestSchema(url, { create: false });
    schemas.push(schema);
    name = schema.name;
  }
  used.push(name);
  return name;
}

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
