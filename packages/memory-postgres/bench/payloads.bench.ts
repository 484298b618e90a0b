/**
 * `pnpm bench`: the hot reads and addMessage with structured messages (payload and format present, contract 1.1)
 * on PostgreSQL against raw pg (named prepared statements on a pool of the same size), in one run, the two
 * sides alternating call by call, on MEMORY_TEST_POSTGRES_URL or a throwaway embedded server (issue 15: reads and
 * addMessage keep the ratios postgres.bench.ts measures without payloads: getHistory within 1.1x, addMessage
 * within 1.5x). The raw side decodes what the store decodes (payload JSON text parsed; metadata comes parsed
 * from JSONB) and writes what the store writes (payload text, format, the digest by the contract's formula,
 * without validation). Environment: BENCH_SESSIONS (default 1000), BENCH_PER (default 100), BENCH_ITERATIONS
 * (default 1000), BENCH_PAYLOADS=0 (the same messages without payload and format, to compare the ratios).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { NewMessage } from '@flux-rag/memory-core';
import { createTestDatabase, startTestPostgres, withClient } from '@flux-rag/test-postgres';
import pg from 'pg';
import { PostgresConversationMemory } from '../src/index.js';
import { alternate } from './alternate.js';
import { rawTransaction } from './raw-transaction.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const PER = Number(process.env.BENCH_PER ?? 100);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1000);
const PAYLOADS = process.env.BENCH_PAYLOADS !== '0';
const SCHEMA = 'payloads';

const server = await startTestPostgres();
const database = await createTestDatabase(server.url, { prefix: 'bench_payloads_' });
const store = new PostgresConversationMemory({ connectionString: database.url, schema: SCHEMA });
const raw = new pg.Pool({ connectionString: database.url, max: 10 });
raw.on('error', () => {});
try {
  await store.init();
  let started = performance.now();
  await withClient(database.url, async (client) => {
    await client.query(
      `INSERT INTO "${SCHEMA}".sessions (id, title, created_at, updated_at, metadata, message_count, last_message_at)
       SELECT 's' || lpad(i::text, 6, '0'), 'Session ' || i, timestamptz '2025-01-01', timestamptz '2025-01-02', '{}',
              $2, timestamptz '2025-01-02'
       FROM generate_series(1, $1::int) AS i`,
      [SESSIONS, PER],
    );
    // Messages in time order across sessions, as a busy service writes them.
    await client.query(
      `INSERT INTO "${SCHEMA}".messages (id, session_id, role, content, created_at, metadata, payload, format)
       SELECT 'm' || lpad(i::text, 8, '0'), 's' || lpad((1 + i % $2)::text, 6, '0'),
              CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
              'How does the retrieval step rank chunk ' || i || '?',
              timestamptz '2025-01-01' + make_interval(secs => i), '{"tokens":42}',
              CASE WHEN $3 THEN json_build_object('id', 'msg-' || i, 'role', 'assistant', 'parts', json_build_array(
                json_build_object('type', 'text', 'text', 'The retrieval step ranks chunk ' || i || ' by cosine similarity.'),
                json_build_object('type', 'tool-search', 'toolCallId', 'call-' || i, 'state', 'output-available',
                  'input', json_build_object('query', 'ranking ' || i),
                  'output', json_build_object('hits', i % 7, 'source', 'doc.pdf'))))::text END,
              CASE WHEN $3 THEN 'ai-sdk/ui-message' END
       FROM generate_series(0, $1::int - 1) AS i`,
      [SESSIONS * PER, SESSIONS, PAYLOADS],
    );
    await client.query(`VACUUM ANALYZE "${SCHEMA}".sessions`);
    await client.query(`VACUUM ANALYZE "${SCHEMA}".messages`);
  });
  console.log(
    `PostgreSQL ${server.serverVersion} (${server.source}) payloads bench: ${SESSIONS.toLocaleString('en')} sessions x ${PER} messages ${PAYLOADS ? 'with' : 'without'} payloads, written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const session = (i: number) => `s${String(1 + ((i * 7919) % SESSIONS)).padStart(6, '0')}`;
  const message: NewMessage = {
    role: 'assistant',
    content: 'The retrieval step ranks the chunks by cosine similarity.',
    metadata: { tokens: 42 },
    ...(PAYLOADS && {
      payload: {
        id: 'msg-new',
        role: 'assistant',
        parts: [
          { type: 'text', text: 'The retrieval step ranks the chunks by cosine similarity.' },
          {
            type: 'tool-search',
            toolCallId: 'call-1',
            state: 'output-available',
            input: { query: 'ranking' },
            output: { hits: 3 },
          },
        ],
      },
      format: 'ai-sdk/ui-message',
    }),
  };
  started = performance.now();
  // Reads first, on the data as generated; then the writes.
  const t = {
    ...(await alternate(ITERATIONS, {
      storeHistory: (i) => store.getHistory(session(i), { limit: 50 }),
      rawHistory: (i) => rawHistory(session(i), 50),
    })),
    ...(await alternate(ITERATIONS, {
      storeAdd: (i) => store.addMessage(session(i), message),
      rawAdd: (i) => rawAdd(session(i + 1), message),
    })),
  };
  const kind = PAYLOADS ? 'with payloads' : 'without payloads';
  const line = (what: string, storeMs: number, rawMs: number, target: number) => {
    const ratio = storeMs / rawMs;
    console.log(
      `${what.padEnd(36)} store ${storeMs.toFixed(3)} ms  raw ${rawMs.toFixed(3)} ms  x${ratio.toFixed(2)} (target <= ${target}: ${ratio <= target ? 'ok' : 'MISSED'})`,
    );
  };
  console.log(
    `${ITERATIONS} alternating iterations per task in ${((performance.now() - started) / 1000).toFixed(1)} s, medians`,
  );
  line(`getHistory(limit 50), ${kind}`, t.storeHistory, t.rawHistory, 1.1);
  line(`addMessage, ${kind}`, t.storeAdd, t.rawAdd, 1.5);
} finally {
  await store.close();
  await raw.end();
  await database.drop();
  await server.stop();
}

/** The store's history read on a prepared statement, decoded the same way. */
async function rawHistory(sessionId: string, limit: number) {
  const { rows } = await raw.query({
    name: 'history',
    text: `SELECT * FROM "${SCHEMA}".messages WHERE session_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`,
    values: [sessionId, limit],
  });
  return rows.reverse().map((row) => ({
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: row.content,
    createdAt: row.created_at,
    metadata: row.metadata,
    payload: row.payload === null ? null : JSON.parse(row.payload),
    format: row.format,
  }));
}

/** The store's addMessage transaction on prepared statements. */
async function rawAdd(sessionId: string, m: NewMessage) {
  const payload = m.payload === undefined ? null : JSON.stringify(m.payload);
  const format = m.format ?? null;
  const digest = createHash('sha256')
    .update(`${JSON.stringify([m.role, m.content, m.metadata, format]).slice(0, -1)},${payload ?? 'null'}]`)
    .digest('hex');
  return rawTransaction(raw, async (client) => {
    const at = new Date();
    const updated = await client.query({
      name: 'touch',
      text: `UPDATE "${SCHEMA}".sessions SET updated_at = $2, last_message_at = $2,
             message_count = message_count + 1 WHERE id = $1`,
      values: [sessionId, at],
    });
    if (updated.rowCount !== 1) throw new Error('session not found');
    await client.query({
      name: 'add',
      text: `INSERT INTO "${SCHEMA}".messages (id, session_id, role, content, created_at, metadata, payload, format, digest)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (session_id, id) DO NOTHING`,
      values: [
        randomUUID(),
        sessionId,
        m.role,
        m.content,
        at,
        JSON.stringify(m.metadata),
        payload,
        format,
        digest,
      ],
    });
  });
}
