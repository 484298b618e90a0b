import path from 'node:path';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import {
  pgBouncerForTests,
  startPgBouncer,
  type TestPgBouncer,
  type TestSchema,
  withClient,
} from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MigrationError, migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';
import { freshSchema, legacyCopy, readEverything, tempDir } from './helpers.js';

// The migrator with PgBouncer (transaction mode, default settings) in front of the server: reading from it
// works (the source is one transaction), writing into it is refused before anything is written (the target
// run needs one server session), and neither fails on a startup parameter.
const pgbouncer = pgBouncerForTests();

describe.skipIf('missing' in pgbouncer)('migrator through PgBouncer (pool_mode = transaction)', () => {
  let bouncer: TestPgBouncer;
  let dir: ReturnType<typeof tempDir>;
  let schema: TestSchema;
  beforeAll(async () => {
    bouncer = await startPgBouncer(testPostgresUrl());
  });
  afterAll(async () => {
    await bouncer?.stop();
  });
  beforeEach(async () => {
    dir = tempDir();
    schema = await freshSchema();
  });
  afterEach(async () => {
    await schema.drop();
    dir.remove();
  });

  it('migratePostgresToSqlite - reads a store through the pooler: the laptop copy returns what the server does', async () => {
    await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(dir.dir),
      postgresDsn: testPostgresUrl(),
      schema: schema.name,
    });
    const target = path.join(dir.dir, 'laptop.db');
    const report = await migratePostgresToSqlite({
      sqlitePath: target,
      postgresDsn: bouncer.url,
      schema: schema.name,
    });
    expect(report.ok).toBe(true);
    expect(report.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });
    const postgres = new PostgresConversationMemory({ connectionString: bouncer.url, schema: schema.name });
    const sqlite = new SqliteConversationMemory({ filename: target });
    try {
      expect(await readEverything(sqlite)).toEqual(await readEverything(postgres));
    } finally {
      await postgres.close();
      await sqlite.close();
    }
  }, 120_000);

  it('migrateSqliteToPostgres - into the pooler is refused with TARGET_FAILED naming it, nothing written', async () => {
    const error = await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(dir.dir),
      postgresDsn: bouncer.url,
      schema: schema.name,
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(MigrationError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TARGET_FAILED' });
    expect((error as Error).message).toMatch(/through a connection pooler.*give it the server itself/);
    expect((error as Error).message).not.toContain(new URL(bouncer.url).password);
    const created = await withClient(testPostgresUrl(), (client) =>
      client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema.name]),
    );
    expect(created.rows).toEqual([]);
  }, 60_000);
});
