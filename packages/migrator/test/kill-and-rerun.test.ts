import path from 'node:path';
import { withClient } from '@flux-rag/test-postgres';
import { testPostgresUrl } from '@flux-rag/test-postgres/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLegacyFile, migrateSqliteToPostgres } from '../dist/index.js';
import { startChildRun as child, killed } from './child-run.js';
import { freshSchema, targetCounts, tempDir } from './helpers.js';

const MESSAGES = 20_000;
const SESSIONS = 200;

describe('migrateSqliteToPostgres - killed with SIGKILL at any moment, then run again', () => {
  let dir: ReturnType<typeof tempDir>;
  let source: string;
  beforeAll(() => {
    dir = tempDir();
    source = path.join(dir.dir, 'legacy-20k.db');
    generateLegacyFile({ path: source, sessions: SESSIONS, messages: MESSAGES, seed: 7 });
  });
  afterAll(() => dir.remove());

  async function rerunAndCheck(schema: string) {
    const report = await migrateSqliteToPostgres({
      sqlitePath: source,
      postgresDsn: testPostgresUrl(),
      schema,
    });
    expect(report.ok).toBe(true);
    expect(report.verification).toMatchObject({ status: 'passed', sessions: SESSIONS, messages: MESSAGES });
    expect(await targetCounts(schema)).toEqual({
      sessions: SESSIONS,
      messages: MESSAGES,
      distinct: MESSAGES,
    });
    return report;
  }

  // Bulk load into an empty target: whatever the moment, the kill rolls the one transaction back.
  for (const [label, phase, step, at] of [
    ['in the middle of the COPY of messages', 'messages', 'copy', 6000],
    ['while keys and indexes are rebuilt', 'indexes', 'index', 0],
    ['just before COMMIT', 'indexes', 'commit', 0],
  ] as const) {
    it(`bulk load - killed ${label}: the target is left empty, the re-run loads everything once`, async () => {
      const schema = await freshSchema();
      try {
        const run = child({
          SQLITE: source,
          DSN: testPostgresUrl(),
          SCHEMA: schema.name,
          PAUSE_PHASE: phase,
          PAUSE_STEP: step,
          PAUSE_AT: String(at),
        });
        expect(await run.paused).toBe(true);
        await killed(run.process);
        expect(await targetCounts(schema.name)).toMatchObject({ sessions: 0, messages: 0 });
        const report = await rerunAndCheck(schema.name);
        expect(report.target.load).toBe('bulk');
      } finally {
        await schema.drop();
      }
    });
  }

  it('merge - killed after some batches committed: the re-run writes exactly what is missing', async () => {
    const schema = await freshSchema();
    try {
      // A partly filled target: the merge path commits batch by batch.
      await migrateSqliteToPostgres({
        sqlitePath: source,
        postgresDsn: testPostgresUrl(),
        schema: schema.name,
      });
      await withClient(testPostgresUrl(), (c) =>
        c.query(`DELETE FROM "${schema.name}".messages WHERE seq % 2 = 0`),
      );
      const run = child({
        SQLITE: source,
        DSN: testPostgresUrl(),
        SCHEMA: schema.name,
        PAUSE_PHASE: 'messages',
        PAUSE_STEP: 'copy',
        PAUSE_AT: '8000',
      });
      expect(await run.paused).toBe(true);
      await killed(run.process);
      const between = await targetCounts(schema.name);
      expect(between.messages).toBeGreaterThan(MESSAGES / 2);
      expect(between.messages).toBeLessThan(MESSAGES);
      const report = await rerunAndCheck(schema.name);
      expect(report.tables.messages.written).toBe(MESSAGES - between.messages);
      expect(report.tables.messages.alreadyPresent).toBe(between.messages);
    } finally {
      await schema.drop();
    }
  });

  it('any moment - killed after a random delay, several times in a row, then completed', async () => {
    const schema = await freshSchema();
    try {
      for (const delay of [150, 400, 700, 1000]) {
        const run = child({ SQLITE: source, DSN: testPostgresUrl(), SCHEMA: schema.name });
        await new Promise((resolve) => setTimeout(resolve, delay));
        await killed(run.process);
        const now = await targetCounts(schema.name);
        expect(now.messages).toBe(now.distinct);
      }
      await rerunAndCheck(schema.name);
    } finally {
      await schema.drop();
    }
  });
});
