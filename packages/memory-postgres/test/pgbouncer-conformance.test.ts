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
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';

// The whole suite through PgBouncer in transaction mode with its default settings, on the store's default
// options, against a database whose TimeZone is 14 hours from UTC: nothing may rely on a startup parameter, a
// session setting, a named prepared statement or a session lock.
const FAR_SERVER_TIME_ZONE = 'Pacific/Kiritimati';

const pgbouncer = pgBouncerForTests();

describe.skipIf('missing' in pgbouncer)('through PgBouncer (pool_mode = transaction)', () => {
  let database: TestDatabase;
  let bouncer: TestPgBouncer;
  /** Schemas a case used, emptied after it and handed to later cases (as in conformance.test.ts). */
  const used: string[] = [];
  const empty: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl(), { prefix: 't_bouncer_' });
    await withClient(database.url, (client) =>
      client.query(`ALTER DATABASE "${database.name}" SET timezone TO '${FAR_SERVER_TIME_ZONE}'`),
    );
    bouncer = await startPgBouncer(database.url);
  });
  afterEach(async () => {
    const dirty = used.splice(0);
    if (dirty.length === 0) return;
    await withClient(database.url, (client) =>
      client.query(
        dirty
          .map(
            (s) => `TRUNCATE "${s}".sessions, "${s}".messages, "${s}".message_operations RESTART IDENTITY;`,
          )
          .join('\n'),
      ),
    );
    empty.push(...dirty);
  });
  afterAll(async () => {
    await bouncer?.stop();
    await database?.drop();
  });

  const emptySchema = () => {
    const name = empty.pop() ?? uniqueName();
    used.push(name);
    return name;
  };

  runConformanceSuite(
    'postgres through PgBouncer',
    async ({ clock }) =>
      new PostgresConversationMemory({
        connectionString: bouncer.url,
        schema: emptySchema(),
        ...(clock ? { clock } : {}),
      }),
    {
      openShared: async () => {
        const schema = emptySchema();
        return {
          open: async () => new PostgresConversationMemory({ connectionString: bouncer.url, schema }),
          destroy: async () => {},
        };
      },
    },
  );
});
