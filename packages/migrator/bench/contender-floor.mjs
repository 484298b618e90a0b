// The floor: the same rows as CSV (written beforehand, not timed), `psql \copy` into tables without keys, then
// the same keys and indexes as the backend's schema. Only the psql run is timed.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const schema = process.env.BENCH_SCHEMA;
const csv = (name) => `${process.env.BENCH_FILE}.${name}.csv`;
const quote = (v) => (v === null || v === undefined ? '' : `"${String(v).replaceAll('"', '""')}"`);
async function exportCsv(name, select, map) {
  if (existsSync(csv(name))) return;
  const db = new BetterSqlite3(process.env.BENCH_FILE, { readonly: true });
  const out = createWriteStream(csv(name));
  for (const r of db.prepare(select).raw(true).iterate()) {
    if (!out.write(`${map(r).map(quote).join(',')}\n`))
      await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  db.close();
}
await exportCsv('sessions', 'SELECT id, title, created_at, updated_at, metadata FROM sessions', (r) => [
  r[0],
  r[1],
  `${r[2]}Z`,
  `${r[3]}Z`,
  r[4],
]);
await exportCsv(
  'messages',
  'SELECT rowid, id, session_id, role, content, created_at, metadata FROM messages',
  (r) => [r[0], r[1], r[2], r[3], r[4], `${r[5]}Z`, r[6]],
);
// The same keys and indexes as the backend's schema, whatever its version: a template schema is created
// through PostgresConversationMemory (not timed) and its definitions are replayed on the bare tables.
const template = `${schema}_template`;
const store = new PostgresConversationMemory({ connectionString: process.env.BENCH_URL, schema: template });
await store.init();
await store.close();
const client = new pg.Client({ connectionString: process.env.BENCH_URL });
await client.connect();
const tables = [`${template}.sessions`, `${template}.messages`];
const constraints = await client.query(
  `SELECT conrelid::regclass::text AS tbl, conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
   WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname`,
  [tables],
);
const indexes = await client.query(
  `SELECT indexdef FROM pg_indexes i WHERE schemaname = $1 AND tablename IN ('sessions', 'messages')
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)`,
  [template],
);
const here = (sql) =>
  sql
    .replaceAll(` ON ${template}.`, ` ON ${schema}.`)
    .replaceAll(`REFERENCES ${template}.`, `REFERENCES ${schema}.`);
const keys = constraints.rows.filter((c) => c.contype !== 'f');
const foreign = constraints.rows.filter((c) => c.contype === 'f');
const table = (t) => t.replace(`${template}.`, `${schema}.`);
// Three psql runs, timed apart: loading, then the keys and indexes, then the full-text search index alone (the
// most expensive piece of schema version 4, reported on its own so that its share of every contender's time
// is known). Building it last changes nothing of the total: each index is built once over the full table.
const isSearchIndex = (definition) => definition.includes('message_search_vector');
const steps = [
  `CREATE SCHEMA ${schema};
CREATE TABLE ${schema}.sessions (LIKE ${template}.sessions INCLUDING DEFAULTS);
CREATE TABLE ${schema}.messages (LIKE ${template}.messages);
\\copy ${schema}.sessions (id, title, created_at, updated_at, metadata) FROM '${csv('sessions')}' WITH (FORMAT csv)
\\copy ${schema}.messages (seq, id, session_id, role, content, created_at, metadata) FROM '${csv('messages')}' WITH (FORMAT csv)`,
  `${keys.map((c) => `ALTER TABLE ${table(c.tbl)} ADD CONSTRAINT ${c.conname} ${c.def};`).join('\n')}
${indexes.rows
  .filter((i) => !isSearchIndex(i.indexdef))
  .map((i) => `${here(i.indexdef)};`)
  .join('\n')}
${foreign.map((c) => `ALTER TABLE ${table(c.tbl)} ADD CONSTRAINT ${c.conname} ${here(c.def)};`).join('\n')}`,
  indexes.rows
    .filter((i) => isSearchIndex(i.indexdef))
    .map((i) => `${here(i.indexdef)};`)
    .join('\n'),
];
const timings = steps.map((step) => {
  const start = performance.now();
  const run = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', process.env.BENCH_URL], {
    input: `SET maintenance_work_mem = '256MB';\n${step}\n`,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(run.stderr);
  return (performance.now() - start) / 1000;
});
await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await client.query(`DROP SCHEMA IF EXISTS ${template} CASCADE`);
await client.end();
const [loadSeconds, keySeconds, searchSeconds] = timings;
const seconds = loadSeconds + keySeconds + searchSeconds;
const note = `(psql alone, the CSV export not timed: load ${loadSeconds.toFixed(1)}s, keys and indexes ${keySeconds.toFixed(1)}s, search index ${searchSeconds.toFixed(1)}s)`;
console.log(JSON.stringify({ seconds, searchIndexSeconds: searchSeconds, rssMb: null, note }));
