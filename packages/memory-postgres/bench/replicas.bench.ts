/**
 * `pnpm bench:replicas`: a store reading through a streaming replica, side by side with raw pg making the same
 * reads on the same servers (named prepared statements, pools of the same size), on a primary and replica pair
 * started for the run (`startReplicaPair`). Prints the ratios, the share of reads each server served, how soon
 * a session's reads return to the replica after a write, and what a replica stop and restart does to reads.
 */
import { startReplicaPair } from '@flux-rag/test-postgres';
import pg from 'pg';
import { Bench } from 'tinybench';
import { PostgresConversationMemory } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);
const SCHEMA = 'bench_replicas';

// synchronous_commit on, as in production: a commit is flushed, and sent to the replica, before it returns.
const pair = await startReplicaPair({ settings: { synchronous_commit: 'on' } });
console.log(
  `PostgreSQL ${pair.serverVersion}, replica by ${pair.method}; ${ROUNDS} alternating rounds of ${TIME_MS} ms per task\n`,
);
const store = new PostgresConversationMemory({
  connectionString: pair.primary.url,
  replicas: [pair.replica.url],
  schema: SCHEMA,
  replicaRetryMillis: 200,
});
// The same store without replicas, on the primary: the routing's own cost is the difference of the two ratios.
const direct = new PostgresConversationMemory({ connectionString: pair.primary.url, schema: SCHEMA });
const rawPrimary = new pg.Pool({ connectionString: pair.primary.url, max: 10 });
const rawReplica = new pg.Pool({ connectionString: pair.replica.url, max: 10 });
for (const pool of [rawPrimary, rawReplica]) pool.on('error', () => {});

try {
  await store.init();
  await rawPrimary.query(`
    INSERT INTO ${SCHEMA}.sessions (id, created_at, updated_at, message_count) VALUES ('long', now(), now(), 1000);
    INSERT INTO ${SCHEMA}.messages (id, session_id, role, content, created_at, metadata)
    SELECT 'l' || i, 'long', 'user', 'Turn ' || i || ' of a long conversation', now() + make_interval(secs => i), '{}'
    FROM generate_series(1, 1000) AS i;
    ANALYZE ${SCHEMA}.messages;`);
  await pair.waitForReplay();
  await benchHistory();
  await catchUp();
  await failover();
} finally {
  await store.close();
  await direct.close();
  await rawPrimary.end();
  await rawReplica.end();
  await pair.destroy();
}

/** getHistory(50) through the store against raw pg, each on the server the store's reads went to. */
async function benchHistory() {
  const before = await shares();
  const storeHistory = async () => store.getHistory('long', { limit: 50 });
  // Raw pg reads where the store's reads went: the replica (the share printed below says so).
  const rawOn = (pool: pg.Pool) => () =>
    pool
      .query({
        name: 'history',
        text: `SELECT * FROM ${SCHEMA}.messages WHERE session_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`,
        values: ['long', 50],
      })
      .then((result) => result.rows.reverse());
  // Let the store learn the replica's position before measuring.
  for (let i = 0; i < 50; i++) await storeHistory();
  const tasks = {
    store: storeHistory,
    raw: rawOn(rawReplica),
    direct: () => direct.getHistory('long', { limit: 50 }),
    rawPrimary: rawOn(rawPrimary),
  };
  const samples: Record<keyof typeof tasks, number[]> = { store: [], raw: [], direct: [], rawPrimary: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME_MS, warmupTime: round === 0 ? 300 : 50 });
    for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
    await bench.run();
    for (const name of Object.keys(tasks) as (keyof typeof tasks)[]) {
      const result = bench.getTask(name)?.result;
      if (!result || !('latency' in result)) throw new Error(`benchmark task ${name} did not complete`);
      samples[name].push(result.latency.p50);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const after = await shares();
  const row = (operation: string, store: number[], raw: number[]) => ({
    operation,
    'store ms p50': median(store).toFixed(3),
    'raw pg ms p50': median(raw).toFixed(3),
    'store cost (x raw)': (median(store) / median(raw)).toFixed(2),
  });
  console.table([
    row(
      'getHistory(limit 50) of 1,000, store with a replica / raw on the replica',
      samples.store,
      samples.raw,
    ),
    row(
      'getHistory(limit 50) of 1,000, store without replicas / raw on the primary',
      samples.direct,
      samples.rawPrimary,
    ),
  ]);
  const primary = after.primary - before.primary;
  const replica = after.replica - before.replica;
  console.log(
    `reads served during the benchmark: primary ${primary} (${percent(primary, primary + replica)}), ` +
      `replica ${replica} (${percent(replica, primary + replica)}); target: within 1.2x of raw pg`,
  );
}

/** After a write, how long until that session's reads are back on the replica (replay, then a status check). */
async function catchUp() {
  const sessionId = await store.createSession({ title: 'catch-up' });
  const delays: number[] = [];
  let onPrimary = 0;
  for (let i = 0; i < 20; i++) {
    await store.addMessage(sessionId, { role: 'user', content: `turn ${i}` });
    const written = performance.now();
    for (;;) {
      const before = await shares();
      const history = await store.getHistory(sessionId, { limit: 1 });
      if (history[0]?.content !== `turn ${i}`) throw new Error('stale read of a write of this store');
      const after = await shares();
      if (after.replica > before.replica) break;
      onPrimary++;
    }
    delays.push(performance.now() - written);
  }
  delays.sort((a, b) => a - b);
  console.log(
    `after a write, reads of that session back on the replica after: median ${delays[10]!.toFixed(1)} ms, ` +
      `max ${delays[19]!.toFixed(1)} ms (${onPrimary} reads went to the primary meanwhile, none stale)`,
  );
}

/** Reads in a loop while the replica stops and starts again: failures, and when reads return to it. */
async function failover() {
  let running = true;
  let failures = 0;
  let reads = 0;
  const loops = Array.from({ length: 4 }, async () => {
    while (running) {
      await store.getHistory('long', { limit: 50 }).then(
        () => reads++,
        () => failures++,
      );
    }
  });
  await delay(300);
  const stoppedAt = performance.now();
  await pair.stopReplica();
  const stopped = await shares();
  await delay(1_000);
  const whileDown = await shares();
  await pair.startReplica();
  const restartedAt = performance.now();
  let backAfter = Number.NaN;
  while (performance.now() - restartedAt < 15_000) {
    if ((await shares()).replica > whileDown.replica) {
      backAfter = performance.now() - restartedAt;
      break;
    }
    await delay(10);
  }
  running = false;
  await Promise.all(loops);
  console.log(
    `replica stopped for ${(restartedAt - stoppedAt).toFixed(0)} ms under 4 concurrent readers: ${reads} reads, ` +
      `${failures} failed; reads served by the replica while it was down: ${whileDown.replica - stopped.replica}; ` +
      `back on the replica ${backAfter.toFixed(0)} ms after it started again`,
  );
}

async function shares(): Promise<{ primary: number; replica: number }> {
  const servers = (await store.check()).servers ?? [];
  return { primary: servers[0]?.reads ?? 0, replica: servers[1]?.reads ?? 0 };
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
