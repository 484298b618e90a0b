import { runConformanceSuite } from '@flux-rag/memory-core/conformance';
import {
  createTestDatabase,
  pgBouncerForTests,
  startPgBouncer,
  type TestDatabase,
  type TestPgBouncer,
  uniqueName,
  withClient,
} from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';
import { reusedSchemas } from './support.js';

// The whole suite through PgBouncer in transaction mode with its default settings, on the store's default
// options, against a database whose TimeZone is 14 hours from UTC: nothing may rely on a startup parameter, a
// session setting, a named prepared statement or a session lock.
const FAR_SERVER_TIME_ZONE = 'Pacific/Kiritimati';

const pgbouncer = pgBouncerForTests();

describe.skipIf('missing' in pgbouncer)('through PgBouncer (pool_mode = transaction)', () => {
  let database: TestDatabase;
  let bouncer: TestPgBouncer;
  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl(), { prefix: 't_bouncer_' });
    await withClient(database.url, (client) =>
      client.query(`ALTER DATABASE "${database.name}" SET timezone TO '${FAR_SERVER_TIME_ZONE}'`),
    );
    bouncer = await startPgBouncer(database.url);
  });
  const schemas = reusedSchemas(() => database.url, uniqueName);
  afterAll(async () => {
    await bouncer?.stop();
    await database?.drop();
  });

  const emptySchema = () => schemas.next();

  runConformanceSuite(
    'postgres through PgBouncer',
    async ({ clock }) =>
      new PostgresConversationMemory({
        connectionString: bouncer.url,
        schema: await emptySchema(),
        ...(clock ? { clock } : {}),
      }),
    {
      openShared: async () => {
        const schema = await emptySchema();
        return {
          open: async () => new PostgresConversationMemory({ connectionString: bouncer.url, schema }),
          destroy: async () => {},
        };
      },
    },
  );
});
