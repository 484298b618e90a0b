/**
 * `pnpm bench`: PostgresConversationMemory side by side with raw pg (named prepared statements on one pool of
 * the same size) in one run, on MEMORY_TEST_POSTGRES_URL or a throwaway embedded server, in a database made
 * for the run and dropped after. Prints a table with the ratios. Environment: BENCH_ROUNDS, BENCH_TIME_MS (the
 * write tasks' rounds), BENCH_CALLS (the hot reads' calls per task), BENCH_MESSAGES (the larger read store, default
 * 1M), BENCH_READS_ONLY=1.
 */
import { randomUUID } from 'node:crypto';
import { createTestDatabase, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import pg from 'pg';
import { PostgresConversationMemory } from '../src/index.js';
import { alternate } from './alternate.js';
import { medians, ROUNDS, type Row, TIME_MS } from './bench-rounds.js';
import { rawTransaction } from './raw-transaction.js';

const CONCURRENCY = 16;
/** Calls per task of the hot reads (BENCH_CALLS), the store and raw pg taking turns call by call. */
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
/** Messages in the larger read store (BENCH_MESSAGES; default 1M); the smaller holds 10k. */
const LARGE = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const labelOf = (messages: number) =>
  messages >= 1_000_000 ? `${messages / 1_000_000}M` : `${messages / 1000}k`;

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_' });
console.log(
  `PostgreSQL ${server.serverVersion} (${server.source}); ${ROUNDS} alternating rounds of ${TIME_MS} ms per task\n`,
);
const rows: Row[] = [];
const stores: PostgresConversationMemory[] = [];
const raw = new pg.Pool({ connectionString: database.url, max: 10 });
raw.on('error', () => {});

try {
  // BENCH_READS_ONLY=1: the hot reads alone, e.g. with many short rounds on a loaded machine.
  if (process.env.BENCH_READS_ONLY !== '1') {
    const writes = await open('writes');
    await benchWrites(writes, 'writes');
  }
  for (const messages of [10_000, LARGE]) {
    const store = await open(`reads_${messages}`);
    await generate(`reads_${messages}`, messages);
    await benchReads(store, `reads_${messages}`, messages);
  }
  printTable();
} finally {
  await Promise.allSettled(stores.map((store) => store.close()));
  await raw.end();
  await database.drop();
  await server.stop();
}

async function open(schema: string) {
  const store = new PostgresConversationMemory({ connectionString: database.url, schema });
  stores.push(store);
  await store.init();
  return store;
}

/** The store's addMessage transaction, written by hand: same statements, same round trips, prepared. */
async function rawAddMessage(schema: string, sessionId: string) {
  return rawTransaction(raw, async (client) => {
    const at = new Date().toISOString();
    const updated = await client.query({
      name: `touch_${schema}`,
      text: `UPDATE "${schema}".sessions SET updated_at = $2, last_message_at = $2,
             message_count = message_count + 1 WHERE id = $1`,
      values: [sessionId, at],
    });
    if (updated.rowCount !== 1) throw new Error('session not found');
    await client.query({
      name: `add_${schema}`,
      text: `INSERT INTO "${schema}".messages (id, session_id, role, content, created_at, metadata)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, id) DO NOTHING`,
      values: [randomUUID(), sessionId, 'user', 'How do I rotate the API keys?', at, '{}'],
    });
  });
}

async function benchWrites(store: PostgresConversationMemory, schema: string) {
  // One session per caller: the store serialises writes to one session, so 16 callers on 16 sessions measure
  // the pool and the server, not that queue.
  const storeSessions = await Promise.all(Array.from({ length: CONCURRENCY }, () => store.createSession()));
  const rawSessions = await Promise.all(Array.from({ length: CONCURRENCY }, () => store.createSession()));
  const message = { role: 'user', content: 'How do I rotate the API keys?' };
  const tasks: Record<string, () => Promise<unknown>> = {
    'store addMessage x1': () => store.addMessage(storeSessions[0]!, message),
    'raw addMessage x1': () => rawAddMessage(schema, rawSessions[0]!),
    [`store addMessage x${CONCURRENCY}`]: () =>
      Promise.all(storeSessions.map((id) => store.addMessage(id, message))),
    [`raw addMessage x${CONCURRENCY}`]: () => Promise.all(rawSessions.map((id) => rawAddMessage(schema, id))),
  };
  const mean = await medians(tasks, 'mean');
  for (const callers of [1, CONCURRENCY]) {
    const storeRate = (1000 * callers) / mean(`store addMessage x${callers}`);
    const rawRate = (1000 * callers) / mean(`raw addMessage x${callers}`);
    rows.push({
      operation: `addMessage, ${callers} concurrent caller${callers > 1 ? 's' : ''}`,
      unit: 'ops/s',
      store: storeRate,
      raw: rawRate,
      ratio: rawRate / storeRate,
    });
  }
}

/**
 * `messages` messages in sessions of 10 (so 1,000 or 100,000 sessions), timestamps one second apart, counts
 * and last-message times filled in as the store keeps them; written by INSERT ... SELECT generate_series.
 */
async function generate(schema: string, messages: number) {
  const started = performance.now();
  const sessions = messages / 10;
  await withClient(database.url, async (client) => {
    await client.query(`
      INSERT INTO "${schema}".sessions (id, title, created_at, updated_at, metadata, message_count, last_message_at)
      SELECT 's' || lpad(i::text, 8, '0'), 'Session ' || i,
             timestamptz '2025-01-01' + make_interval(secs => i * 10),
             timestamptz '2025-01-01' + make_interval(secs => i * 10 + 9), '{}', 10,
             timestamptz '2025-01-01' + make_interval(secs => i * 10 + 9)
      FROM generate_series(1, ${sessions}) AS i`);
    await client.query(`
      INSERT INTO "${schema}".messages (id, session_id, role, content, created_at, metadata)
      SELECT 'm' || lpad(i::text, 9, '0'), 's' || lpad((1 + (i - 1) / 10)::text, 8, '0'),
             CASE WHEN i % 2 = 0 THEN 'assistant' ELSE 'user' END,
             'Message number ' || i || ' of the benchmark conversation, long enough to look like a question.',
             timestamptz '2025-01-01' + make_interval(secs => 10 + (i - 1)), '{"tokens":42}'
      FROM generate_series(1, ${messages}) AS i`);
    // One long conversation for getHistory(limit 50) to read the end of.
    await client.query(`
      INSERT INTO "${schema}".sessions (id, created_at, updated_at, message_count) VALUES ('long', now(), now(), 1000);
      INSERT INTO "${schema}".messages (id, session_id, role, content, created_at, metadata)
      SELECT 'l' || i, 'long', 'user', 'Turn ' || i, now() + make_interval(secs => i), '{}'
      FROM generate_series(1, 1000) AS i`);
    // Separate statements: VACUUM refuses to run in the implicit transaction of a multi-statement query.
    await client.query(`VACUUM ANALYZE "${schema}".sessions`);
    await client.query(`VACUUM ANALYZE "${schema}".messages`);
  });
  console.log(
    `generated ${messages.toLocaleString('en-US')} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function benchReads(store: PostgresConversationMemory, schema: string, messages: number) {
  const label = labelOf(messages);
  const tasks: Record<string, () => Promise<unknown>> = {
    'store getSessions': () => store.getSessions({ limit: 50 }),
    'raw getSessions': () =>
      raw.query({
        name: `sessions_${schema}`,
        text: `SELECT * FROM "${schema}".sessions ORDER BY updated_at DESC, id DESC LIMIT $1 OFFSET $2`,
        values: [50, 0],
      }),
    'store getSessionsPage': () => store.getSessionsPage({ limit: 50 }),
    'raw getSessionsPage': async () => {
      const result = await raw.query({
        name: `sessions_page_${schema}`,
        text: `SELECT * FROM "${schema}".sessions ORDER BY created_at DESC, id DESC LIMIT $1`,
        values: [51],
      });
      return result.rows.slice(0, 50);
    },
    'store getHistory': () => store.getHistory('long', { limit: 50 }),
    'raw getHistory': async () => {
      const result = await raw.query({
        name: `history_${schema}`,
        text: `SELECT * FROM "${schema}".messages WHERE session_id = $1
               ORDER BY created_at DESC, seq DESC LIMIT $2`,
        values: ['long', 50],
      });
      return result.rows.reverse();
    },
  };
  // Call by call, not in time-boxed rounds: see `alternate`. Warmed up first (JIT, plan caches, buffers).
  await alternate(200, tasks);
  const t = await alternate(CALLS, tasks);
  const p50 = (name: string) => t[name]!;
  const row = (operation: string, name: string) => {
    const store = p50(`store ${name}`);
    const rawP50 = p50(`raw ${name}`);
    rows.push({ operation, unit: 'ms p50', store, raw: rawP50, ratio: store / rawP50 });
  };
  row(`getSessions(limit 50), ${label} messages`, 'getSessions');
  row(`getSessionsPage(limit 50), ${label} messages`, 'getSessionsPage');
  row(`getHistory(limit 50) of 1,000 messages, ${label} messages in all`, 'getHistory');
}

function printTable() {
  const format = (value: number, unit: string) =>
    unit === 'ops/s' ? Math.round(value).toLocaleString('en-US') : value.toFixed(3);
  const table = rows.map((r) => ({
    operation: r.operation,
    unit: r.unit,
    store: format(r.store, r.unit),
    'raw pg': format(r.raw, r.unit),
    'store cost (x raw)': r.ratio.toFixed(2),
  }));
  console.table(table);
  const at = (needle: string) => rows.find((r) => r.operation.includes(needle))!;
  const large = labelOf(LARGE);
  const growth = at(`getSessions(limit 50), ${large}`).store / at('getSessions(limit 50), 10k').store;
  console.log(
    `getSessions(limit 50) at ${large} messages / at 10k: ${growth.toFixed(2)}x (target: within 2x)`,
  );
  console.log(
    'targets: addMessage within 1.5x of raw pg; getHistory, getSessions, getSessionsPage within 1.1x',
  );
}
