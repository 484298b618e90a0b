/**
 * `pnpm bench`: purgeSessions on PostgreSQL over many idle sessions while another client keeps writing (issue
 * 15's retention targets), on MEMORY_TEST_POSTGRES_URL or a throwaway embedded server, in a database made for
 * the run and dropped after:
 * - no purge transaction holds its locks for more than 100 ms: each batch's transaction is timed from inside it
 *   (after BEGIN) to the end of its COMMIT, by wrapping the store's writeTransaction (the SQL layer's entry point
 *   of every write; no public API is added for it);
 * - concurrent addMessage calls on a live session, from a second store with its own pool, keep their median
 *   within 2x of the median without a purge and their maximum under 250 ms.
 * The idle sessions (a few messages each, counts and times filled in as the store keeps them) are written by
 * INSERT ... SELECT generate_series. Environment: BENCH_SESSIONS (default 100000), BENCH_MESSAGES_PER (default 3),
 * BENCH_BATCH (default the store's), BENCH_BASELINE_MS (default 3000).
 */

import type { Database } from '@flux-rag/memory-core/sql';
import { createTestDatabase, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import type { Transaction } from 'kysely';
import { PostgresConversationMemory } from '../src/index.js';
import { median } from './alternate.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
const PER = Number(process.env.BENCH_MESSAGES_PER ?? 3);
const BATCH = process.env.BENCH_BATCH === undefined ? undefined : Number(process.env.BENCH_BATCH);
const BASELINE_MS = Number(process.env.BENCH_BASELINE_MS ?? 3000);
const SCHEMA = 'purge';

/** The store with each write transaction timed, from inside it to the end of its commit. */
class TimedStore extends PostgresConversationMemory {
  readonly holds: number[] = [];
  protected override writeTransaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    let held = 0;
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

/** addMessage in a loop on `sessionId` until `stop()`; resolves to every latency in ms. */
function writeLoop(store: PostgresConversationMemory, sessionId: string) {
  let stopped = false;
  const latencies: number[] = [];
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const started = performance.now();
      await store.addMessage(sessionId, { role: 'user', content: `live message ${i}`, metadata: { i } });
      latencies.push(performance.now() - started);
    }
    return latencies;
  })();
  return () => {
    stopped = true;
    return done;
  };
}

const max = (xs: readonly number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_purge_' });
const store = new TimedStore({ connectionString: database.url, schema: SCHEMA });
const writer = new PostgresConversationMemory({ connectionString: database.url, schema: SCHEMA });
try {
  await store.init();
  await writer.init();
  const live = await writer.createSession({ title: 'live' });
  let started = performance.now();
  await withClient(database.url, async (client) => {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "${SCHEMA}".sessions (id, title, created_at, updated_at, metadata, message_count, last_message_at)
       SELECT 'idle-' || lpad(i::text, 8, '0'), 'idle ' || i, timestamptz '2020-01-01', timestamptz '2020-01-01',
              '{}', $2, timestamptz '2020-01-01'
       FROM generate_series(1, $1::int) AS i`,
      [SESSIONS, PER],
    );
    await client.query(
      `INSERT INTO "${SCHEMA}".messages (id, session_id, role, content, created_at, metadata)
       SELECT 'm' || i, 'idle-' || lpad((1 + i / $2)::text, 8, '0'),
              CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
              'an old message about retrieval and ranking, number ' || i, timestamptz '2020-01-01', '{}'
       FROM generate_series(0, $1::int - 1) AS i`,
      [SESSIONS * PER, PER],
    );
    await client.query('COMMIT');
    await client.query(`VACUUM ANALYZE "${SCHEMA}".sessions`);
    await client.query(`VACUUM ANALYZE "${SCHEMA}".messages`);
  });
  console.log(
    `PostgreSQL ${server.serverVersion} (${server.source}) purge bench: ${SESSIONS.toLocaleString('en')} idle sessions x ${PER} messages written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  let stop = writeLoop(writer, live);
  await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
  const baseline = await stop();

  stop = writeLoop(writer, live);
  started = performance.now();
  const result = await store.purgeSessions({
    inactiveBefore: new Date('2021-01-01T00:00:00Z'),
    ...(BATCH === undefined ? {} : { batchSize: BATCH }),
  });
  const purgeMs = performance.now() - started;
  const during = await stop();
  const { holds } = store;

  const holdMax = max(holds);
  const medianRatio = median(during) / median(baseline);
  const duringMax = max(during);
  console.log(
    `purgeSessions: ${result.sessions.toLocaleString('en')} sessions, ${result.messages.toLocaleString('en')} messages, ${result.unreadable} unreadable in ${(purgeMs / 1000).toFixed(2)} s, ${holds.length} transactions`,
  );
  console.log(
    `  transaction time: median ${median(holds).toFixed(1)} ms, max ${holdMax.toFixed(1)} ms (target <= 100 ms: ${verdict(holdMax <= 100)})`,
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
  await Promise.allSettled([store.close(), writer.close()]);
  await database.drop();
  await server.stop();
}
