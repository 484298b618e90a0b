/**
 * `pnpm bench:pgbouncer`: the store on its default options through PgBouncer (transaction mode, otherwise its
 * defaults) against raw pg making the same calls through the same pooler (unnamed statements: named ones fail
 * there), then, directly on the server, what unnamed statements cost against named ones, for the store and for
 * raw pg. On MEMORY_TEST_POSTGRES_URL or a throwaway embedded server, in a database made for the run.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { createTestDatabase, startPgBouncer, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import pg from 'pg';
import { PostgresConversationMemory } from '../src/index.js';
import { medians, ROUNDS, type Row, TIME_MS } from './bench-rounds.js';
import { rawTransaction } from './raw-transaction.js';

const CONCURRENCY = 16;
const HISTORY = `SELECT * FROM "bench".messages WHERE session_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`;

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_' });
const bouncer = await startPgBouncer(database.url);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
console.log(
  `PostgreSQL ${server.serverVersion} (${server.source}) behind PgBouncer; ${ROUNDS} alternating rounds of ` +
    `${TIME_MS} ms per task; load ${load()}\n`,
);
const pools: pg.Pool[] = [];
const stores: PostgresConversationMemory[] = [];

try {
  const setup = open(database.url, {});
  await setup.init();
  await seed();
  const rows: Row[] = [];
  // Through the pooler: the store's defaults (auto: unnamed there) against raw pg, unnamed.
  const pooled = open(bouncer.url, {});
  const pooledRaw = rawPool(bouncer.url);
  rows.push(...(await compare('through PgBouncer', pooled, pooledRaw, false)));
  // On the server: what turning named statements off costs, for the store and for raw pg.
  const named = open(database.url, { preparedStatements: true });
  const unnamed = open(database.url, { preparedStatements: false });
  const directRaw = rawPool(database.url);
  rows.push(...(await compare('direct, store unnamed vs store named', unnamed, named, undefined)));
  rows.push(...(await compareRaw('direct, raw unnamed vs raw named', directRaw)));
  console.table(
    rows.map((r) => ({
      operation: r.operation,
      unit: r.unit,
      subject: r.unit === 'ops/s' ? Math.round(r.store) : r.store.toFixed(3),
      baseline: r.unit === 'ops/s' ? Math.round(r.raw) : r.raw.toFixed(3),
      'cost (x baseline)': r.ratio.toFixed(2),
      target: r.target === undefined ? '' : `<= ${r.target}`,
    })),
  );
  console.log(`load after: ${load()}`);
} finally {
  await Promise.allSettled(stores.map((store) => store.close()));
  await Promise.allSettled(pools.map((pool) => pool.end()));
  await bouncer.stop();
  await database.drop();
  await server.stop();
}

function open(url: string, options: { preparedStatements?: boolean }) {
  const store = new PostgresConversationMemory({ connectionString: url, schema: 'bench', ...options });
  stores.push(store);
  return store;
}

function rawPool(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/** One conversation of 1,000 messages (getHistory reads its last 50) among 10,000 in 1,000 sessions. */
async function seed() {
  await withClient(database.url, async (client) => {
    await client.query(`
      INSERT INTO bench.sessions (id, title, created_at, updated_at, metadata, message_count)
      SELECT 's' || i, 'Session ' || i, now(), now(), '{}', 10 FROM generate_series(1, 1000) AS i;
      INSERT INTO bench.messages (id, session_id, role, content, created_at, metadata)
      SELECT 'm' || i, 's' || (1 + (i - 1) / 10), 'user', 'Message ' || i, now(), '{"tokens":42}'
      FROM generate_series(1, 10000) AS i;
      INSERT INTO bench.sessions (id, created_at, updated_at, message_count) VALUES ('long', now(), now(), 1000);
      INSERT INTO bench.messages (id, session_id, role, content, created_at, metadata)
      SELECT 'l' || i, 'long', 'user', 'Turn ' || i, now() + make_interval(secs => i), '{}'
      FROM generate_series(1, 1000) AS i`);
    await client.query('VACUUM ANALYZE bench.sessions');
    await client.query('VACUUM ANALYZE bench.messages');
  });
}

/** The store's addMessage transaction by hand: same statements, same round trips; named or not. */
async function rawAddMessage(pool: pg.Pool, sessionId: string, named: boolean) {
  return rawTransaction(pool, async (client) => {
    const run = (name: string, text: string, values: unknown[]) =>
      client.query(named ? { name, text, values } : { text, values });
    const at = new Date().toISOString();
    const updated = await run(
      'touch',
      `UPDATE bench.sessions SET updated_at = $2, last_message_at = $2, message_count = message_count + 1
       WHERE id = $1`,
      [sessionId, at],
    );
    if (updated.rowCount !== 1) throw new Error('session not found');
    await run(
      'add',
      `INSERT INTO bench.messages (id, session_id, role, content, created_at, metadata)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, id) DO NOTHING`,
      [randomUUID(), sessionId, 'user', 'How do I rotate the API keys?', at, '{}'],
    );
  });
}

async function rawHistory(pool: pg.Pool, named: boolean) {
  const values = ['long', 50];
  const result = await pool.query(
    named ? { name: 'history', text: HISTORY, values } : { text: HISTORY, values },
  );
  return result.rows.reverse();
}

/**
 * getHistory(50) p50 and addMessage throughput of `subject` against `baseline`: a raw pg pool (unnamed when
 * `rawNamed` is false) or another store (`rawNamed` undefined).
 */
async function compare(
  label: string,
  subject: PostgresConversationMemory,
  baseline: PostgresConversationMemory | pg.Pool,
  rawNamed: boolean | undefined,
): Promise<Row[]> {
  const sessions = await Promise.all(Array.from({ length: 2 * CONCURRENCY }, () => subject.createSession()));
  const mine = sessions.slice(0, CONCURRENCY);
  const theirs = sessions.slice(CONCURRENCY);
  const message = { role: 'user', content: 'How do I rotate the API keys?' };
  const isStore = baseline instanceof PostgresConversationMemory;
  const base = {
    history: () => (isStore ? baseline.getHistory('long', { limit: 50 }) : rawHistory(baseline, rawNamed!)),
    add: (id: string) =>
      isStore ? baseline.addMessage(id, message) : rawAddMessage(baseline, id, rawNamed!),
  };
  const p50 = await medians(
    {
      'subject getHistory': () => subject.getHistory('long', { limit: 50 }),
      'baseline getHistory': base.history,
    },
    'p50',
  );
  const mean = await medians(
    {
      'subject add x1': () => subject.addMessage(mine[0]!, message),
      'baseline add x1': () => base.add(theirs[0]!),
      [`subject add x${CONCURRENCY}`]: () => Promise.all(mine.map((id) => subject.addMessage(id, message))),
      [`baseline add x${CONCURRENCY}`]: () => Promise.all(theirs.map((id) => base.add(id))),
    },
    'mean',
  );
  const through = label.startsWith('through');
  const rows: Row[] = [
    {
      operation: `${label}: getHistory(limit 50) of 1,000`,
      unit: 'ms p50',
      store: p50('subject getHistory'),
      raw: p50('baseline getHistory'),
      ratio: p50('subject getHistory') / p50('baseline getHistory'),
      ...(through ? { target: 1.2 } : {}),
    },
  ];
  for (const callers of [1, CONCURRENCY]) {
    const subjectRate = (1000 * callers) / mean(`subject add x${callers}`);
    const baselineRate = (1000 * callers) / mean(`baseline add x${callers}`);
    rows.push({
      operation: `${label}: addMessage, ${callers} concurrent`,
      unit: 'ops/s',
      store: subjectRate,
      raw: baselineRate,
      ratio: baselineRate / subjectRate,
      ...(through ? { target: 1.5 } : {}),
    });
  }
  return rows;
}

/** Raw pg directly on the server: unnamed statements against named ones, getHistory(50) p50. */
async function compareRaw(label: string, pool: pg.Pool): Promise<Row[]> {
  const p50 = await medians(
    { unnamed: () => rawHistory(pool, false), named: () => rawHistory(pool, true) },
    'p50',
  );
  return [
    {
      operation: `${label}: getHistory(limit 50) of 1,000`,
      unit: 'ms p50',
      store: p50('unnamed'),
      raw: p50('named'),
      ratio: p50('unnamed') / p50('named'),
    },
  ];
}
