// `node bench/history-editing.bench.mjs`: contract 1.1's editing on SQLite against better-sqlite3 doing the same
// statements, same process and run (issue 15's performance section):
// - upsertMessages of a history with one changed message vs raw (read the ids' digests, update one row), and vs
//   getHistory of the same history;
// - rewriteHistory of a k-message suffix (k = 1, 10, 100) at histories of 100 and 10,000: time should follow k.
// Options (environment): BENCH_ITERATIONS (default 200), BENCH_DIR (default a fresh mkdtemp folder).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageDigest } from '@flux-rag/memory-core';
import Database from 'better-sqlite3';
import { SqliteConversationMemory } from '../dist/index.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const DIR = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'flux-history-editing-bench-'));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return median(out);
}
const msg = (i, extra = '') => ({
  id: `m${i}`,
  role: i % 2 ? 'assistant' : 'user',
  content: `message ${i} ${extra}`,
  payload: { parts: [{ type: 'text', text: `message ${i} ${extra}` }] },
  format: 'ai-sdk/ui-message',
});

const file = join(DIR, 'bench.db');
const store = new SqliteConversationMemory({ filename: file });
const raw = new Database(file);
const rows = [];
for (const size of [100, 2000]) {
  const s = await store.createSession();
  const history = Array.from({ length: size }, (_, i) => msg(i));
  await store.upsertMessages(s, history);
  const read = raw.prepare(
    'SELECT id, digest FROM messages WHERE session_id = ? AND id IN (SELECT value FROM json_each(?))',
  );
  const update = raw.prepare(
    'UPDATE messages SET content = ?, payload = ?, digest = ? WHERE session_id = ? AND id = ?',
  );
  const ids = JSON.stringify(history.map((m) => m.id));
  const upsert = await time(ITERATIONS, (i) => {
    const next = [...history];
    next[size - 1] = msg(size - 1, `v${i}`);
    return store.upsertMessages(s, next);
  });
  const rawUpsert = await time(ITERATIONS, (i) => {
    raw
      .transaction(() => {
        read.all(s, ids);
        const m = msg(size - 1, `r${i}`);
        update.run(m.content, JSON.stringify(m.payload), messageDigest(m), s, m.id);
      })
      .immediate();
  });
  const getHistory = await time(ITERATIONS, () => store.getHistory(s));
  rows.push({ what: `upsertMessages, 1 of ${size} changed`, store: upsert, raw: rawUpsert, getHistory });
}
for (const size of [100, 10_000]) {
  const s = await store.createSession();
  for (let i = 0; i < size; i += 1000) {
    await store.upsertMessages(
      s,
      Array.from({ length: Math.min(1000, size - i) }, (_, j) => msg(i + j)),
    );
  }
  for (const k of [1, 10, 100]) {
    const after = `m${size - 1}`;
    const suffix = Array.from({ length: k }, (_, j) => ({ id: `x${j}`, role: 'user', content: `x${j}` }));
    await store.upsertMessages(s, suffix);
    const rewrite = await time(Math.max(20, ITERATIONS / 4), () =>
      store.rewriteHistory(s, { after, messages: suffix }),
    );
    rows.push({ what: `rewriteHistory k=${k}, history ${size}`, store: rewrite });
    await store.rewriteHistory(s, { after, messages: [] });
  }
}
await store.close();
raw.close();
if (process.env.BENCH_DIR === undefined) rmSync(DIR, { recursive: true, force: true });
for (const r of rows) {
  const extra =
    r.raw === undefined
      ? ''
      : `  raw ${r.raw.toFixed(3)} ms (x${(r.store / r.raw).toFixed(2)})  getHistory ${r.getHistory.toFixed(3)} ms`;
  console.log(`${r.what.padEnd(40)} median ${r.store.toFixed(3)} ms${extra}`);
}
