import type { PortableRecord } from '@flux-rag/memory-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { PythonWriter, pythonAvailable } from './python-writer.js';
import { copyOfLegacyFixture, openPlain, tempDir } from './support.js';

/*
 * The original Python app keeps writing a file this store upgraded: the real `python3` and its `sqlite3` module
 * (SQLite 3.40.1 on these machines, older than the 3.43 that `contentless_delete` needed) run the statements of
 * flux-rag's ConversationMemory, interleaved with the store's writes, each waiting for the other's lock. After
 * it, counts, last activity, history order and search are exact whoever wrote the rows.
 */

const dir = tempDir();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// On CI a missing python3 is a failure, never a skipped test counted as a pass.
const python = pythonAvailable();
if (!python && process.env.CI === 'true') throw new Error('python3 with sqlite3 is required on CI');

/** What plain SQL says about each session, and what the store keeps for it: the two must be equal. */
function truth(path: string) {
  const plain = openPlain(path);
  try {
    return {
      sessions: plain
        .prepare(
          `SELECT s.id, count(m.seq) AS count, max(m.created_at) AS last FROM sessions AS s
           LEFT JOIN messages AS m ON m.session_id = s.id GROUP BY s.id ORDER BY s.id`,
        )
        .all() as { id: string; count: number; last: string | null }[],
      stored: plain
        .prepare('SELECT id, message_count AS count, last_message_at AS last FROM sessions ORDER BY id')
        .all(),
    };
  } finally {
    plain.close();
  }
}

describe.skipIf(!python)('the Python writer on an upgraded file', () => {
  it('writes with SQLite older than 3.43; counts, activity, history order and search stay exact', async () => {
    const path = copyOfLegacyFixture(dir);
    const store = new SqliteConversationMemory({ filename: path });
    cleanups.push(() => store.close());
    await store.init();
    const legacy = await store.getSessions({ limit: 1000 });
    const [withMessages, other, toDelete] = legacy.filter((s) => s.messageCount > 2);
    if (!withMessages || !other || !toDelete) throw new Error('the fixture has sessions with messages');

    const py = new PythonWriter(path, 10);
    cleanups.push(() => py.close());
    const version = await py.ready();
    expect(version).toMatch(/^3\.\d+\.\d+$/);

    const at = (n: number) => `2030-01-01T00:00:${String(n).padStart(2, '0')}.000001`;
    // Interleaved: Python creates a session, both write to it and to a legacy session, Python renames and
    // deletes one; every step must succeed.
    await py.run({ op: 'create_session', id: 'py-session', title: 'from python', at: at(1) });
    await py.run({
      op: 'add_message',
      id: 'py-m1',
      session: 'py-session',
      role: 'user',
      content: 'zanzibar from python',
      at: at(2),
    });
    await store.addMessage('py-session', {
      id: 'ts-m1',
      role: 'assistant',
      content: 'answer from the store',
    });
    await py.run({
      op: 'add_message',
      id: 'py-m2',
      session: withMessages.id,
      role: 'user',
      content: 'zanzibar in a legacy session',
      at: at(3),
    });
    await store.addMessage(withMessages.id, { id: 'ts-m2', role: 'assistant', content: 'the store again' });
    await py.run({ op: 'rename', session: other.id, title: 'renamed by python', at: at(4) });
    await py.run({ op: 'delete_session', session: toDelete.id });

    // Each waits for the other's write lock rather than failing: Python holds it while the store writes...
    const lock = py.holdLock(400);
    await lock.acquired;
    const started = Date.now();
    await store.addMessage('py-session', { id: 'ts-m3', role: 'user', content: 'written after the wait' });
    expect(Date.now() - started).toBeGreaterThan(200);
    await lock.released;
    // ...and the store holds it (a large import in one transaction) while Python writes.
    const records: PortableRecord[] = [];
    for (let i = 0; i < 20_000; i++) {
      records.push({
        type: 'message',
        id: `bulk-${i}`,
        sessionId: other.id,
        role: 'user',
        content: `bulk message ${i}`,
        createdAt: '2029-01-01T00:00:00.000000',
        metadata: {},
      } as PortableRecord);
    }
    const importing = store.importRecords(records, { batchSize: 10_000 });
    await py.run({
      op: 'add_message',
      id: 'py-m3',
      session: other.id,
      role: 'user',
      content: 'zanzibar during the import',
      at: at(5),
    });
    await importing;

    const facts = truth(path);
    // The stored counts are the true ones, and the store reports them.
    expect(facts.stored).toEqual(facts.sessions);
    const listed = await store.getSessions({ limit: 1000 });
    expect(listed.map((s) => [s.id, s.messageCount]).sort()).toEqual(
      facts.sessions.map((s) => [s.id, s.count]).sort(),
    );
    const pySession = listed.find((s) => s.id === 'py-session')!;
    expect(pySession.messageCount).toBe(3);
    expect(listed.find((s) => s.id === other.id)).toMatchObject({
      title: 'renamed by python',
      messageCount: other.messageCount + 20_001,
      lastMessageAt: new Date('2030-01-01T00:00:05.000Z'),
    });
    expect(listed.find((s) => s.id === toDelete.id)).toBeUndefined();
    // History order is (created_at, insertion order) whoever inserted.
    const plain = openPlain(path);
    try {
      const order = (id: string) =>
        plain
          .prepare('SELECT id FROM messages WHERE session_id = ? ORDER BY created_at, seq')
          .pluck()
          .all(id);
      expect((await store.getHistory(withMessages.id)).map((m) => m.id)).toEqual(order(withMessages.id));
      expect((await store.getHistory('py-session')).map((m) => m.id)).toEqual(order('py-session'));
    } finally {
      plain.close();
    }
    // Python's messages are found, the deleted session's are gone from the index.
    const hits = await store.searchMessages('zanzibar', { limit: 10 });
    expect(hits.items.map((h) => h.message.id).sort()).toEqual(['py-m1', 'py-m2', 'py-m3']);
    expect(await store.getHistory(toDelete.id)).toEqual([]);
    expect((await store.check()).orphanMessages).toBe(0);
  });
});
