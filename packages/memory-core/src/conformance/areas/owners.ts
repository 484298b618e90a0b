import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { PortableRecord } from '../../portable.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';

async function collect(records: AsyncIterable<PortableRecord>): Promise<PortableRecord[]> {
  const result: PortableRecord[] = [];
  for await (const record of records) result.push(record);
  return result;
}

/** A store where alice owns `a1` (one message), bob owns `b1` (one message) and nobody owns `n1`. */
async function twoOwners(open: () => Promise<ConversationMemory>) {
  const store = await open();
  const alice = store.forOwner('alice');
  const bob = store.forOwner('bob');
  await alice.createSession({ id: 'a1', title: 'alice' });
  await alice.addMessage('a1', { id: 'a1-m', role: 'user', content: 'from alice' });
  await bob.createSession({ id: 'b1', title: 'bob' });
  await bob.addMessage('b1', { id: 'b1-m', role: 'user', content: 'from bob' });
  await store.createSession({ id: 'n1' });
  return { store, alice, bob };
}

/** `forOwner` views and `ownerId`: each owner sees only its own sessions; the unscoped store sees all. */
export const ownerCases: ConformanceCase[] = [
  {
    name: 'createSession - ownerId defaults to null and a given ownerId is stored',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'plain' });
      await store.createSession({ id: 'owned', ownerId: 'carol' });
      expect((await store.getSession('plain'))?.ownerId).toBeNull();
      expect((await store.getSession('owned'))?.ownerId).toBe('carol');
      expect((await store.forOwner('carol').getSessions()).map((s) => s.id)).toEqual(['owned']);
    },
  },
  {
    name: 'forOwner - sessions created through a view belong to its owner',
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      expect((await alice.getSession('a1'))?.ownerId).toBe('alice');
      expect((await store.getSession('b1'))?.ownerId).toBe('bob');
      await alice.createSession({ id: 'a2', ownerId: 'alice' });
      expect((await store.getSession('a2'))?.ownerId).toBe('alice');
    },
  },
  {
    name: "forOwner - another owner's session behaves as if it did not exist",
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      expect(await alice.getSession('b1')).toBeNull();
      expect(await alice.getSession('n1')).toBeNull();
      expect(await alice.getHistory('b1')).toEqual([]);
      expect(await alice.getHistoryPage('b1')).toEqual({ items: [], nextCursor: null });
      await expectMemoryError(() => alice.addMessage('b1', { role: 'user', content: 'intrusion' }), {
        code: 'SESSION_NOT_FOUND',
      });
      await expectMemoryError(() => alice.updateSessionTitle('b1', 'hijacked'), {
        code: 'SESSION_NOT_FOUND',
      });
      expect(await alice.deleteSession('b1')).toBe(false);
      // Bob's session is untouched by all of the above.
      expect(await store.getSession('b1')).toMatchObject({ title: 'bob', ownerId: 'bob' });
      expect((await store.getHistory('b1')).map((m) => m.content)).toEqual(['from bob']);
    },
  },
  {
    name: "forOwner - listings, pages and exports of a view hold only its owner's sessions",
    async run({ open }) {
      const { alice, bob } = await twoOwners(open);
      expect((await alice.getSessions()).map((s) => s.id)).toEqual(['a1']);
      expect((await bob.getSessionsPage()).items.map((s) => s.id)).toEqual(['b1']);
      const exported = await collect(alice.exportRecords());
      expect(exported.map((r) => `${r.type}:${r.id}`)).toEqual(['session:a1', 'message:a1-m']);
      expect(exported[0]).toMatchObject({ ownerId: 'alice' });
      expect(await collect(alice.exportRecords({ sessionIds: ['b1'] }))).toEqual([]);
    },
  },
  {
    name: "forOwner - the unscoped store sees every owner's sessions",
    async run({ open }) {
      const { store } = await twoOwners(open);
      const listed = await store.getSessions();
      expect(listed.map((s) => [s.id, s.ownerId]).sort()).toEqual([
        ['a1', 'alice'],
        ['b1', 'bob'],
        ['n1', null],
      ]);
      expect((await collect(store.exportRecords())).filter((r) => r.type === 'session')).toHaveLength(3);
    },
  },
  {
    name: "forOwner - a view's clearAll deletes only its owner's sessions and messages",
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      await alice.clearAll();
      expect(await alice.getSessions()).toEqual([]);
      expect((await store.getSessions()).map((s) => s.id).sort()).toEqual(['b1', 'n1']);
      // Alice's message id is free again, Bob's is not.
      await store.createSession({ id: 'again' });
      await store.addMessage('again', { id: 'a1-m', role: 'user', content: 'reused' });
      await expectMemoryError(() => store.addMessage('again', { id: 'b1-m', role: 'user', content: 'x' }), {
        code: 'CONFLICT',
      });
    },
  },
  {
    name: 'forOwner - ids are unique across owners: an id another owner holds is a ConflictError',
    async run({ open }) {
      const { alice } = await twoOwners(open);
      await expectMemoryError(() => alice.createSession({ id: 'b1' }), { code: 'CONFLICT' });
      await expectMemoryError(() => alice.addMessage('a1', { id: 'b1-m', role: 'user', content: 'x' }), {
        code: 'CONFLICT',
      });
    },
  },
  {
    name: 'forOwner - createSession through a view with a different ownerId is a ValidationError on ownerId',
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      await expectMemoryError(() => alice.createSession({ id: 'x', ownerId: 'bob' }), {
        code: 'VALIDATION_FAILED',
        field: 'ownerId',
      });
      expect(await store.getSession('x')).toBeNull();
    },
  },
  {
    name: "forOwner - importRecords through a view assigns its owner and refuses another owner's records",
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      const record = (id: string, ownerId: string | null): PortableRecord => ({
        type: 'session',
        id,
        title: null,
        createdAt: '2024-01-01T00:00:00.000000Z',
        updatedAt: '2024-01-01T00:00:00.000000Z',
        metadata: {},
        ownerId,
      });
      await alice.importRecords([record('imp-1', null), record('imp-2', 'alice')]);
      expect((await store.getSession('imp-1'))?.ownerId).toBe('alice');
      expect((await store.getSession('imp-2'))?.ownerId).toBe('alice');
      await expectMemoryError(() => alice.importRecords([record('imp-3', 'bob')]), {
        code: 'VALIDATION_FAILED',
        field: 'records[0].ownerId',
      });
      expect(await store.getSession('imp-3')).toBeNull();
      await expectMemoryError(
        () =>
          alice.importRecords([
            {
              type: 'message',
              id: 'sneaky',
              sessionId: 'b1',
              role: 'user',
              content: 'x',
              createdAt: '2024-01-01T00:00:00.000000Z',
              metadata: {},
            },
          ]),
        { code: 'SESSION_NOT_FOUND' },
      );
      expect((await store.getHistory('b1')).map((m) => m.id)).toEqual(['b1-m']);
    },
  },
  {
    name: 'forOwner - closing a view leaves the store open; the closed view throws MemoryClosedError',
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      await alice.close();
      await alice.close();
      await expectMemoryError(() => alice.getSessions(), { code: 'MEMORY_CLOSED' });
      expect(await store.getSessions()).toHaveLength(3);
      expect((await store.forOwner('alice').getSessions()).map((s) => s.id)).toEqual(['a1']);
    },
  },
  {
    name: 'forOwner - closing the store closes its views',
    async run({ open }) {
      const { store, bob } = await twoOwners(open);
      await store.close();
      await expectMemoryError(() => bob.getSessions(), { code: 'MEMORY_CLOSED' });
      await expectMemoryError(() => bob.addMessage('b1', { role: 'user', content: 'x' }), {
        code: 'MEMORY_CLOSED',
      });
    },
  },
  {
    name: 'forOwner - refuses an invalid ownerId with a ValidationError on ownerId',
    async run({ open }) {
      const store = await open();
      for (const ownerId of ['', 'o'.repeat(37), 42, null, undefined, 'a\u0000']) {
        await expectMemoryError(
          () => (store.forOwner as (id: unknown) => ConversationMemory)(ownerId).getSessions(),
          {
            code: 'VALIDATION_FAILED',
            field: 'ownerId',
          },
        );
      }
    },
  },
  {
    name: 'forOwner - two views of one owner see the same sessions',
    async run({ open }) {
      const store = await open();
      await store.forOwner('dana').createSession({ id: 'd1' });
      expect((await store.forOwner('dana').getSession('d1'))?.id).toBe('d1');
    },
  },
];
