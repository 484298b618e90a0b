// A port of the original migrate_sqlite_to_postgres.py: read everything, create the tables (through the
// backend), insert in batches of 100, one INSERT ... ON CONFLICT DO NOTHING per row, then compare counts.
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const schema = process.env.BENCH_SCHEMA;
const store = new PostgresConversationMemory({ connectionString: process.env.BENCH_URL, schema });
await store.init();
await store.close();
const source = new BetterSqlite3(process.env.BENCH_FILE, { readonly: true });
const client = new pg.Client({ connectionString: process.env.BENCH_URL });
await client.connect();
const t = (name) => `"${schema}".${name}`;
async function copy(select, insert, toValues) {
  let batch = [];
  const flush = async () => {
    await client.query('BEGIN');
    for (const row of batch) await client.query(insert, toValues(row));
    await client.query('COMMIT');
    batch = [];
  };
  for (const row of source.prepare(select).iterate()) {
    batch.push(row);
    if (batch.length === 100) await flush();
  }
  if (batch.length > 0) await flush();
}
const ts = (v) => (v ? `${v}Z` : null);
await copy(
  'SELECT * FROM sessions',
  `INSERT INTO ${t('sessions')} (id, title, created_at, updated_at, metadata) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
  (r) => [r.id, r.title, ts(r.created_at), ts(r.updated_at), r.metadata || '{}'],
);
await copy(
  'SELECT * FROM messages',
  `INSERT INTO ${t('messages')} (id, session_id, role, content, created_at, metadata) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
  (r) => [r.id, r.session_id, r.role, r.content, ts(r.created_at), r.metadata || '{}'],
);
const counts = await client.query(`SELECT (SELECT count(*) FROM ${t('messages')}) AS m`);
await client.end();
const usage = process.resourceUsage();
const cpu = `${((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(1)} s`;
console.log(JSON.stringify({ rssMb: usage.maxRSS >> 10, cpu, note: `(${counts.rows[0].m} messages)` }));
