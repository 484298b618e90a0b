// The floor: the same rows as CSV (written beforehand, not timed), `psql \copy` into tables without keys, then
// the same keys and indexes as the backend's schema. Only the psql run is timed.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

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
const script = `
SET maintenance_work_mem = '256MB';
CREATE SCHEMA ${schema};
CREATE TABLE ${schema}.sessions (id VARCHAR(36) COLLATE "C", title TEXT, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ,
  metadata JSONB, message_count INTEGER NOT NULL DEFAULT 0, last_message_at TIMESTAMPTZ, owner_id VARCHAR(36) COLLATE "C");
CREATE TABLE ${schema}.messages (seq BIGINT, id VARCHAR(36) COLLATE "C", session_id VARCHAR(36) COLLATE "C", role TEXT,
  content TEXT, created_at TIMESTAMPTZ, metadata JSONB);
\\copy ${schema}.sessions (id, title, created_at, updated_at, metadata) FROM '${csv('sessions')}' WITH (FORMAT csv)
\\copy ${schema}.messages (seq, id, session_id, role, content, created_at, metadata) FROM '${csv('messages')}' WITH (FORMAT csv)
ALTER TABLE ${schema}.sessions ADD PRIMARY KEY (id);
ALTER TABLE ${schema}.messages ADD PRIMARY KEY (id);
CREATE INDEX ON ${schema}.messages (session_id, created_at, seq);
CREATE INDEX ON ${schema}.sessions (updated_at DESC, id DESC);
CREATE INDEX ON ${schema}.sessions (owner_id, updated_at DESC, id DESC);
ALTER TABLE ${schema}.messages ADD FOREIGN KEY (session_id) REFERENCES ${schema}.sessions (id) ON DELETE CASCADE;
`;
const start = performance.now();
const run = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', process.env.BENCH_URL], {
  input: script,
  encoding: 'utf8',
});
if (run.status !== 0) throw new Error(run.stderr);
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ seconds, rssMb: null, note: '(psql alone; the CSV export is not timed)' }));
