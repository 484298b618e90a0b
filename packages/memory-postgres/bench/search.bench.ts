/**
 * `pnpm bench` (second part), issue 8's measures on 1M messages in 10k sessions: `searchMessages` for a
 * selective and a common word, `where.metadata` with and without its GIN index, cursor paging against offset
 * paging through the 10k sessions. Side by side with raw pg (the same SQL, named prepared statements on a pool
 * of the same size) where there is a raw equivalent. On MEMORY_TEST_POSTGRES_URL or a throwaway embedded
 * server, in a database made for the run and dropped after.
 */
import { migrateToLatest } from '@flux-rag/memory-core/sql';
import { createTestDatabase, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import { Kysely } from 'kysely';
import pg from 'pg';
import { Bench } from 'tinybench';
import { PostgresConversationMemory, postgresMigrations, SchemaScopedPostgresDialect } from '../src/index.js';

/** Each group of tasks runs this many rounds, alternating, and the medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Time per task per round. */
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);
const SESSIONS = 10_000;
const MESSAGES_PER_SESSION = 100;
const PAGE = 50;
const SCHEMA = 'search_bench';

interface Row {
  operation: string;
  store: number;
  /** Raw pg's latency, or the figure the row compares with (named in `against`). */
  other?: number;
  against?: string;
}

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_' });
console.log(
  `PostgreSQL ${server.serverVersion} (${server.source}); ${ROUNDS} alternating rounds of ${TIME_MS} ms per task\n`,
);
const rows: Row[] = [];
const raw = new pg.Pool({ connectionString: database.url, max: 10 });
raw.on('error', () => {});
let store: PostgresConversationMemory | undefined;

try {
  await generate();
  const started = performance.now();
  store = new PostgresConversationMemory({ connectionString: database.url, schema: SCHEMA });
  await store.init();
  console.log(
    `upgrade to schema version 4 (search, metadata and keyset indexes built for the existing rows): ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  await withClient(database.url, async (client) => {
    await client.query(`VACUUM ANALYZE "${SCHEMA}".sessions`);
    await client.query(`VACUUM ANALYZE "${SCHEMA}".messages`);
  });
  await benchSearch(store);
  await benchFilter(store);
  await benchPaging(store);
  printTable();
} finally {
  await store?.close();
  await raw.end();
  await database.drop();
  await server.stop();
}

/**
 * 10k sessions of 100 messages at schema version 3, then the store upgrades them: messages are 14 words of a
 * 180-word vocabulary (each word in about 7% of messages), plus `hello` in every tenth message (the common
 * word, 100k messages), `quasar` in every 10,000th (the selective one, 100 messages) and a Japanese sentence
 * in every 1,000th. Session metadata: `userId` (1,000 users, 10 sessions each), `team`, `tags`.
 */
async function generate() {
  const started = performance.now();
  const dialectPool = new pg.Pool({ connectionString: database.url, max: 1 });
  const db = new Kysely({ dialect: new SchemaScopedPostgresDialect({ pool: dialectPool }, SCHEMA) });
  await withClient(database.url, (client) => client.query(`CREATE SCHEMA "${SCHEMA}"`));
  const { '0004_search_and_filters': _, ...version3 } = postgresMigrations(SCHEMA);
  await migrateToLatest(db, version3, { migrationTableSchema: SCHEMA, location: 'bench' });
  await db.destroy();
  const t = (table: string) => `"${SCHEMA}".${table}`;
  await withClient(database.url, async (client) => {
    await client.query(`
      INSERT INTO ${t('sessions')} (id, title, created_at, updated_at, metadata, message_count, last_message_at)
      SELECT 's' || lpad(i::text, 5, '0'), 'Session ' || i,
             timestamptz '2025-01-01' + make_interval(secs => i * 100),
             timestamptz '2025-01-01' + make_interval(secs => i * 100 + 99),
             jsonb_build_object('userId', 'u' || (i % 1000), 'team', 't' || (i % 7),
                                'tags', jsonb_build_array('chat', 'v' || (i % 10))),
             ${MESSAGES_PER_SESSION}, timestamptz '2025-01-01' + make_interval(secs => i * 100 + 99)
      FROM generate_series(1, ${SESSIONS}) AS i`);
    await client.query(`
      CREATE TEMPORARY TABLE words AS
      SELECT w, n::int FROM unnest(string_to_array('time person year way day thing man world life hand part
        child eye woman place work week case point government company number group problem fact be have do say
        get make go know take see come think look want give use find tell ask seem feel try leave call good new
        first last long great little own other old right big high different small large next early young
        important few public bad same able to of in for on with at by from up about into over after the and a
        that it not he as you this but his they her she or an will my one all would there their what so if who
        which me when can like no just him people your some could them than then now only its also back two
        how our well even want because any these most us password reset lisbon weather sunny degrees pack
        sunscreen tomorrow settings security admin console invoice refund order shipping account login error
        timeout deploy build release server database query index table column backup restore upgrade', ' '))
        WITH ORDINALITY AS v(w, n)`);
    const vocabulary = Number((await client.query('SELECT count(*) AS n FROM words')).rows[0].n);
    await client.query(`
      INSERT INTO ${t('messages')} (id, session_id, role, content, created_at, metadata)
      SELECT 'm' || lpad(g.i::text, 7, '0'), 's' || lpad((1 + (g.i - 1) / ${MESSAGES_PER_SESSION})::text, 5, '0'),
             CASE WHEN g.i % 2 = 0 THEN 'assistant' ELSE 'user' END,
             (SELECT string_agg(w.w, ' ' ORDER BY k) FROM generate_series(1, 14) AS k
                JOIN words AS w ON w.n = 1 + ((hashint4(g.i * 31 + k) & 2147483647) % ${vocabulary}))
               || CASE WHEN g.i % 10 = 0 THEN ' hello' ELSE '' END
               || CASE WHEN g.i % 10000 = 5000 THEN ' quasar' ELSE '' END
               || CASE WHEN g.i % 1000 = 500 THEN ' 東京の天気は晴れです' ELSE '' END,
             timestamptz '2025-01-01' + make_interval(secs => g.i), '{}'
      FROM generate_series(1, ${SESSIONS * MESSAGES_PER_SESSION}) AS g(i)`);
  });
  console.log(
    `generated ${SESSIONS.toLocaleString('en-US')} sessions and ` +
      `${(SESSIONS * MESSAGES_PER_SESSION).toLocaleString('en-US')} messages in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * Runs the tasks for TIME_MS (and at least `iterations` times) per round, ROUNDS rounds, alternating within
 * each round, and returns the median over rounds of each task's median latency, in ms.
 */
async function medians(tasks: Record<string, () => Promise<unknown>>, iterations: number) {
  const samples = new Map<string, number[]>(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME_MS, iterations, warmupIterations: round === 0 ? 2 : 1 });
    for (const [name, task] of Object.entries(tasks)) bench.add(name, task);
    await bench.run();
    for (const name of Object.keys(tasks)) {
      const result = bench.getTask(name)?.result;
      if (!result || !('latency' in result)) throw new Error(`benchmark task ${name} did not complete`);
      samples.get(name)!.push(result.latency.p50);
    }
  }
  return (name: string) => {
    const sorted = [...samples.get(name)!].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
}

/** Raw pg's version of the store's search: the same statement shape, hand-written, prepared. */
function rawSearch(word: string, limit: number) {
  const fn = (name: string) => `"${SCHEMA}".${name}`;
  const query = `plainto_tsquery(${fn('search_config')}(), $1)`;
  return raw.query({
    name: 'raw_search',
    text: `SELECT hits.*, ts_headline(${fn('search_config')}(), left(hits.content, 100000), ${query},
             'StartSel=<mark>, StopSel=</mark>, MaxFragments=1, MaxWords=30, MinWords=15, ShortWord=0') AS headline
           FROM (
             SELECT m.*, ts_rank_cd(${fn('message_search_vector')}(m.content), ${query})::float8 AS score
             FROM ${fn('messages')} AS m
             WHERE ${fn('message_search_vector')}(m.content) @@ ${query}
             ORDER BY score DESC, m.created_at DESC, m.seq DESC LIMIT $2
           ) AS hits ORDER BY hits.score DESC, hits.created_at DESC, hits.seq DESC`,
    values: [word, limit],
  });
}

async function benchSearch(memory: PostgresConversationMemory) {
  const counts = await withClient(database.url, async (client) => {
    const count = async (word: string) =>
      Number(
        (
          await client.query(
            `SELECT count(*) AS n FROM "${SCHEMA}".messages
             WHERE "${SCHEMA}".message_search_vector(content) @@ plainto_tsquery("${SCHEMA}".search_config(), $1)`,
            [word],
          )
        ).rows[0].n,
      );
    return { quasar: await count('quasar'), hello: await count('hello') };
  });
  const fast = await medians(
    {
      'store selective': () => memory.searchMessages('quasar'),
      'raw selective': () => rawSearch('quasar', 21),
      'store selective in one session': () => memory.searchMessages('hello', { sessionId: 's05000' }),
    },
    20,
  );
  const slow = await medians(
    {
      'store common': () => memory.searchMessages('hello'),
      'raw common': () => rawSearch('hello', 21),
      'store japanese': () => memory.searchMessages('天気'),
    },
    2,
  );
  rows.push(
    {
      operation: `searchMessages, selective word (${counts.quasar} of 1M messages)`,
      store: fast('store selective'),
      other: fast('raw selective'),
      against: 'raw pg',
    },
    {
      operation: `searchMessages, common word (${counts.hello.toLocaleString('en-US')} of 1M messages)`,
      store: slow('store common'),
      other: slow('raw common'),
      against: 'raw pg',
    },
    {
      operation: 'searchMessages, common word in one session (sessionId)',
      store: fast('store selective in one session'),
    },
    {
      operation: 'searchMessages, Japanese substring (1,000 of 1M messages, no index: scan)',
      store: slow('store japanese'),
    },
  );
}

async function benchFilter(memory: PostgresConversationMemory) {
  const where = { metadata: { userId: 'u42' } };
  const rawFilter = () =>
    raw.query({
      name: 'raw_filter',
      text: `SELECT * FROM "${SCHEMA}".sessions WHERE metadata @> $1::jsonb
             ORDER BY updated_at DESC, id DESC LIMIT $2 OFFSET $3`,
      values: [JSON.stringify(where.metadata), PAGE, 0],
    });
  const indexed = await medians(
    { 'store filter': () => memory.getSessions({ where, limit: PAGE }), 'raw filter': rawFilter },
    20,
  );
  const plan = await explain(
    `SELECT * FROM "${SCHEMA}".sessions WHERE metadata @> '{"userId":"u42"}' ORDER BY updated_at DESC, id DESC LIMIT 50`,
  );
  // The same statements once the index is gone: PostgreSQL reads every session.
  await withClient(database.url, (client) => client.query(`DROP INDEX "${SCHEMA}".idx_sessions_metadata`));
  const unindexed = await medians(
    { 'store filter': () => memory.getSessions({ where, limit: PAGE }), 'raw filter': rawFilter },
    20,
  );
  await withClient(database.url, (client) =>
    client.query(
      `CREATE INDEX idx_sessions_metadata ON "${SCHEMA}".sessions USING gin (metadata jsonb_path_ops)`,
    ),
  );
  console.log(`where.metadata {userId: 'u42'} (10 of 10k sessions) with the index: ${plan}`);
  rows.push(
    {
      operation: 'getSessions where.metadata (10 of 10k sessions), GIN index',
      store: indexed('store filter'),
      other: indexed('raw filter'),
      against: 'raw pg',
    },
    {
      operation: 'getSessions where.metadata (10 of 10k sessions), index dropped',
      store: unindexed('store filter'),
      other: unindexed('raw filter'),
      against: 'raw pg',
    },
  );
}

async function explain(text: string): Promise<string> {
  return withClient(database.url, async (client) => {
    const { rows: lines } = await client.query(`EXPLAIN ${text}`);
    return lines
      .map((line) => String(line['QUERY PLAN']).trim())
      .filter((line) => /Scan/.test(line))
      .join('; ');
  });
}

async function benchPaging(memory: PostgresConversationMemory) {
  // Cursors of the first and of the last page, found by walking once.
  const cursors: Array<string | null> = [null];
  for (;;) {
    const page = await memory.getSessionsPage({ limit: PAGE, cursor: cursors.at(-1) ?? null });
    if (page.nextCursor === null) break;
    cursors.push(page.nextCursor);
  }
  const pages = cursors.length;
  const lastOffset = (pages - 1) * PAGE;
  const walk = async (next: (page: number) => Promise<unknown>) => {
    for (let page = 0; page < pages; page++) await next(page);
  };
  const ends = await medians(
    {
      'cursor first': () => memory.getSessionsPage({ limit: PAGE }),
      'cursor last': () => memory.getSessionsPage({ limit: PAGE, cursor: cursors.at(-1) ?? null }),
      'offset first': () => memory.getSessions({ limit: PAGE, offset: 0 }),
      'offset last': () => memory.getSessions({ limit: PAGE, offset: lastOffset }),
    },
    20,
  );
  const walks = await medians(
    {
      'cursor walk': () =>
        walk((page) => memory.getSessionsPage({ limit: PAGE, cursor: cursors[page] ?? null })),
      'offset walk': () => walk((page) => memory.getSessions({ limit: PAGE, offset: page * PAGE })),
    },
    2,
  );
  rows.push(
    { operation: `getSessionsPage (cursor), first page of ${PAGE}`, store: ends('cursor first') },
    {
      operation: `getSessionsPage (cursor), last page (${pages} pages, 10k sessions)`,
      store: ends('cursor last'),
      other: ends('cursor first'),
      against: 'first page',
    },
    { operation: `getSessions (offset 0), first page of ${PAGE}`, store: ends('offset first') },
    {
      operation: `getSessions (offset ${lastOffset.toLocaleString('en-US')}), last page`,
      store: ends('offset last'),
      other: ends('offset first'),
      against: 'first page',
    },
    {
      operation: `all ${pages} pages by cursor, per page`,
      store: walks('cursor walk') / pages,
    },
    {
      operation: `all ${pages} pages by offset, per page`,
      store: walks('offset walk') / pages,
      other: walks('cursor walk') / pages,
      against: 'cursor',
    },
  );
}

function printTable() {
  console.table(
    rows.map((r) => ({
      operation: r.operation,
      'store ms p50': r.store.toFixed(3),
      'compared with': r.against ?? '',
      'its ms p50': r.other === undefined ? '' : r.other.toFixed(3),
      ratio: r.other === undefined ? '' : `${(r.store / r.other).toFixed(2)}x`,
    })),
  );
}
