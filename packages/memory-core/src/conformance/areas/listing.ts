import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { SessionSummary } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';

function ids(sessions: SessionSummary[]): string[] {
  return sessions.map((s) => s.id);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pages(store: ConversationMemory, limit: number): Promise<SessionSummary[][]> {
  const result: SessionSummary[][] = [];
  for (let offset = 0; ; offset += limit) {
    const page = await store.getSessions({ limit, offset });
    if (page.length === 0) return result;
    result.push(page);
    if (result.length > 10_000) throw new Error('getSessions never returned an empty page');
  }
}

/** `getSessions`: order by latest activity, ties, defaults, paging and exact counts. */
export const listingCases: ConformanceCase[] = [
  {
    name: 'getSessions - a fresh store from the factory is empty',
    async run({ open }) {
      const store = await open();
      expect(await store.getSessions()).toEqual([]);
    },
  },
  {
    name: 'getSessions - a new message or a title change moves a session to the front',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (const id of ['a', 'b', 'c']) {
        await store.createSession({ id });
        clock.advance(10);
      }
      expect(ids(await store.getSessions())).toEqual(['c', 'b', 'a']);
      await store.addMessage('a', { role: 'user', content: 'bump a' });
      clock.advance(10);
      expect(ids(await store.getSessions())).toEqual(['a', 'c', 'b']);
      await store.updateSessionTitle('b', 'bump b');
      clock.advance(10);
      expect(ids(await store.getSessions())).toEqual(['b', 'a', 'c']);
    },
  },
  {
    name: 'getSessions - orders by latest activity with the system clock',
    async run({ open }) {
      const store = await open();
      for (const id of ['x', 'y', 'z']) {
        await store.createSession({ id });
        await pause(5);
      }
      await store.addMessage('x', { role: 'user', content: 'bump' });
      await pause(5);
      await store.updateSessionTitle('y', 'bump');
      const sessions = await store.getSessions();
      expect(ids(sessions)).toEqual(['y', 'x', 'z']);
      const times = sessions.map((s) => s.updatedAt.getTime());
      expect([...times].sort((p, q) => q - p)).toEqual(times);
    },
  },
  {
    name: 'getSessions - updatedAt is the latest of creation, last message and last title change',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      const created = clock.time;
      await store.createSession({ id: 's' });
      expect((await store.getSessions())[0]?.updatedAt.getTime()).toBe(created);
      clock.advance(7);
      await store.addMessage('s', { role: 'user', content: 'x' });
      expect((await store.getSessions())[0]?.updatedAt.getTime()).toBe(created + 7);
      clock.advance(5);
      await store.updateSessionTitle('s', 't');
      const [summary] = await store.getSessions();
      expect(summary?.updatedAt.getTime()).toBe(created + 12);
      expect(summary?.createdAt.getTime()).toBe(created);
      expect(summary?.lastMessageAt?.getTime()).toBe(created + 7);
    },
  },
  {
    name: 'getSessions - ties on updatedAt are broken by id, descending',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      // Lowercase ASCII ids of one length, so byte order, code-unit order and collations all agree.
      const created = ['s05', 's12', 's01', 's30', 's07', 's21'];
      for (const id of created) await store.createSession({ id });
      expect(ids(await store.getSessions())).toEqual([...created].sort().reverse());
      clock.advance(1);
      await store.addMessage('s01', { role: 'user', content: 'x' });
      await store.addMessage('s21', { role: 'user', content: 'x' });
      expect(ids(await store.getSessions())).toEqual(['s21', 's01', 's30', 's12', 's07', 's05']);
    },
  },
  {
    name: 'getSessions - limit defaults to 50',
    async run({ open }) {
      const store = await open();
      for (let i = 0; i < 55; i++) await store.createSession({ id: `s${String(i).padStart(2, '0')}` });
      expect(await store.getSessions()).toHaveLength(50);
      expect(await store.getSessions({})).toHaveLength(50);
      expect(await store.getSessions({ offset: 50 })).toHaveLength(5);
      expect(await store.getSessions({ limit: 1000 })).toHaveLength(55);
    },
  },
  {
    name: 'getSessions - consecutive pages neither overlap nor skip',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      // Groups of sessions sharing a timestamp, so page boundaries fall inside ties too.
      for (let i = 0; i < 47; i++) {
        await store.createSession({ id: `p${String((i * 31) % 47).padStart(2, '0')}` });
        if (i % 4 === 3) clock.advance(1);
      }
      const all = await store.getSessions({ limit: 1000 });
      expect(all).toHaveLength(47);
      for (const size of [1, 5, 7, 46, 47, 50]) {
        const listed = (await pages(store, size)).flat();
        expect(ids(listed), `pages of ${size}`).toEqual(ids(all));
      }
    },
  },
  {
    name: 'getSessions - limit and offset select exactly that slice of the full order',
    async run({ open }) {
      const store = await open();
      for (let i = 0; i < 12; i++) {
        const id = await store.createSession({ id: `q${String(i).padStart(2, '0')}` });
        if (i % 3 === 0) await store.addMessage(id, { role: 'user', content: 'x' });
      }
      const all = ids(await store.getSessions({ limit: 1000 }));
      expect(ids(await store.getSessions({ limit: 4, offset: 3 }))).toEqual(all.slice(3, 7));
      expect(ids(await store.getSessions({ limit: 1, offset: 11 }))).toEqual(all.slice(11));
      expect(ids(await store.getSessions({ limit: 5, offset: 10 }))).toEqual(all.slice(10));
    },
  },
  {
    name: 'getSessions - an offset past the end returns []',
    async run({ open }) {
      const store = await open();
      await store.createSession();
      await store.createSession();
      expect(await store.getSessions({ offset: 2 })).toEqual([]);
      expect(await store.getSessions({ offset: 2_147_483_647 })).toEqual([]);
    },
  },
  {
    name: 'getSessions - messageCount and lastMessageAt are exact for every session',
    async run({ open }) {
      const store = await open();
      const counts: Record<string, number> = { none: 0, one: 1, three: 3, many: 120 };
      for (const [id, count] of Object.entries(counts)) {
        await store.createSession({ id });
        for (let i = 0; i < count; i++) await store.addMessage(id, { role: 'user', content: `${i}` });
      }
      const listed = await store.getSessions();
      expect(listed).toHaveLength(4);
      for (const summary of listed) {
        const history = await store.getHistory(summary.id);
        expect(summary.messageCount, summary.id).toBe(counts[summary.id]);
        expect(summary.lastMessageAt?.getTime() ?? null, summary.id).toBe(
          history.at(-1)?.createdAt.getTime() ?? null,
        );
      }
      expect(listed.find((s) => s.id === 'none')?.lastMessageAt).toBeNull();
    },
  },
  {
    name: 'getSessions - each summary carries the same fields as getSession',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'full', title: 'Title', metadata: { a: [1, { b: null }] } });
      await store.addMessage('full', { role: 'user', content: 'x' });
      const [summary] = await store.getSessions();
      const session = await store.getSession('full');
      expect(summary).toMatchObject({
        id: 'full',
        title: 'Title',
        metadata: { a: [1, { b: null }] },
        messageCount: 1,
      });
      expect(summary?.createdAt.getTime()).toBe(session?.createdAt.getTime());
      expect(summary?.updatedAt.getTime()).toBe(session?.updatedAt.getTime());
    },
  },
  {
    name: 'getSessions - a deleted session is no longer listed or counted',
    async run({ open }) {
      const store = await open();
      for (const id of ['a', 'b', 'c']) await store.createSession({ id });
      await store.deleteSession('b');
      const listed = await store.getSessions();
      expect(ids(listed).sort()).toEqual(['a', 'c']);
      expect(await store.getSessions({ offset: 2 })).toEqual([]);
    },
  },
];
