import { createTestSchema, type TestSchema } from '@flux-rag/test-postgres';
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
