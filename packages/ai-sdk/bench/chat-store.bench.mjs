// saveChat against the store's own upsertMessages for the same change (one user message and one streamed reply
// appended to a 200-message chat: the whole chat given, as saveChat is given it, and, as the floor, only the two
// new messages), and loadChat against getHistory for 200 messages, on SQLite (a temporary file),
// the in-memory store and, when MEMORY_TEST_POSTGRES_URL is set, PostgreSQL. Prints medians and their ratios.
// Usage: node bench/chat-store.bench.mjs [--rounds N]   (pnpm bench builds first)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InMemoryConversationMemory } from '@flux-rag/memory-core';
import { PostgresConversationMemory } from '@flux-rag/memory-postgres';
import { SqliteConversationMemory } from '@flux-rag/memory-sqlite';
import { withClient } from '@flux-rag/test-postgres';
import { createChatStore } from '../dist/index.js';
import { toNewMessage } from '../dist/message-codec.js';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 30;
const SIZE = 200;

/** A chat turn as the SDK stores it: a user question and a reply with a step, reasoning and text. */
function turn(i) {
  const words = `Answer ${i}: ${'lorem ipsum dolor sit amet '.repeat(20)}`;
  return [
    { id: `u${i}`, role: 'user', parts: [{ type: 'text', text: `Question ${i} about the weather?` }] },
    {
      id: `a${i}`,
      role: 'assistant',
      metadata: { model: 'mock' },
      parts: [
        { type: 'step-start' },
        {
          type: 'reasoning',
          text: 'thinking',
          state: 'done',
          providerMetadata: { anthropic: { signature: 'sig' } },
        },
        { type: 'text', text: words, state: 'done' },
      ],
    },
  ];
}
const chat = (turns) => Array.from({ length: turns }, (_, i) => turn(i)).flat();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bench(name, memory) {
  if (!memory.capabilities.historyEditing) {
    console.log(`${name.padEnd(9)} skipped: this build of the backend has no historyEditing`);
    return;
  }
  const store = createChatStore(memory);
  const base = chat(SIZE / 2);
  const next = turn(SIZE / 2);
  const prepare = async () => {
    const id = await memory.createSession();
    await memory.upsertMessages(
      id,
      base.map((m) => toNewMessage(m, m.id)),
    );
    return id;
  };
  const saveTimes = [];
  const upsertTimes = [];
  const upsertNewTimes = [];
  const whole = [...base, ...next];
  const ifLastId = base.at(-1).id;
  const runs = [
    // saveChat given the whole chat after the reply, as onEnd gives it.
    [saveTimes, (id) => store.saveChat({ id, messages: whole })],
    // The same change through the store itself: the whole chat, of which it writes the two new messages.
    [
      upsertTimes,
      (id) =>
        memory.upsertMessages(
          id,
          whole.map((m) => toNewMessage(m, m.id)),
          { ifLastId },
        ),
    ],
    // The least the store can do: only the two new messages, known in advance.
    [
      upsertNewTimes,
      (id) =>
        memory.upsertMessages(
          id,
          next.map((m) => toNewMessage(m, m.id)),
          { ifLastId },
        ),
    ],
  ];
  for (let r = 0; r < ROUNDS; r++) {
    const ids = [await prepare(), await prepare(), await prepare()];
    // Rotate the order: the write that follows the others pays for their checkpoints and garbage.
    for (let k = 0; k < runs.length; k++) {
      const [times, run] = runs[(r + k) % runs.length];
      const t = performance.now();
      await run(ids[k]);
      times.push(performance.now() - t);
    }
  }
  const id = await prepare();
  const loadTimes = [];
  const historyTimes = [];
  const time = async (times, read) => {
    const t = performance.now();
    await read();
    times.push(performance.now() - t);
  };
  // Alternate which goes first, so neither always pays for the other's garbage.
  for (let r = 0; r < ROUNDS * 2; r++) {
    const load = () => time(loadTimes, () => store.loadChat(id));
    const history = () => time(historyTimes, () => memory.getHistory(id));
    if (r % 2 === 0) await load().then(history);
    else await history().then(load);
  }
  // Medians, and minimums: on a busy machine the fastest run is the closest to the work itself.
  const ratio = (a, b) => {
    const [ma, mb, la, lb] = [median(a), median(b), Math.min(...a), Math.min(...b)];
    return `median ${ma.toFixed(2)} / ${mb.toFixed(2)} ms = ${(ma / mb).toFixed(2)}x   min ${la.toFixed(2)} / ${lb.toFixed(2)} ms = ${(la / lb).toFixed(2)}x`;
  };
  console.log(`${name.padEnd(9)} saveChat / upsertMessages(whole chat)  ${ratio(saveTimes, upsertTimes)}`);
  console.log(`${''.padEnd(9)} saveChat / upsertMessages(2 new only) ${ratio(saveTimes, upsertNewTimes)}`);
  console.log(`${''.padEnd(9)} loadChat / getHistory                  ${ratio(loadTimes, historyTimes)}`);
}

console.log(
  `${SIZE}-message chats, ${ROUNDS} rounds; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const dir = mkdtempSync(join(tmpdir(), 'flux-ai-sdk-bench-'));
try {
  const sqlite = new SqliteConversationMemory({ filename: join(dir, 'bench.db') });
  await bench('sqlite', sqlite);
  await sqlite.close();
  const inMemory = new InMemoryConversationMemory();
  await bench('memory', inMemory);
  await inMemory.close();
  const url = process.env.MEMORY_TEST_POSTGRES_URL;
  if (url) {
    const schema = `ai_sdk_bench_${process.pid}`;
    const postgres = new PostgresConversationMemory({ connectionString: url, schema });
    try {
      await bench('postgres', postgres);
    } finally {
      await postgres.close();
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    }
  } else {
    console.log('postgres  skipped: set MEMORY_TEST_POSTGRES_URL');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
