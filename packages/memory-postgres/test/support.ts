import { createTestSchema, type TestSchema, withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import { PostgresConversationMemory, type PostgresMemoryOptions } from '../src/index.js';

/**
 * Per-file fixtures on the run's server: schemas dropped after the file, stores and pools closed after each
 * test.
 */
export function usePostgres() {
  const url = testPostgresUrl();
  const schemas: TestSchema[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await Promise.all(schemas.splice(0).map((schema) => schema.drop()));
  });
  return {
    url,
    /** A fresh empty schema (or only a fresh name, with `create: false`), dropped after the file. */
    async schema(create = true): Promise<string> {
      const schema = await createTestSchema(url, { create });
      schemas.push(schema);
      return schema.name;
    },
    /** A store on a fresh schema (unless one is given), closed after the test. */
    async store(options: Partial<PostgresMemoryOptions> = {}): Promise<PostgresConversationMemory> {
      const schema = options.schema ?? (await this.schema(false));
      const store = new PostgresConversationMemory({
        ...(options.pool ? {} : { connectionString: url }),
        ...options,
        schema,
      });
      closers.push(() => store.close());
      return store;
    },
    /** A pg pool on the run's server, ended after the test. */
    pool(config: pg.PoolConfig = {}): pg.Pool {
      const pool = new pg.Pool({ connectionString: url, max: 4, ...config });
      pool.on('error', () => {});
      closers.push(() => pool.end().catch(() => {}));
      return pool;
    },
  };
}

/**
 * Empty schemas for the conformance suite's cases, reused: creating and migrating a schema per case (500+ cases)
 * would dominate a run, so a name is handed out fresh (the store creates and migrates it on first use), and after
 * each case every schema it used is emptied (its rows deleted, its identity restarted) and handed to a later
 * case. A case that never opened its store leaves no schema behind, and its name is simply reused. Schema
 * creation itself is tested in src/postgres-migrations.test.ts and test/parallel-init.test.ts.
 *
 * `primaryUrl` is read after each case (a server started in `beforeAll` is known by then); `freshName` gives a
 * name no other case uses.
 */
export function reusedSchemas(primaryUrl: () => string, freshName: () => string | Promise<string>) {
  const used: string[] = [];
  const empty: string[] = [];
  afterEach(async () => {
    const dirty = used.splice(0);
    if (dirty.length === 0) return;
    await withClient(primaryUrl(), async (client) => {
      const { rows } = await client.query<{ name: string }>(
        'SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1::text[])',
        [dirty],
      );
      // Every table of the schema (message_operations too, whose key refers to sessions: TRUNCATE refuses a
      // referenced table without it).
      const tables = (s: string) => ['sessions', 'messages', 'message_operations'].map((t) => `"${s}".${t}`);
      if (rows.length > 0) {
        await client.query(`TRUNCATE ${rows.flatMap((row) => tables(row.name)).join(', ')} RESTART IDENTITY`);
      }
    });
    empty.push(...dirty);
  });
  return {
    /** An empty schema's name, for one case. */
    async next(): Promise<string> {
      const name = empty.pop() ?? (await freshName());
      used.push(name);
      return name;
    },
  };
}
