import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createTestDatabase,
  pgBouncerForTests,
  startPgBouncer,
  type TestPgBouncer,
  withClient,
} from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateLegacyFile,
  MigrationError,
  migratePostgresToSqlite,
  migrateSqliteToPostgres,
} from '../dist/index.js';
import { killed, startChildRun } from './child-run.js';
import { expectSameContent, legacyCopy, perTestScratch, targetCounts, tempDir } from './helpers.js';

// The migrator with PgBouncer (transaction mode, default settings) in front of the server, both ways: reading
// from it (the source is one transaction) and writing into it (no session state: every transaction carries
// what it needs, the run's lock is a transaction lock), resumable and exclusive as it is directly.
const pgbouncer = pgBouncerForTests();

/** The advisory lock class of a running migration ("migr"), as `src/postgres-run-lock.ts` takes it. */
const MIGRATION_LOCK_CLASS = 0x6d696772;
const MESSAGES = 4_000;
const SESSIONS = 40;

describe.skipIf('missing' in pgbouncer)('migrator through PgBouncer (pool_mode = transaction)', () => {
  let bouncer: TestPgBouncer;
  /** A generated legacy file of {@link MESSAGES} messages, written once for the file. */
  let generated: string;
  let generatedDir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    bouncer = await startPgBouncer(testPostgresUrl());
    generatedDir = tempDir();
    generated = path.join(generatedDir.dir, 'legacy-4k.db');
    generateLegacyFile({ path: generated, sessions: SESSIONS, messages: MESSAGES, seed: 18 });
  });
  afterAll(async () => {
    await bouncer?.stop();
    generatedDir?.remove();
  });
  const scratch = perTestScratch();

  const counts = () => targetCounts(scratch.schema);

  /** Server processes holding the migration lock of the test's schema, read on the server itself. */
  const lockHolders = () =>
    withClient(testPostgresUrl(), async (c) => {
      const r = await c.query<{ pid: number }>(
        `SELECT pid FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND classid = $1::integer::oid AND objid = hashtext($2)::oid`,
        [MIGRATION_LOCK_CLASS, scratch.schema],
      );
      return r.rows.map((row) => row.pid);
    });

  /** The generated file migrated directly, then every other message deleted: the merge path's starting point. */
  async function halfFilled(): Promise<number> {
    await migrateSqliteToPostgres({
      sqlitePath: generated,
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    await withClient(testPostgresUrl(), (c) =>
      c.query(`DELETE FROM "${scratch.schema}".messages WHERE seq % 2 = 0`),
    );
    return (await counts()).messages;
  }

  /** A migration of the generated file into the test's schema through the pooler, in a child process. */
  const childThroughPooler = (env: Record<string, string>) =>
    startChildRun({ SQLITE: generated, DSN: bouncer.url, SCHEMA: scratch.schema, BATCH: '200', ...env });

  /** The generated file migrated through the pooler, expected complete and verified. */
  async function completesThroughPooler() {
    const report = await migrateSqliteToPostgres({
      sqlitePath: generated,
      postgresDsn: bouncer.url,
      schema: scratch.schema,
      batchSize: 200,
    });
    expect(report.ok).toBe(true);
    expect(report.verification).toMatchObject({ status: 'passed', sessions: SESSIONS, messages: MESSAGES });
    expect(await counts()).toEqual({ sessions: SESSIONS, messages: MESSAGES, distinct: MESSAGES });
    return report;
  }

  it('migratePostgresToSqlite - reads a store through the pooler: the laptop copy returns what the server does', async () => {
    await migrateSqliteToPostgres({
      sqlitePath: legacyCopy(scratch.dir),
      postgresDsn: testPostgresUrl(),
      schema: scratch.schema,
    });
    const target = path.join(scratch.dir, 'laptop.db');
    const report = await migratePostgresToSqlite({
      sqlitePath: target,
      postgresDsn: bouncer.url,
      schema: scratch.schema,
    });
    expect(report.ok).toBe(true);
    expect(report.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });
    await expectSameContent(target, { connectionString: bouncer.url, schema: scratch.schema });
  }, 120_000);

  it('migrateSqliteToPostgres - the legacy file into the pooler: loaded, verified, the store returns what SQLite does; a re-run writes 0 rows', async () => {
    const options = { sqlitePath: legacyCopy(scratch.dir), postgresDsn: bouncer.url, schema: scratch.schema };
    const report = await migrateSqliteToPostgres(options);
    expect(report.ok).toBe(true);
    expect(report.target.load).toBe('bulk');
    expect(report.tables.sessions).toMatchObject({ read: 40, written: 40, rejected: 0 });
    expect(report.tables.messages).toMatchObject({ read: 947, written: 947, rejected: 0 });
    expect(report.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });
    expect(report.target.location).not.toContain(new URL(bouncer.url).password);

    await expectSameContent(legacyCopy(scratch.dir, 'read.db'), {
      connectionString: bouncer.url,
      schema: scratch.schema,
    });

    const again = await migrateSqliteToPostgres(options);
    expect(again.ok).toBe(true);
    expect(again.tables.sessions).toMatchObject({ written: 0, alreadyPresent: 40 });
    expect(again.tables.messages).toMatchObject({ written: 0, alreadyPresent: 947 });
    expect(again.summary).toMatch(/^wrote 0 rows.*verification passed/);
    const check = await migrateSqliteToPostgres({ ...options, verifyOnly: true });
    expect(check.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });
    expect(await lockHolders()).toEqual([]);
  }, 120_000);

  it('migrateSqliteToPostgres - into a database whose TimeZone is not UTC, through the pooler: timestamps written and verified as UTC', async () => {
    // Every transaction sets UTC itself (SET LOCAL): nothing set on a session would reach the next transaction.
    const database = await createTestDatabase(testPostgresUrl(), { prefix: 'mig_tz_' });
    let zoned: TestPgBouncer | undefined;
    try {
      await withClient(testPostgresUrl(), (c) =>
        c.query(`ALTER DATABASE "${database.name}" SET TimeZone = 'Pacific/Chatham'`),
      );
      zoned = await startPgBouncer(database.url);
      const report = await migrateSqliteToPostgres({
        sqlitePath: legacyCopy(scratch.dir),
        postgresDsn: zoned.url,
        schema: 'memory',
      });
      expect(report.ok).toBe(true);
      expect(report.verification).toMatchObject({ status: 'passed', sessions: 40, messages: 947 });
      await expectSameContent(legacyCopy(scratch.dir, 'read.db'), {
        connectionString: zoned.url,
        schema: 'memory',
      });
    } finally {
      await zoned?.stop();
      await database.drop();
    }
  }, 120_000);

  it('migrateSqliteToPostgres - merge into the pooler, one transaction per batch on whichever server connection is free: writes exactly what is missing', async () => {
    const before = await halfFilled();
    // Other clients of the pooler keep taking and giving back server connections meanwhile, so that the run's
    // transactions land on different ones: state left in one server session would not be found by the next.
    const others = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new pg.Client({ connectionString: bouncer.url });
        await c.connect();
        return c;
      }),
    );
    let running = true;
    const churn = Promise.all(
      others.map(async (c) => {
        while (running) await c.query('BEGIN; SELECT pg_sleep(0.002); COMMIT');
      }),
    );
    let report: Awaited<ReturnType<typeof migrateSqliteToPostgres>>;
    try {
      report = await migrateSqliteToPostgres({
        sqlitePath: generated,
        postgresDsn: bouncer.url,
        schema: scratch.schema,
        batchSize: 100,
      });
    } finally {
      running = false;
      await churn;
      await Promise.all(others.map((c) => c.end()));
    }
    expect(report.ok).toBe(true);
    expect(report.target.load).toBe('merge');
    expect(report.tables.messages).toMatchObject({ written: MESSAGES - before, alreadyPresent: before });
    expect(report.verification).toMatchObject({ status: 'passed', sessions: SESSIONS, messages: MESSAGES });
    expect(await counts()).toEqual({ sessions: SESSIONS, messages: MESSAGES, distinct: MESSAGES });
  }, 120_000);

  it('killed with SIGKILL in the middle of the bulk COPY through the pooler: the target is left empty, the re-run loads everything', async () => {
    const run = childThroughPooler({ PAUSE_PHASE: 'messages', PAUSE_STEP: 'copy', PAUSE_AT: '1500' });
    expect(await run.paused).toBe(true);
    await killed(run.process);
    expect(await counts()).toMatchObject({ sessions: 0, messages: 0 });
    const report = await completesThroughPooler();
    expect(report.target.load).toBe('bulk');
  }, 120_000);

  it('killed with SIGKILL after some merge batches committed through the pooler: the re-run writes exactly what is missing', async () => {
    await halfFilled();
    const run = childThroughPooler({ PAUSE_PHASE: 'messages', PAUSE_STEP: 'copy', PAUSE_AT: '2000' });
    expect(await run.paused).toBe(true);
    await killed(run.process);
    const between = await counts();
    expect(between.messages).toBeGreaterThan(MESSAGES / 2);
    expect(between.messages).toBeLessThan(MESSAGES);
    const report = await completesThroughPooler();
    expect(report.target.load).toBe('merge');
    expect(report.tables.messages).toMatchObject({
      written: MESSAGES - between.messages,
      alreadyPresent: between.messages,
    });
  }, 120_000);

  it('two runs at once through the pooler: the second is TARGET_BUSY (and directly too) and writes nothing; the first completes', async () => {
    await halfFilled();
    const resume = path.join(scratch.dir, 'resume');
    const first = childThroughPooler({
      PAUSE_PHASE: 'messages',
      PAUSE_STEP: 'copy',
      PAUSE_AT: '1000',
      RESUME_FILE: resume,
    });
    try {
      expect(await first.paused).toBe(true);
      const between = await counts();
      for (const postgresDsn of [bouncer.url, testPostgresUrl()]) {
        const error = await migrateSqliteToPostgres({
          sqlitePath: generated,
          postgresDsn,
          schema: scratch.schema,
        }).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(MigrationError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: 'TARGET_BUSY' });
        expect((error as Error).message).not.toContain(new URL(bouncer.url).password);
      }
      expect(await counts()).toEqual(between);
      writeFileSync(resume, '');
      expect(await first.result).toMatchObject({ ok: true });
      expect(await lockHolders()).toEqual([]);
      const check = await migrateSqliteToPostgres({
        sqlitePath: generated,
        postgresDsn: bouncer.url,
        schema: scratch.schema,
        verifyOnly: true,
      });
      expect(check.verification).toMatchObject({ status: 'passed', messages: MESSAGES });
    } finally {
      await killed(first.process);
    }
  }, 120_000);

  it("a killed run's lock ends with it: SIGKILLed while holding it, the lock is gone and the next run takes it at once", async () => {
    await halfFilled();
    const run = childThroughPooler({ PAUSE_PHASE: 'messages', PAUSE_STEP: 'copy', PAUSE_AT: '1000' });
    expect(await run.paused).toBe(true);
    expect(await lockHolders()).toHaveLength(1);
    await killed(run.process);
    // PgBouncer closes the server connection of a client gone in the middle of a transaction: the server
    // rolls that transaction back and its lock with it.
    const deadline = Date.now() + 5_000;
    while ((await lockHolders()).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await lockHolders()).toEqual([]);
    await completesThroughPooler();
  }, 120_000);

  it('a lock lost in the middle of a run (its server connection ended) stops the run before it writes more: TARGET_FAILED, then a re-run completes', async () => {
    await halfFilled();
    const resume = path.join(scratch.dir, 'resume');
    const run = childThroughPooler({
      PAUSE_PHASE: 'messages',
      PAUSE_STEP: 'copy',
      PAUSE_AT: '1000',
      RESUME_FILE: resume,
    });
    try {
      expect(await run.paused).toBe(true);
      const holders = await lockHolders();
      expect(holders).toHaveLength(1);
      // What an idle-in-transaction timeout or a cut connection would do to the lock's transaction.
      await withClient(testPostgresUrl(), (c) => c.query('SELECT pg_terminate_backend($1)', [holders[0]]));
      const between = await counts();
      writeFileSync(resume, '');
      const result = await run.result;
      expect(result).toMatchObject({ error: 'TARGET_FAILED' });
      expect(String(result?.message)).toMatch(/migration lock is gone/);
      expect(await counts()).toEqual(between);
    } finally {
      await killed(run.process);
    }
    await completesThroughPooler();
  }, 120_000);
});
