import { expect } from 'vitest';
import { CONTRACT_VERSION, type ConversationMemory } from '../../conversation-memory.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';

/** One call of each method, with valid arguments, for the after-close checks. */
// `capabilities` and `contractVersion` are plain properties: reading them after close is harmless and throws nothing.
const CALLS: Record<
  Exclude<keyof ConversationMemory, 'close' | 'capabilities' | 'contractVersion'>,
  (store: ConversationMemory) => unknown
> = {
  createSession: (s) => s.createSession({ id: 'after-close' }),
  addMessage: (s) => s.addMessage('open', { role: 'user', content: 'late' }),
  getHistory: (s) => s.getHistory('open'),
  getHistoryPage: (s) => s.getHistoryPage('open'),
  getSessionsPage: (s) => s.getSessionsPage(),
  getSessions: (s) => s.getSessions(),
  searchMessages: (s) => s.searchMessages('late'),
  getSession: (s) => s.getSession('open'),
  updateSessionTitle: (s) => s.updateSessionTitle('open', 'late'),
  deleteSession: (s) => s.deleteSession('open'),
  clearAll: (s) => s.clearAll(),
  exportRecords: (s) => s.exportRecords(),
  importRecords: (s) =>
    s.importRecords([
      {
        type: 'session',
        id: 'imported',
        title: null,
        createdAt: '2025-03-01T12:00:00.000000Z',
        updatedAt: '2025-03-01T12:00:00.000000Z',
        metadata: {},
        ownerId: null,
      },
    ]),
  check: (s) => s.check(),
  forOwner: (s) => s.forOwner('someone').getSessions(),
  upsertMessages: (s) => s.upsertMessages('open', [{ role: 'user', content: 'late' }]),
  rewriteHistory: (s) => s.rewriteHistory('open', { after: null, messages: [] }),
  deleteMessages: (s) => s.deleteMessages('open', ['m']),
  popMessage: (s) => s.popMessage('open'),
  getHistoryDigests: (s) => s.getHistoryDigests('open'),
  updateSession: (s) => s.updateSession('open', { title: 'late' }),
  purgeSessions: (s) => s.purgeSessions({ inactiveBefore: new Date() }),
};

function afterCloseCase(method: keyof typeof CALLS): ConformanceCase {
  return {
    name: `${method} - after close throws MemoryClosedError`,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'open' });
      await store.addMessage('open', { role: 'user', content: 'before' });
      await store.close();
      await expectMemoryError(() => CALLS[method](store) as Promise<unknown>, { code: 'MEMORY_CLOSED' });
    },
  };
}

/** `close` and `clearAll`: idempotence, use after close, pending writes, emptiness. */
export const lifecycleCases: ConformanceCase[] = [
  {
    name: 'contractVersion - the store and its owner views report the contract version they implement',
    async run({ open, unscoped }) {
      const store = await open();
      expect(store.contractVersion).toBe(CONTRACT_VERSION);
      // On the view run `store` is a view already, which cannot be scoped again: take a view of its store.
      expect(unscoped(store).forOwner('someone').contractVersion).toBe(CONTRACT_VERSION);
    },
  },
  {
    name: 'close - is idempotent: a second close and concurrent closes resolve',
    async run({ open }) {
      const store = await open();
      await store.createSession();
      await Promise.all([store.close(), store.close()]);
      await store.close();
    },
  },
  {
    name: 'close - a store that was never used closes',
    async run({ open }) {
      const store = await open();
      await store.close();
      await store.close();
    },
  },
  ...(Object.keys(CALLS) as (keyof typeof CALLS)[]).map(afterCloseCase),
  {
    name: 'close - writes started before close complete instead of failing',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const writes = Array.from({ length: 20 }, (_, i) =>
        store.addMessage('s', { role: 'user', content: `${i}` }),
      );
      // Settled handlers attached before close(), so a write rejected meanwhile is reported, not unhandled.
      const settled = Promise.allSettled([...writes, store.updateSessionTitle('s', 'last')]);
      await store.close();
      const results = await settled;
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    },
  },
  {
    name: 'close - writes started before close are visible to a later instance on the same database',
    needs: ['sharedDatabase'],
    async run({ openShared }) {
      const database = await openShared();
      const first = await database.open();
      await first.createSession({ id: 's' });
      const writes = Promise.all(
        Array.from({ length: 20 }, (_, i) => first.addMessage('s', { role: 'user', content: `${i}` })),
      );
      // Handled before close(), so a write rejected meanwhile fails the case instead of going unhandled.
      writes.catch(() => undefined);
      await first.close();
      await writes;
      const second = await database.open();
      const history = await second.getHistory('s');
      expect(history.map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`));
    },
  },
  {
    name: 'close - closing one store leaves another store from the factory usable',
    async run({ open }) {
      const first = await open();
      const second = await open();
      await first.close();
      const id = await second.createSession();
      expect((await second.getSession(id))?.id).toBe(id);
    },
  },
  {
    name: 'clearAll - removes every session and message',
    async run({ open }) {
      const store = await open();
      for (const id of ['a', 'b', 'c']) {
        await store.createSession({ id });
        await store.addMessage(id, { id: `${id}-m`, role: 'user', content: id });
      }
      await store.clearAll();
      expect(await store.getSessions()).toEqual([]);
      for (const id of ['a', 'b', 'c']) {
        expect(await store.getSession(id)).toBeNull();
        expect(await store.getHistory(id)).toEqual([]);
      }
    },
  },
  {
    name: 'clearAll - an empty store stays empty and usable',
    async run({ open }) {
      const store = await open();
      await store.clearAll();
      await store.clearAll();
      expect(await store.getSessions()).toEqual([]);
      await store.createSession({ id: 'after' });
      expect(await store.getSessions()).toHaveLength(1);
    },
  },
  {
    name: 'clearAll - the store stays usable and every id can be used again',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.addMessage('a', { id: 'a-m', role: 'user', content: 'old' });
      await store.clearAll();
      await store.createSession({ id: 'a' });
      await store.addMessage('a', { id: 'a-m', role: 'user', content: 'new' });
      expect((await store.getHistory('a')).map((m) => m.content)).toEqual(['new']);
      expect((await store.getSessions())[0]?.messageCount).toBe(1);
    },
  },
  {
    name: 'clearAll - clears only the store it is called on',
    async run({ open }) {
      const first = await open();
      const second = await open();
      await first.createSession({ id: 'mine' });
      await second.createSession({ id: 'yours' });
      await first.clearAll();
      expect((await second.getSessions()).map((s) => s.id)).toEqual(['yours']);
    },
  },
];
