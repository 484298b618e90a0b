// Runs one migration in its own process, for the kill tests. With PAUSE_PHASE/PAUSE_STEP/PAUSE_AT set it
// prints "PAUSED" when progress reaches that point and then blocks, so the test can SIGKILL it exactly there;
// with RESUME_FILE set too, it goes on once that file exists (the test acts on the server meanwhile). Prints
// the report's outcome, or the error's code, as one JSON line.
import { existsSync, writeSync } from 'node:fs';
import { migratePostgresToSqlite, migrateSqliteToPostgres } from '../dist/index.js';

const { SQLITE, DSN, SCHEMA, BATCH, REVERSE, PAUSE_PHASE, PAUSE_STEP, PAUSE_AT, RESUME_FILE } = process.env;
const migrate = REVERSE ? migratePostgresToSqlite : migrateSqliteToPostgres;
let paused = false;
try {
  const report = await migrate({
    sqlitePath: SQLITE,
    postgresDsn: DSN,
    schema: SCHEMA,
    batchSize: Number(BATCH ?? 500),
    // A pause must stop the migration itself: on the calling thread, not in a worker that would go on.
    isolate: !PAUSE_PHASE,
    onProgress: (p) => {
      if (
        !paused &&
        p.phase === PAUSE_PHASE &&
        (!PAUSE_STEP || p.step.startsWith(PAUSE_STEP)) &&
        p.done >= Number(PAUSE_AT ?? 0)
      ) {
        paused = true;
        writeSync(1, 'PAUSED\n');
        const cell = new Int32Array(new SharedArrayBuffer(4));
        if (!RESUME_FILE) Atomics.wait(cell, 0, 0);
        while (!existsSync(RESUME_FILE)) Atomics.wait(cell, 0, 0, 50);
      }
    },
  });
  writeSync(1, `${JSON.stringify({ ok: report.ok, summary: report.summary })}\n`);
} catch (error) {
  writeSync(1, `${JSON.stringify({ error: error?.code ?? String(error), message: error?.message })}\n`);
  process.exitCode = 1;
}
