import { ConflictError, type ConversationMemory } from '@flux-rag/memory-core';
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
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConversationMemory, type PostgresMemoryOptions, probeConnection } from '../src/index.js';

// What a transaction-mode pooler changes, each checked against the behaviour it would break: the pooler tells
// itself apart from a direct connection, named statements are off behind it, and schema setup leaves no lock.
const pgbouncer = pgBouncerForTests();

describe.skipIf('missing' in pgbouncer)('through PgBouncer (pool_mode = transaction)', () => {
  let database: TestDatabase;
  let bouncer: TestPgBouncer;
  const stores: ConversationMemory[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(testPostgresUrl(), { prefix: 't_bouncer_' });
    bouncer = await startPgBouncer(database.url);
  });
  afterEach(async () => {
    await Promise.allSettled(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await bouncer?.stop();
    await database?.drop();
  });

  /** A store through `url`; `max` bounds its pool. */
  function open(url: string, options: Partial<PostgresMemoryOptions> & { max?: number } = {}) {
    const { max, ...rest } = options;
    const store = new PostgresConversationMemory({
      ...(max === undefined ? { connectionString: url } : { pool: { connectionString: url, max } }),
      schema: uniqueName(),
      ...rest,
    });
    stores.push(store);
    return store;
  }

  /** Sessions written and read back by `writers` concurrent chats; the errors they met. */
  async function chatter(store: ConversationMemory, writers = 8, rounds = 6): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < rounds; i++) {
          try {
            const id = await store.createSession({ title: 't' });
            await store.addMessage(id, { role: 'user', content: `m${i}` });
            const history = await store.getHistory(id, { limit: 50 });
            if (history.length !== 1) errors.push(`history of ${history.length}`);
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
      }),
    );
    return errors;
  }

  it('probeConnection - direct on the server itself, not direct through the pooler', async () => {
    expect((await withClient(database.url, probeConnection)).direct).toBe(true);
    const behind = await withClient(bouncer.url, probeConnection);
    expect(behind.direct).toBe(false);
  });

  it('defaults - concurrent chats through the pooler all succeed (named statements are off behind it)', async () => {
    const store = open(bouncer.url);
    expect(await chatter(store)).toEqual([]);
  });

  it('preparedStatements: true - fails behind the pooler once two clients share a server connection', async () => {
    // One server connection for two stores: the second store's named statement meets the first one's on the
    // server. This is what 'auto' avoids; it shows that the test above would catch it.
    const narrow = await startPgBouncer(database.url, { settings: { default_pool_size: '1' } });
    try {
      const schema = uniqueName();
      await open(narrow.url, { schema }).init();
      const first = open(narrow.url, { schema, preparedStatements: true, max: 1 });
      const second = open(narrow.url, { schema, preparedStatements: true, max: 1 });
      const id = await first.createSession({ title: 't' });
      await first.getHistory(id, { limit: 5 });
      await expect(second.getHistory(id, { limit: 5 })).rejects.toThrow(
        /prepared statement .* already exists/,
      );
      const auto = open(narrow.url, { schema, max: 1 });
      expect(await auto.getHistory(id, { limit: 5 })).toEqual([]);
    } finally {
      await Promise.allSettled(stores.splice(0).map((store) => store.close()));
      await narrow.stop();
    }
  });

  it('init - stores setting up schemas at once through the pooler all succeed and leave no advisory lock', async () => {
    const schema = uniqueName();
    const all = [
      ...Array.from({ length: 4 }, () => open(bouncer.url, { schema })),
      ...Array.from({ length: 4 }, () => open(bouncer.url)),
    ];
    await Promise.all(all.map((store) => store.init()));
    await Promise.all(all.map((store) => store.createSession({ title: 'after init' })));
    const held = await withClient(database.url, (client) =>
      client.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
         WHERE l.locktype = 'advisory' AND d.datname = current_database()`,
      ),
    );
    expect(held.rows[0]!.n).toBe(0);
  });

  it('writes - a conflict through the pooler is a ConflictError and leaves the server connection usable', async () => {
    const store = open(bouncer.url, { max: 1 });
    const id = await store.createSession({ id: 'same' });
    await expect(store.createSession({ id })).rejects.toBeInstanceOf(ConflictError);
    await store.addMessage(id, { role: 'user', content: 'after the conflict' });
    expect((await store.getHistory(id)).map((m) => m.content)).toEqual(['after the conflict']);
  });
});
