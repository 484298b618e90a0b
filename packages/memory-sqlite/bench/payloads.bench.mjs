// `node bench/payloads.bench.mjs`: the hot reads and addMessage with structured messages (payload and format
// present, contract 1.1), against better-sqlite3 prepared statements doing the same in the same process, the
// two sides alternating call by call (issue 15: reads and addMessage keep the ratios sqlite-bench.mjs measures
// without payloads: getHistory within 1.1x, addMessage within 2x).
// The raw side decodes what the store decodes (dates, metadata and payload JSON) and writes what the store writes
// (the payload's JSON text, the format, the digest by the contract's formula, without validation).
// Options (environment): BENCH_SESSIONS (default 1000), BENCH_PER (messages per session, default 100),
// BENCH_ITERATIONS (per task, default 2000), BENCH_PAYLOADS=0 (the same messages without payload and format, to
// compare the ratios on one machine and run), BENCH_DIR (default a fresh mkdtemp folder, removed after).
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteConversationMemory } from '../dist/index.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const PER = Number(process.env.BENCH_PER ?? 100);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const PAYLOADS = process.env.BENCH_PAYLOADS !== '0';
const ownDir = process.env.BENCH_DIR === undefined;
const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'flux-payloads-bench-'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function alternate(n, tasks) {
  const samples = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let i = 0; i < n; i++) {
    for (const [name, task] of Object.entries(tasks)) {
      const started = performance.now();
      await task(i);
      samples[name].push(performance.now() - started);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
}

/** Writes the sessions and their messages (payloads and formats set) with two bulk INSERT ... SELECT. */
function generate(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO sessions (id, title, created_at, updated_at, metadata)
       SELECT printf('s%06d', i), 'Session ' || i, '2025-01-01T00:00:00.000000', '2025-01-02T00:00:00.000000', '{}'
       FROM n`,
    ).run(SESSIONS);
    // Messages in time order across sessions, as a busy service writes them.
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
       INSERT INTO messages (id, session_id, role, content, created_at, metadata, payload, format)
       SELECT printf('m%08d', i), printf('s%06d', 1 + i % ?),
              CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
              'How does the retrieval step rank chunk ' || i || '?',
              strftime('%Y-%m-%dT%H:%M:%S.000000', '2025-01-01', '+' || i || ' seconds'), '{"tokens":42}',
              CASE WHEN ? THEN json_object('id', 'msg-' || i, 'role', 'assistant', 'parts', json_array(
                json_object('type', 'text', 'text', 'The retrieval step ranks chunk ' || i || ' by cosine similarity.'),
                json_object('type', 'tool-search', 'toolCallId', 'call-' || i, 'state', 'output-available',
                  'input', json_object('query', 'ranking ' || i), 'output', json_object('hits', i % 7, 'source', 'doc.pdf'))))
              END,
              CASE WHEN ? THEN 'ai-sdk/ui-message' END
       FROM n`,
    ).run(SESSIONS * PER, SESSIONS, PAYLOADS ? 1 : 0, PAYLOADS ? 1 : 0);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

const date = (text) => new Date(`${text.slice(0, 23)}Z`);
const digest = (m) =>
  createHash('sha256')
    .update(
      `${JSON.stringify([m.role, m.content, m.metadata, m.format]).slice(0, -1)},${JSON.stringify(m.payload)}]`,
    )
    .digest('hex');

function rawStore(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const history = db.prepare(
    `SELECT * FROM messages WHERE session_id = ?
     ORDER BY coalesce(created_order, created_at) DESC, seq DESC LIMIT ?`,
  );
  const touch = db.prepare('UPDATE sessions SET updated_at = ? WHERE id = ?');
  const insert = db.prepare(
    `INSERT INTO messages (id, session_id, role, content, created_at, metadata, payload, format, digest)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const add = db.transaction((sessionId, m) => {
    const at = `${new Date().toISOString().slice(0, 23)}000`;
    if (touch.run(at, sessionId).changes === 0) throw new Error(`no session ${sessionId}`);
    const payload = m.payload === null ? null : JSON.stringify(m.payload);
    insert.run(
      randomUUID(),
      sessionId,
      m.role,
      m.content,
      at,
      JSON.stringify(m.metadata),
      payload,
      m.format,
      digest(m),
    );
  });
  return {
    getHistory: (sessionId, limit) =>
      history
        .all(sessionId, limit)
        .reverse()
        .map((row) => ({
          id: row.id,
          sessionId: row.session_id,
          role: row.role,
          content: row.content,
          createdAt: date(row.created_at),
          metadata: JSON.parse(row.metadata),
          payload: row.payload === null ? null : JSON.parse(row.payload),
          format: row.format,
        })),
    addMessage: (sessionId, m) => add.immediate(sessionId, m),
    close: () => db.close(),
  };
}

const file = join(dir, 'payloads.db');
try {
  const setup = new SqliteConversationMemory({ filename: file });
  await setup.init();
  await setup.close();
  let started = performance.now();
  generate(file);
  console.log(
    `SQLite payloads bench: ${SESSIONS.toLocaleString('en')} sessions x ${PER} messages ${PAYLOADS ? 'with' : 'without'} payloads, written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const store = new SqliteConversationMemory({ filename: file });
  await store.init();
  const raw = rawStore(file);
  const session = (i) => `s${String(1 + ((i * 7919) % SESSIONS)).padStart(6, '0')}`;
  const message = {
    role: 'assistant',
    content: 'The retrieval step ranks the chunks by cosine similarity.',
    metadata: { tokens: 42 },
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
  };
  if (!PAYLOADS) Object.assign(message, { payload: null, format: null });
  started = performance.now();
  // Reads first, on the file as generated; then the writes (alternating too: each side's writes drop the other's
  // page cache alike).
  const t = {
    ...(await alternate(ITERATIONS, {
      storeHistory: (i) => store.getHistory(session(i), { limit: 50 }),
      rawHistory: (i) => raw.getHistory(session(i), 50),
    })),
    ...(await alternate(ITERATIONS, {
      storeAdd: (i) => store.addMessage(session(i), message),
      rawAdd: (i) => raw.addMessage(session(i + 1), message),
    })),
  };
  await store.close();
  raw.close();
  const line = (what, store, raw, target) => {
    const ratio = store / raw;
    console.log(
      `${what.padEnd(36)} store ${(store * 1000).toFixed(1)} µs  raw ${(raw * 1000).toFixed(1)} µs  x${ratio.toFixed(2)} (target <= ${target}: ${ratio <= target ? 'ok' : 'MISSED'})`,
    );
  };
  console.log(
    `${ITERATIONS} alternating iterations per task in ${((performance.now() - started) / 1000).toFixed(1)} s, medians`,
  );
  const kind = PAYLOADS ? 'with payloads' : 'without payloads';
  line(`getHistory(limit 50), ${kind}`, t.storeHistory, t.rawHistory, 1.1);
  line(`addMessage, ${kind}`, t.storeAdd, t.rawAdd, 2);
} finally {
  if (ownDir) rmSync(dir, { recursive: true, force: true });
}
