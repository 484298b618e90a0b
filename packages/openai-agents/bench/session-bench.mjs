// `pnpm bench`: FluxSession's read and write paths against the store calls they make, in the same process and
// run, on SQLite and PostgreSQL (MEMORY_TEST_POSTGRES_URL, or an embedded server): getItems(20) against
// getHistory({ limit: 20 }), addItems of a two-item turn against upsertMessages of the same two messages,
// popItem against popMessage, and an append_items history transaction against upsertMessages with an operationId.
// Each pair runs in alternating rounds on sessions of its own; the ratio is the adapter's time over the store's.
// Target (issue 17): within 1.3x.
//
// Options (environment): BENCH_ITERATIONS (calls per round, default 300), BENCH_ROUNDS (default 4).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema, startTestPostgres } from '@flux-rag/test-postgres';
import { FluxSession, toNewMessage } from '../dist/index.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const TARGET = 1.3;

/** One turn as the runner saves it: the user's message and the model's answer. */
const turn = (i) => [
  { type: 'message', role: 'user', content: `Question ${i}: what is the weather in Paris tomorrow?` },
  {
    type: 'message',
    role: 'assistant',
    id: `msg_${i}`,
    status: 'completed',
    content: [{ type: 'output_text', text: `Answer ${i}: sunny, 24°C, light wind from the west.` }],
  },
];

/** `n` turns numbered from `offset`, made before timing so that neither side pays for building them. */
const turns = (offset, n) => Array.from({ length: n }, (_, i) => turn(offset + i));

/** Total milliseconds of `calls` calls of `fn(i)`, one after the other. */
async function timed(calls, fn) {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await fn(i);
  return performance.now() - start;
}

/**
 * Alternates the adapter and the store call over `ROUNDS` rounds of `ITERATIONS` calls (the adapter first in odd
 * rounds, second in even ones, so that neither always runs on a warmer cache) and returns both totals.
 */
async function pair(adapter, store) {
  let a = 0;
  let s = 0;
  await adapter(0, 20);
  await store(0, 20); // warm-up: prepared statements, JIT
  for (let round = 0; round < ROUNDS; round++) {
    const offset = (round + 1) * ITERATIONS;
    if (round % 2 === 0) {
      a += await adapter(offset, ITERATIONS);
      s += await store(offset, ITERATIONS);
    } else {
      s += await store(offset, ITERATIONS);
      a += await adapter(offset, ITERATIONS);
    }
  }
  return { adapter: a, store: s };
}

async function benchStore(name, memory) {
  const calls = ITERATIONS * ROUNDS + 20;
  const fresh = async (label, items) => {
    const sessionId = await memory.createSession({ title: label });
    if (items > 0) {
      const messages = [];
      for (let i = 0; i < items / 2; i++) messages.push(...turn(i).map((item) => toNewMessage(item)));
      await memory.upsertMessages(sessionId, messages);
    }
    return { sessionId, session: new FluxSession({ memory, sessionId }) };
  };

  // Each case: the adapter's call and the store call it makes, given the same turn (as items, or as the
  // messages they map to, made before timing) and operation id; `preload` items are written first.
  const cases = [
    {
      label: 'getItems(20) / getHistory(limit 20)',
      preload: 200,
      adapter: (session) => session.getItems(20),
      store: (sessionId) => memory.getHistory(sessionId, { limit: 20 }),
    },
    {
      label: 'addItems(turn) / upsertMessages',
      preload: 0,
      adapter: (session, items) => session.addItems(items),
      store: (sessionId, messages) => memory.upsertMessages(sessionId, messages),
    },
    {
      label: 'popItem / popMessage',
      preload: calls,
      adapter: (session) => session.popItem(),
      store: (sessionId) => memory.popMessage(sessionId),
    },
    {
      label: 'applyHistoryTransaction(append) / upsertMessages(operationId)',
      preload: 0,
      adapter: (session, items, operationId) =>
        session.applyHistoryTransaction({ operationId, transaction: { type: 'append_items', items } }),
      store: (sessionId, messages, operationId) =>
        memory.upsertMessages(sessionId, messages, { operationId }),
    },
  ];
  const rows = [];
  for (const { label, preload, adapter, store } of cases) {
    const a = await fresh(`adapter ${label}`, preload);
    const s = await fresh(`store ${label}`, preload);
    await a.session.getSessionId();
    const r = await pair(
      (o, n) => {
        const inputs = turns(o, n);
        return timed(n, (i) => adapter(a.session, inputs[i], `tx:${o + i}`));
      },
      (o, n) => {
        const inputs = turns(o, n).map((items) => items.map((item) => toNewMessage(item)));
        return timed(n, (i) => store(s.sessionId, inputs[i], `tx:${o + i}`));
      },
    );
    rows.push([label, r]);
  }

  console.log(`\n${name}: ${ITERATIONS} calls x ${ROUNDS} rounds per side`);
  let worst = 0;
  for (const [label, { adapter, store }] of rows) {
    const ratio = adapter / store;
    worst = Math.max(worst, ratio);
    const per = (ms) => `${((ms * 1000) / (ITERATIONS * ROUNDS)).toFixed(0).padStart(6)} µs`;
    console.log(`  ${label.padEnd(64)} ${per(adapter)} ${per(store)}  ${ratio.toFixed(2)}x`);
  }
  return worst;
}

console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const results = [];
const dir = mkdtempSync(join(tmpdir(), 'flux-rag-openai-agents-bench-'));
try {
  const sqlite = new SqliteConversationMemory({ filename: join(dir, 'bench.db') });
  try {
    results.push(['sqlite', await benchStore('SQLite', sqlite)]);
  } finally {
    await sqlite.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const server = await startTestPostgres();
try {
  const schema = await createTestSchema(server.url, { prefix: 'oa_bench_' });
  const postgres = new PostgresConversationMemory({ connectionString: server.url, schema: schema.name });
  try {
    results.push([
      `postgres ${server.serverVersion}`,
      await benchStore(`PostgreSQL ${server.serverVersion}`, postgres),
    ]);
  } finally {
    await postgres.close();
    await schema.drop();
  }
} finally {
  await server.stop();
}
console.log(
  `\nload average: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const [name, worst] of results) {
  console.log(
    `${name}: worst ratio ${worst.toFixed(2)}x (target ${TARGET}x) ${worst <= TARGET ? 'ok' : 'OVER'}`,
  );
}
