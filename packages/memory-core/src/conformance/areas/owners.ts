import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { PortableRecord } from '../../portable.js';
import { LIMITS } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { OTHER_OWNER, SEEDED_SESSION_IDS, VIEW_OWNER } from '../owner-view-seed.js';

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

/** Portable session record of `ownerId`, for the import cases. */
function sessionRecord(id: string, ownerId: string | null): PortableRecord {
  return {
    type: 'session',
    id,
    title: null,
    createdAt: '2024-01-01T00:00:00.000000Z',
    updatedAt: '2024-01-01T00:00:00.000000Z',
    metadata: {},
    ownerId,
  };
}

/**
 * `forOwner` views and `ownerId`: each owner sees only its own sessions; the unscoped store sees all. In `view`
 * mode the store under test is already a view, so each case is adapted: it works with the seeded sessions of
 * `OTHER_OWNER` and of no owner, and checks that the view refuses what only the unscoped store may do.
 */
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
    onView: {
      name: "createSession - on a view, ownerId defaults to the view's owner, which may be given; another is a ValidationError",
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'plain' });
        await view.createSession({ id: 'owned', ownerId: VIEW_OWNER });
        expect((await view.getSession('plain'))?.ownerId).toBe(VIEW_OWNER);
        expect((await unscoped(view).getSession('owned'))?.ownerId).toBe(VIEW_OWNER);
        await expectMemoryError(() => view.createSession({ id: 'theirs', ownerId: OTHER_OWNER }), {
          code: 'VALIDATION_FAILED',
          field: 'ownerId',
        });
        expect(await unscoped(view).getSession('theirs')).toBeNull();
      },
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
    onView: {
      name: 'forOwner - sessions created through the view belong to its owner, as the unscoped store reads them',
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        await view.addMessage('a1', { id: 'a1-m', role: 'user', content: 'mine' });
        expect((await view.getSession('a1'))?.ownerId).toBe(VIEW_OWNER);
        expect((await unscoped(view).getSession('a1'))?.ownerId).toBe(VIEW_OWNER);
        expect((await unscoped(view).getHistory('a1')).map((m) => m.id)).toEqual(['a1-m']);
      },
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
    onView: {
      name: "forOwner - another owner's and unowned sessions behave, through the view, as if they did not exist",
      async run({ open }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        for (const id of SEEDED_SESSION_IDS) {
          expect(await view.getSession(id), id).toBeNull();
          expect(await view.getHistory(id), id).toEqual([]);
          expect(await view.getHistoryPage(id), id).toEqual({ items: [], nextCursor: null });
          await expectMemoryError(() => view.addMessage(id, { role: 'user', content: 'intrusion' }), {
            code: 'SESSION_NOT_FOUND',
          });
          await expectMemoryError(() => view.updateSessionTitle(id, 'hijacked'), {
            code: 'SESSION_NOT_FOUND',
          });
          expect(await view.deleteSession(id), id).toBe(false);
        }
        // The runner checks after the case that the seeded sessions are untouched by all of the above.
      },
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
    onView: {
      name: "forOwner - listings, pages and exports of the view hold only its owner's sessions",
      async run({ open }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        await view.addMessage('a1', { id: 'a1-m', role: 'user', content: 'from the view' });
        expect((await view.getSessions()).map((s) => s.id)).toEqual(['a1']);
        expect((await view.getSessions({ offset: 1 })).map((s) => s.id)).toEqual([]);
        expect((await view.getSessionsPage()).items.map((s) => s.id)).toEqual(['a1']);
        const exported = await collect(view.exportRecords());
        expect(exported.map((r) => `${r.type}:${r.id}`)).toEqual(['session:a1', 'message:a1-m']);
        expect(exported[0]).toMatchObject({ ownerId: VIEW_OWNER });
        expect(await collect(view.exportRecords({ sessionIds: [...SEEDED_SESSION_IDS] }))).toEqual([]);
      },
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
    onView: {
      name: "forOwner - the unscoped store behind the view sees every owner's sessions",
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        const listed = await unscoped(view).getSessions();
        expect(listed.map((s) => [s.id, s.ownerId]).sort()).toEqual([
          ['a1', VIEW_OWNER],
          ['no-owner-1', null],
          ['other-owner-1', OTHER_OWNER],
          ['other-owner-2', OTHER_OWNER],
        ]);
      },
    },
  },
  {
    name: "forOwner - a view's clearAll deletes only its owner's sessions and messages",
    async run({ open }) {
      const { store, alice } = await twoOwners(open);
      await alice.clearAll();
      expect(await alice.getSessions()).toEqual([]);
      expect((await store.getSessions()).map((s) => s.id).sort()).toEqual(['b1', 'n1']);
      // Alice's session id is free again, Bob's is not; Bob's messages are still there.
      await store.createSession({ id: 'a1' });
      await expectMemoryError(() => store.createSession({ id: 'b1' }), { code: 'CONFLICT' });
      expect((await store.getHistory('b1')).map((m) => m.id)).toEqual(['b1-m']);
    },
    onView: {
      name: "forOwner - the view's clearAll deletes only its owner's sessions and messages",
      async run({ open }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        await view.addMessage('a1', { id: 'a1-m', role: 'user', content: 'mine' });
        await view.clearAll();
        expect(await view.getSessions()).toEqual([]);
        // The view's session id is free again; the other owners' are not (their rows are still there).
        await view.createSession({ id: 'a1' });
        for (const id of SEEDED_SESSION_IDS) {
          await expectMemoryError(() => view.createSession({ id }), { code: 'CONFLICT' });
        }
      },
    },
  },
  {
    name: 'forOwner - session ids are unique across owners: an id another owner holds is a ConflictError',
    async run({ open }) {
      const { alice } = await twoOwners(open);
      await expectMemoryError(() => alice.createSession({ id: 'b1' }), { code: 'CONFLICT' });
    },
    onView: {
      name: 'forOwner - session ids are unique across owners: an id another owner (or no owner) holds is a ConflictError on the view',
      async run({ open }) {
        const view = await open();
        for (const id of SEEDED_SESSION_IDS) {
          await expectMemoryError(() => view.createSession({ id }), { code: 'CONFLICT' });
        }
        expect(await view.getSessions()).toEqual([]);
      },
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
    onView: {
      name: 'forOwner - createSession through the view with another ownerId, or null, is a ValidationError on ownerId only when it differs',
      async run({ open, unscoped }) {
        const view = await open();
        await expectMemoryError(() => view.createSession({ id: 'x', ownerId: OTHER_OWNER }), {
          code: 'VALIDATION_FAILED',
          field: 'ownerId',
        });
        expect(await unscoped(view).getSession('x')).toBeNull();
        // An explicit null means "no owner given": the view's owner applies.
        await view.createSession({ id: 'y', ownerId: null });
        expect((await unscoped(view).getSession('y'))?.ownerId).toBe(VIEW_OWNER);
      },
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
    onView: {
      name: "forOwner - importRecords through the view assigns its owner and refuses another owner's records",
      async run({ open, unscoped }) {
        const view = await open();
        const store = unscoped(view);
        await view.importRecords([sessionRecord('imp-1', null), sessionRecord('imp-2', VIEW_OWNER)]);
        expect((await store.getSession('imp-1'))?.ownerId).toBe(VIEW_OWNER);
        expect((await store.getSession('imp-2'))?.ownerId).toBe(VIEW_OWNER);
        await expectMemoryError(() => view.importRecords([sessionRecord('imp-3', OTHER_OWNER)]), {
          code: 'VALIDATION_FAILED',
          field: 'records[0].ownerId',
        });
        expect(await store.getSession('imp-3')).toBeNull();
        for (const sessionId of SEEDED_SESSION_IDS) {
          await expectMemoryError(
            () =>
              view.importRecords([
                {
                  type: 'message',
                  id: 'sneaky',
                  sessionId,
                  role: 'user',
                  content: 'x',
                  createdAt: '2024-01-01T00:00:00.000000Z',
                  metadata: {},
                },
              ]),
            { code: 'SESSION_NOT_FOUND' },
          );
        }
      },
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
    onView: {
      name: 'forOwner - closing the view leaves its store open; the closed view throws MemoryClosedError',
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        await view.close();
        await view.close();
        await expectMemoryError(() => view.getSessions(), { code: 'MEMORY_CLOSED' });
        await expectMemoryError(() => view.createSession({ id: 'late' }), { code: 'MEMORY_CLOSED' });
        expect(await unscoped(view).getSessions()).toHaveLength(4);
        expect((await unscoped(view).forOwner(VIEW_OWNER).getSessions()).map((s) => s.id)).toEqual(['a1']);
      },
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
    onView: {
      name: 'forOwner - closing the store behind the view closes the view',
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'a1' });
        await unscoped(view).close();
        await expectMemoryError(() => view.getSessions(), { code: 'MEMORY_CLOSED' });
        await expectMemoryError(() => view.addMessage('a1', { role: 'user', content: 'x' }), {
          code: 'MEMORY_CLOSED',
        });
      },
    },
  },
  {
    name: 'forOwner - refuses an invalid ownerId with a ValidationError on ownerId',
    async run({ open }) {
      const store = await open();
      for (const ownerId of ['', 'o'.repeat(LIMITS.idLength + 1), 42, null, undefined, 'a\u0000']) {
        await expectMemoryError(
          () => (store.forOwner as (id: unknown) => ConversationMemory)(ownerId).getSessions(),
          {
            code: 'VALIDATION_FAILED',
            field: 'ownerId',
          },
        );
      }
    },
    onView: {
      name: 'forOwner - on a view, any ownerId (its own, another, or an invalid one) is a ValidationError on ownerId',
      async run({ open }) {
        const view = await open();
        for (const ownerId of [VIEW_OWNER, OTHER_OWNER, '', 'o'.repeat(LIMITS.idLength + 1), 42, null]) {
          await expectMemoryError(
            () => (view.forOwner as (id: unknown) => ConversationMemory)(ownerId).getSessions(),
            { code: 'VALIDATION_FAILED', field: 'ownerId' },
          );
        }
      },
    },
  },
  {
    name: 'forOwner - two views of one owner see the same sessions',
    async run({ open }) {
      const store = await open();
      await store.forOwner('dana').createSession({ id: 'd1' });
      expect((await store.forOwner('dana').getSession('d1'))?.id).toBe('d1');
    },
    onView: {
      name: "forOwner - another view of the view's owner sees its sessions; a view of another owner does not",
      async run({ open, unscoped }) {
        const view = await open();
        await view.createSession({ id: 'd1' });
        expect((await unscoped(view).forOwner(VIEW_OWNER).getSession('d1'))?.id).toBe('d1');
        expect(await unscoped(view).forOwner(OTHER_OWNER).getSession('d1')).toBeNull();
      },
    },
  },
];
