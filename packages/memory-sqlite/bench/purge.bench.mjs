// `node bench/purge.bench.mjs`: purgeSessions on SQLite over many idle sessions while another connection keeps
// writing (issue 15's retention targets):
// - no purge transaction holds the write lock for more than 100 ms: each batch's transaction is timed from the
//   moment BEGIN IMMEDIATE returned (the lock is held) to the end of its COMMIT, by wrapping the store's
//   writeTransaction (the SQL layer's entry point of every write; no public API is added for it);
// - concurrent addMessage calls on a live session, from a worker thread with its own connection (better-sqlite3
//   is synchronous, so the writer must not share the purging thread), keep their median within 2x of the median
//   without a purge, and their maximum under 250 ms.
// The idle sessions (a few messages each) are written by two bulk INSERT ... SELECT statements in one
// transaction; the messages' triggers (activity counts, search index) run as for any write.
// Options (environment): BENCH_SESSIONS (idle sessions, default 100000), BENCH_MESSAGES_PER (default 3),
// BENCH_BATCH (purge batch size, default the store's), BENCH_BASELINE_MS (the writer alone, default 3000),
// BENCH_DIR (default a fresh mkdtemp folder, removed after).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteConversationMemory } from '../dist/index.js';

/** The worker: addMessage in a loop on the live session until told to stop; posts every latency in ms. */
async function writer({ file, sessionId }) {
  const store = new SqliteConversationMemory({ filename: file });
  await store.init();
  let stop = false;
  parentPort.on('message', (message) => {
    if (message === 'stop') stop = true;
  });
  const latencies = [];
  parentPort.postMessage('started');
  for (let i = 0; !stop; i++) {
    const started = performance.now();
    await store.addMessage(sessionId, { role: 'user', content: `live message ${i}`, metadata: { i } });
    latencies.push(performance.now() - started);
    // Yield, so that the stop message is seen; a real writer also does other things between writes.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await store.close();
  parentPort.postMessage(latencies);
}

/** Starts the writer; the returned function stops it and resolves to its latencies. */
async function startWriter(file, sessionId) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { file, sessionId } });
  const messages = [];
  let notify;
  worker.on('message', (message) => {
    messages.push(message);
    notify?.();
  });
  const next = () =>
    new Promise((resolve, reject) => {
      if (messages.length > 0) return resolve(messages.shift());
      notify = () => {
        notify = undefined;
        resolve(messages.shift());
      };
      worker.once('error', reject);
    });
  await next();
  return async () => {
    worker.postMessage('stop');
    const latencies = await next();
    await worker.terminate();
    return latencies;
  };
}

/** The store with each write transaction's lock hold timed: from inside the transaction to after its commit. */
class TimedStore extends SqliteConversationMemory {
  holds = [];
  writeTransaction(work) {
    let held;
    return super
      .writeTransaction((trx) => {
        held = performance.now();
        return work(trx);
      })
      .then((result) => {
        this.holds.push(performance.now() - held);
        return result;
      });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const max = (xs) => xs.reduce((a, b) => Math.max(a, b), 0);

async function main() {
  const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
  const PER = Number(process.env.BENCH_MESSAGES_PER ?? 3);
  const BATCH = process.env.BENCH_BATCH === undefined ? undefined : Number(process.env.BENCH_BATCH);
  const BASELINE_MS = Number(process.env.BENCH_BASELINE_MS ?? 3000);
  const ownDir = process.env.BENCH_DIR === undefined;
  const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'flux-purge-bench-'));
  const file = join(dir, 'purge.db');
  try {
    const setup = new SqliteConversationMemory({ filename: file });
    const live = await setup.createSession({ title: 'live' });
    await setup.close();

    let started = performance.now();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const idle = '2020-01-01T00:00:00.000000';
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO sessions (id, title, created_at, updated_at, metadata)
         SELECT printf('idle-%08d', i), 'idle ' || i, ?, ?, '{}' FROM n`,
      ).run(SESSIONS, idle, idle);
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
         INSERT INTO messages (id, session_id, role, content, created_at, metadata)
         SELECT printf('m%d', i), printf('idle-%08d', 1 + i / ?), CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
                'an old message about retrieval and ranking, number ' || i, ?, '{}' FROM n`,
      ).run(SESSIONS * PER, PER, idle);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    console.log(
      `SQLite purge bench: ${SESSIONS.toLocaleString('en')} idle sessions x ${PER} messages written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    // The writer alone.
    let stopWriter = await startWriter(file, live);
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const baseline = await stopWriter();

    // The writer during the purge.
    const store = new TimedStore({ filename: file });
    await store.init();
    stopWriter = await startWriter(file, live);
    started = performance.now();
    const result = await store.purgeSessions({
      inactiveBefore: new Date('2021-01-01T00:00:00Z'),
      ...(BATCH === undefined ? {} : { batchSize: BATCH }),
    });
    const purgeMs = performance.now() - started;
    const during = await stopWriter();
    const holds = store.holds;
    await store.close();

    const holdMax = max(holds);
    const medianRatio = median(during) / median(baseline);
    const duringMax = max(during);
    const verdict = (ok) => (ok ? 'ok' : 'MISSED');
    console.log(
      `purgeSessions: ${result.sessions.toLocaleString('en')} sessions, ${result.messages.toLocaleString('en')} messages, ${result.unreadable} unreadable in ${(purgeMs / 1000).toFixed(2)} s, ${holds.length} transactions`,
    );
    console.log(
      `  write lock held per transaction: median ${median(holds).toFixed(1)} ms, max ${holdMax.toFixed(1)} ms (target <= 100 ms: ${verdict(holdMax <= 100)})`,
    );
    console.log(
      `  addMessage alone: ${baseline.length} calls, median ${median(baseline).toFixed(3)} ms, max ${max(baseline).toFixed(1)} ms`,
    );
    console.log(
      `  addMessage during the purge: ${during.length} calls, median ${median(during).toFixed(3)} ms (x${medianRatio.toFixed(2)}, target <= 2: ${verdict(medianRatio <= 2)}), max ${duringMax.toFixed(1)} ms (target < 250 ms: ${verdict(duringMax < 250)})`,
    );
    if (result.sessions !== SESSIONS)
      throw new Error(`expected ${SESSIONS} sessions purged, got ${result.sessions}`);
  } finally {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
}

// Last: the classes and constants above are defined by now (they are not hoisted).
if (isMainThread) {
  await main();
} else {
  await writer(workerData);
}
