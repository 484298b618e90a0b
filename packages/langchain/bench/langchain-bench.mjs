// `pnpm bench`: FluxChatMessageHistory against the store calls it makes, in the same process and run, on SQLite
// (a file in a fresh temporary directory) and PostgreSQL (MEMORY_TEST_POSTGRES_URL, or an embedded server, in a
// schema made for the run and dropped after):
// - read:  history.getMessages() against memory.getHistory() of the same 50-message session;
// - write: history.addMessages([human, ai]) against memory.upsertMessages() of the same two rows, already mapped.
// The two sides of a pair run interleaved, call by call; the median latency of each is reported, with
// ratio = history / store (the target is at most 1.3).
//
// Options (environment): BENCH_ROUNDS (passes, default 6), BENCH_TIME_MS (per pass, default 500), BENCH_PG=0
// to skip PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { createTestSchema, startTestPostgres } from '@flux-rag/test-postgres';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { FluxChatMessageHistory, toNewMessage } from '../dist/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 500);
const HISTORY = 50;

/** A turn as an app stores it: the user's question, and the model's answer with a tool call and usage. */
function turn(i) {
  return [
    new HumanMessage({
      content: `Question ${i}: what is the weather in Paris today, and tomorrow?`,
      id: `h-${i}`,
    }),
    new AIMessage({
      id: `run-${i}`,
      content: [{ type: 'text', text: `Answer ${i}: sunny today, rain tomorrow, around 21 degrees.` }],
      tool_calls: [
        { id: `call_${i}`, name: 'get_weather', args: { city: 'Paris', days: 2 }, type: 'tool_call' },
      ],
      usage_metadata: { input_tokens: 120 + i, output_tokens: 30, total_tokens: 150 + i },
      response_metadata: { model_name: 'fake-1', finish_reason: 'stop' },
    }),
  ];
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Median latency (ms) of each named task. The tasks run interleaved, one call each in turn (the order reversed
 * at every pass), for TIME_MS per pass after a warm-up, so that a change in the machine's load falls on both
 * sides alike; a shared, busy machine moves the means far more than the medians.
 */
async function measure(tasks) {
  const names = Object.keys(tasks);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let pass = -1; pass < ROUNDS; pass++) {
    const until = performance.now() + (pass < 0 ? 200 : TIME_MS);
    for (let i = 0; performance.now() < until; i++) {
      for (const name of i % 2 ? [...names].reverse() : names) {
        const start = performance.now();
        await tasks[name]();
        if (pass >= 0) samples[name].push(performance.now() - start);
      }
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name])]));
}

const rows = [];

async function benchStore(backend, memory) {
  // Read: one session of HISTORY messages, written through the history as an app would.
  const reading = new FluxChatMessageHistory({ memory, sessionId: 'bench-read' });
  for (let i = 0; i < HISTORY / 2; i++) await reading.addMessages(turn(i));
  const read = await measure({
    history: () => reading.getMessages(),
    store: () => memory.getHistory('bench-read'),
  });
  rows.push({ backend, operation: `getMessages (${HISTORY} messages)`, ...read });

  // Write: each side appends turns to a session of its own (created first), so both grow alike.
  const writing = new FluxChatMessageHistory({ memory, sessionId: 'bench-write-history' });
  await memory.createSession({ id: 'bench-write-history' });
  await memory.createSession({ id: 'bench-write-store' });
  // Built before timing, on both sides: the app makes the messages, and the store side gets them mapped already.
  const turns = Array.from({ length: 100 }, (_, i) => turn(i));
  const mapped = turns.map((messages) => messages.map((m, i) => toNewMessage(m, `messages[${i}]`)));
  let h = 0;
  let s = 0;
  const write = await measure({
    history: () => writing.addMessages(turns[h++ % turns.length]),
    store: () => memory.upsertMessages('bench-write-store', mapped[s++ % mapped.length]),
  });
  rows.push({ backend, operation: 'addMessages (a turn: 2 messages)', ...write });
}

console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const dir = mkdtempSync(join(tmpdir(), 'flux-rag-langchain-bench-'));
const sqlite = new SqliteConversationMemory({ filename: join(dir, 'bench.db') });
try {
  await benchStore('SQLite', sqlite);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}
if (process.env.BENCH_PG !== '0') {
  const server = await startTestPostgres();
  const schema = await createTestSchema(server.url, { prefix: 'bench_', create: false });
  const postgres = new PostgresConversationMemory({ connectionString: server.url, schema: schema.name });
  try {
    await benchStore(`PostgreSQL ${server.serverVersion}`, postgres);
  } finally {
    await postgres.close();
    await schema.drop();
    await server.stop();
  }
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
console.log('| backend | operation | history (ms) | store (ms) | ratio |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const row of rows) {
  const ratio = row.history / row.store;
  console.log(
    `| ${row.backend} | ${row.operation} | ${row.history.toFixed(3)} | ${row.store.toFixed(3)} | ${ratio.toFixed(2)}x |`,
  );
}
