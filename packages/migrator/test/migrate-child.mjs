// Runs one migration in its own process, for the kill tests. With PAUSE_PHASE/PAUSE_STEP/PAUSE_AT set it
// prints "PAUSED" when progress reaches that point and then blocks, so the test can SIGKILL it exactly there.
import { writeSync } from 'node:fs';
import { migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';

const { SQLITE, DSN, SCHEMA, BATCH, REVERSE, PAUSE_PHASE, PAUSE_STEP, PAUSE_AT } = process.env;
const migrate = REVERSE ? migratePostgresToSqlite : migrateSqliteToPostgres;
const report = await migrate({
  sqlitePath: SQLITE,
  postgresDsn: DSN,
  schema: SCHEMA,
  batchSize: Number(BATCH ?? 500),
  // A pause must stop the migration itself: on the calling thread, not in a worker that would go on.
  isolate: !PAUSE_PHASE,
  onProgress: (p) => {
    if (
      p.phase === PAUSE_PHASE &&
      (!PAUSE_STEP || p.step.startsWith(PAUSE_STEP)) &&
      p.done >= Number(PAUSE_AT ?? 0)
    ) {
      writeSync(1, 'PAUSED\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
  },
});
writeSync(1, `${JSON.stringify({ ok: report.ok, summary: report.summary })}\n`);
