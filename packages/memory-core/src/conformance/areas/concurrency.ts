import { expect } from 'vitest';
import type { Message } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * Marks a promise as handled at once, so that a backend rejecting it before the case awaits it fails the case
 * instead of raising an unhandled rejection; awaiting the returned promise still throws.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** True when `part` is the start of `whole`, compared by message id. */
function isPrefix(part: Message[], whole: Message[]): boolean {
  return part.length <= whole.length && part.every((m, i) => m.id === whole[i]?.id);
}

/** Call order of un-awaited writes, concurrent readers and writers, instances sharing a database. */
export const concurrencyCases: ConformanceCase[] = [
  {
    name: 'addMessage - 200 concurrent calls on one session all land, with distinct ids, exactly, in call order',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const ids = await Promise.all(
        range(200).map((i) =>
          store.addMessage('s', { role: i % 2 ? 'assistant' : 'user', content: `#${i}` }),
        ),
      );
      expect(new Set(ids).size).toBe(200);
      const history = await store.getHistory('s');
      expect(history.map((m) => m.content)).toEqual(range(200).map((i) => `#${i}`));
      expect(history.map((m) => m.id)).toEqual(ids);
      expect((await store.getSessions())[0]?.messageCount).toBe(200);
    },
  },
  {
    name: 'addMessage - two un-awaited calls keep call order, every time',
    async run({ open }) {
      const store = await open();
      for (let round = 0; round < 30; round++) {
        const id = await store.createSession();
        const user = store.addMessage(id, { role: 'user', content: 'question' });
        const reply = store.addMessage(id, { role: 'assistant', content: 'answer' });
        await Promise.all([reply, user]);
        expect(
          (await store.getHistory(id)).map((m) => m.role),
          `round ${round}`,
        ).toEqual(['user', 'assistant']);
      }
    },
  },
  {
    name: 'addMessage - a batch started in one tick on several sessions never reorders',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      const sessions = ['a', 'b', 'c', 'd'];
      for (const id of sessions) await store.createSession({ id });
      // Frozen clock, one synchronous loop: equal timestamps everywhere, only insertion order separates them.
      const writes = range(120).map((i) =>
        store.addMessage(sessions[i % 4]!, {
          id: `m${String(119 - i).padStart(3, '0')}`,
          role: 'user',
          content: `${i}`,
        }),
      );
      await Promise.all(writes);
      for (const [k, id] of sessions.entries()) {
        const expected = range(120)
          .filter((i) => i % 4 === k)
          .map(String);
        expect(
          (await store.getHistory(id)).map((m) => m.content),
          id,
        ).toEqual(expected);
      }
    },
  },
  {
    name: 'addMessage - started right after an un-awaited createSession of its session, it lands',
    async run({ open }) {
      const store = await open();
      const created = store.createSession({ id: 'fresh' });
      const added = store.addMessage('fresh', { role: 'user', content: 'first words' });
      await Promise.all([created, added]);
      expect((await store.getHistory('fresh')).map((m) => m.content)).toEqual(['first words']);
    },
  },
  {
    name: 'addMessage - concurrent writes to different sessions all land with exact counts',
    async run({ open }) {
      const store = await open();
      const sessions = range(10).map((i) => `s${i}`);
      await Promise.all(sessions.map((id) => store.createSession({ id })));
      await Promise.all(
        range(300).map((i) => store.addMessage(sessions[i % 10]!, { role: 'user', content: `${i}` })),
      );
      const listed = await store.getSessions();
      expect(listed).toHaveLength(10);
      for (const summary of listed) expect(summary.messageCount, summary.id).toBe(30);
    },
  },
  {
    name: 'getHistory - a read while writes are happening never shows a gap',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const reads: { started: number; result: Promise<Message[]> }[] = [];
      const writes: Promise<string>[] = [];
      for (let i = 0; i < 100; i++) {
        writes.push(quiet(store.addMessage('s', { role: 'user', content: `${i}` })));
        if (i % 7 === 3) reads.push({ started: i + 1, result: quiet(store.getHistory('s')) });
        if (i % 20 === 10) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await Promise.all(writes);
      const final = await store.getHistory('s');
      expect(final).toHaveLength(100);
      for (const read of reads) {
        const seen = await read.result;
        // A read waits for the writes started before it; later ones may or may not show, but never with a hole.
        expect(seen.length, `read after ${read.started} writes`).toBeGreaterThanOrEqual(read.started);
        expect(isPrefix(seen, final), `read after ${read.started} writes is not a prefix`).toBe(true);
      }
    },
  },
  {
    name: 'createSession - 100 concurrent creations all land with distinct ids',
    async run({ open }) {
      const store = await open();
      const ids = await Promise.all(range(100).map(() => store.createSession()));
      expect(new Set(ids).size).toBe(100);
      expect((await store.getSessions({ limit: 1000 })).map((s) => s.id).sort()).toEqual([...ids].sort());
    },
  },
  {
    name: 'createSession - concurrent creations with one id: exactly one succeeds, the others are ConflictError',
    async run({ open }) {
      const store = await open();
      const results = await Promise.allSettled(
        range(10).map((i) => store.createSession({ id: 'contested', title: `${i}` })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') {
          await expectMemoryError(() => Promise.reject(result.reason), { code: 'CONFLICT' });
        }
      }
      expect(await store.getSessions()).toHaveLength(1);
    },
  },
  {
    name: 'deleteSession - un-awaited add, delete, add on one session take effect in call order',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const before = quiet(store.addMessage('s', { role: 'user', content: 'before' }));
      const deleted = quiet(store.deleteSession('s'));
      const after = quiet(store.addMessage('s', { role: 'user', content: 'after' }));
      await expect(before).resolves.toBeTypeOf('string');
      await expect(deleted).resolves.toBe(true);
      await expectMemoryError(() => after, { code: 'SESSION_NOT_FOUND' });
      expect(await store.getHistory('s')).toEqual([]);
      expect(await store.getSession('s')).toBeNull();
    },
  },
  {
    name: 'updateSessionTitle - un-awaited updates take effect in call order',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await Promise.all(range(30).map((i) => store.updateSessionTitle('s', `title ${i}`)));
      expect((await store.getSession('s'))?.title).toBe('title 29');
    },
  },
  {
    name: 'createSession - two instances initialising one empty database at once both succeed',
    needs: ['sharedDatabase'],
    async run({ openShared }) {
      const database = await openShared();
      const [first, second] = await Promise.all([database.open(), database.open()]);
      const [a, b] = await Promise.all([
        first!.createSession({ id: 'from-first' }),
        second!.createSession({ id: 'from-second' }),
      ]);
      expect([a, b]).toEqual(['from-first', 'from-second']);
      expect((await first!.getSession('from-second'))?.id).toBe('from-second');
      expect((await second!.getSession('from-first'))?.id).toBe('from-first');
    },
    onView: {
      skip: "the view run writes the other owners' rows into the database first, so it is not empty; the store run covers it",
    },
  },
  {
    name: 'getSessions - writes through two instances of one database are all visible to both',
    needs: ['sharedDatabase'],
    async run({ openShared }) {
      const database = await openShared();
      const first = await database.open();
      const second = await database.open();
      await first.createSession({ id: 'shared' });
      await Promise.all(
        range(40).map((i) =>
          (i % 2 ? first : second).addMessage('shared', { id: `m${i}`, role: 'user', content: `${i}` }),
        ),
      );
      for (const store of [first, second]) {
        const [summary] = await store.getSessions();
        expect(summary?.messageCount).toBe(40);
        expect((await store.getHistory('shared')).map((m) => m.id).sort()).toEqual(
          range(40)
            .map((i) => `m${i}`)
            .sort(),
        );
      }
    },
  },
  {
    name: 'getHistory - another instance reading during writes sees a prefix of the final history',
    needs: ['sharedDatabase'],
    async run({ openShared }) {
      const database = await openShared();
      const writer = await database.open();
      const reader = await database.open();
      await writer.createSession({ id: 's' });
      const reads: Promise<Message[]>[] = [];
      const writes: Promise<string>[] = [];
      for (let i = 0; i < 60; i++) {
        writes.push(quiet(writer.addMessage('s', { role: 'user', content: `${i}` })));
        if (i % 6 === 0) reads.push(quiet(reader.getHistory('s')));
      }
      await Promise.all(writes);
      const final = await writer.getHistory('s');
      for (const read of reads) expect(isPrefix(await read, final)).toBe(true);
    },
  },
  {
    name: 'createSession - a session id taken through another instance is a ConflictError',
    needs: ['sharedDatabase'],
    async run({ openShared }) {
      const database = await openShared();
      const first = await database.open();
      const second = await database.open();
      await first.createSession({ id: 'once' });
      await expectMemoryError(() => second.createSession({ id: 'once' }), { code: 'CONFLICT' });
      await first.addMessage('once', { id: 'msg-once', role: 'user', content: 'x' });
      await expectMemoryError(
        () => second.addMessage('once', { id: 'msg-once', role: 'user', content: 'y' }),
        {
          code: 'CONFLICT',
        },
      );
    },
  },
];
