import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { Message, SessionSummary } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';

/** Every history page from the latest backwards; fails if the cursors never end. */
async function historyPages(
  store: ConversationMemory,
  sessionId: string,
  limit: number,
): Promise<Message[][]> {
  const pages: Message[][] = [];
  let before: string | null = null;
  do {
    const page = await store.getHistoryPage(sessionId, { limit, before });
    pages.push(page.items);
    before = page.nextCursor;
    if (pages.length > 10_000) throw new Error('getHistoryPage never returned nextCursor null');
  } while (before !== null);
  return pages;
}

/** Every sessions page from the first; fails if the cursors never end. */
async function sessionPages(store: ConversationMemory, limit: number): Promise<SessionSummary[][]> {
  const pages: SessionSummary[][] = [];
  let cursor: string | null = null;
  do {
    const page = await store.getSessionsPage({ limit, cursor });
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 10_000) throw new Error('getSessionsPage never returned nextCursor null');
  } while (cursor !== null);
  return pages;
}

const ids = (items: { id: string }[]) => items.map((item) => item.id);

/** `getHistoryPage` and `getSessionsPage`: keyset pages that never repeat or skip, even while others write. */
export const pageCases: ConformanceCase[] = [
  {
    name: 'getHistoryPage - pages backwards from the latest messages, oldest first within each page',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      // Groups of equal timestamps, so page boundaries fall inside ties.
      for (let i = 0; i < 23; i++) {
        await store.addMessage('s', {
          id: `m${String(22 - i).padStart(2, '0')}`,
          role: 'user',
          content: `${i}`,
        });
        if (i % 3 === 2) clock.advance(1);
      }
      const full = await store.getHistory('s');
      const pages = await historyPages(store, 's', 5);
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
      expect(pages[0]).toEqual(full.slice(-5));
      expect(ids(pages.reverse().flat())).toEqual(ids(full));
    },
  },
  {
    name: 'getHistoryPage - a history of an exact multiple of the limit ends with nextCursor null, no empty page',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (let i = 0; i < 10; i++) await store.addMessage('s', { role: 'user', content: `${i}` });
      const first = await store.getHistoryPage('s', { limit: 5 });
      expect(first.nextCursor).not.toBeNull();
      const second = await store.getHistoryPage('s', { limit: 5, before: first.nextCursor });
      expect(second.items.map((m) => m.content)).toEqual(['0', '1', '2', '3', '4']);
      expect(second.nextCursor).toBeNull();
    },
  },
  {
    name: 'getHistoryPage - limit defaults to 50',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (let i = 0; i < 60; i++) await store.addMessage('s', { role: 'user', content: `${i}` });
      const page = await store.getHistoryPage('s');
      expect(page.items.map((m) => m.content)).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 10}`));
      expect(page.nextCursor).not.toBeNull();
    },
  },
  {
    name: 'getHistoryPage - a session that does not exist, or has no messages, has one empty last page',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'empty' });
      expect(await store.getHistoryPage('missing')).toEqual({ items: [], nextCursor: null });
      expect(await store.getHistoryPage('empty', { limit: 3 })).toEqual({ items: [], nextCursor: null });
    },
  },
  {
    name: 'getHistoryPage - messages added while paging never shift the later pages',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      for (let i = 0; i < 12; i++) await store.addMessage('s', { role: 'user', content: `old ${i}` });
      const first = await store.getHistoryPage('s', { limit: 4 });
      // Same millisecond as the last old message: only the insertion sequence keeps them after the cursor.
      for (let i = 0; i < 5; i++) await store.addMessage('s', { role: 'user', content: `new ${i}` });
      const rest: Message[] = [];
      let before = first.nextCursor;
      while (before !== null) {
        const page = await store.getHistoryPage('s', { limit: 4, before });
        rest.unshift(...page.items);
        before = page.nextCursor;
      }
      expect([...rest, ...first.items].map((m) => m.content)).toEqual(
        Array.from({ length: 12 }, (_, i) => `old ${i}`),
      );
    },
  },
  {
    name: 'getHistoryPage - a cursor of getSessionsPage or of another shape is a ValidationError on before',
    async run({ open }) {
      const store = await open();
      for (const id of ['a', 'b']) {
        await store.createSession({ id });
        await store.addMessage(id, { role: 'user', content: 'x' });
        await store.addMessage(id, { role: 'user', content: 'y' });
      }
      const sessionsCursor = (await store.getSessionsPage({ limit: 1 })).nextCursor!;
      for (const before of [sessionsCursor, 'not a cursor', '', 'eyJ9']) {
        await expectMemoryError(() => store.getHistoryPage('a', { before }), {
          code: 'VALIDATION_FAILED',
          field: 'before',
        });
      }
    },
  },
  {
    name: 'getSessionsPage - lists by creation, newest first, ties by id descending, in pages that neither overlap nor skip',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      const created: { id: string; at: number }[] = [];
      for (let i = 0; i < 23; i++) {
        const id = `c${String((i * 17) % 23).padStart(2, '0')}`;
        await store.createSession({ id });
        created.push({ id, at: clock.time });
        if (i % 4 === 3) clock.advance(1);
      }
      clock.advance(1);
      // Activity does not move a session in this listing: the oldest stays last.
      await store.addMessage(created[0]!.id, { role: 'user', content: 'bump' });
      const expected = [...created].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((c) => c.id);
      for (const size of [1, 4, 5, 23, 50]) {
        expect(ids((await sessionPages(store, size)).flat()), `pages of ${size}`).toEqual(expected);
      }
    },
  },
  {
    name: 'getSessionsPage - a listing of an exact multiple of the limit ends with nextCursor null, no empty page',
    async run({ open }) {
      const store = await open();
      for (let i = 0; i < 6; i++) await store.createSession();
      const pages = await sessionPages(store, 3);
      expect(pages.map((p) => p.length)).toEqual([3, 3]);
    },
  },
  {
    name: 'getSessionsPage - limit defaults to 50 and an empty store has one empty page',
    async run({ open }) {
      const store = await open();
      expect(await store.getSessionsPage()).toEqual({ items: [], nextCursor: null });
      for (let i = 0; i < 55; i++) await store.createSession();
      const page = await store.getSessionsPage();
      expect(page.items).toHaveLength(50);
      expect(page.nextCursor).not.toBeNull();
    },
  },
  {
    name: 'getSessionsPage - sessions created or written to while paging never make a page repeat or skip',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (let i = 0; i < 12; i++) {
        await store.createSession({ id: `s${String(i).padStart(2, '0')}` });
        clock.advance(1);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let round = 0;
      do {
        const page: { items: SessionSummary[]; nextCursor: string | null } = await store.getSessionsPage({
          limit: 5,
          cursor,
        });
        seen.push(...ids(page.items));
        cursor = page.nextCursor;
        clock.advance(1);
        await store.createSession({ id: `new${round++}` });
        await store.addMessage('s00', { role: 'user', content: 'activity' });
      } while (cursor !== null);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `s${String(11 - i).padStart(2, '0')}`));
    },
  },
  {
    name: 'getSessionsPage - items carry exact messageCount and lastMessageAt',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'none' });
      await store.createSession({ id: 'two' });
      await store.addMessage('two', { role: 'user', content: 'a' });
      await store.addMessage('two', { role: 'user', content: 'b' });
      const { items } = await store.getSessionsPage();
      const two = items.find((s) => s.id === 'two');
      const none = items.find((s) => s.id === 'none');
      expect(two?.messageCount).toBe(2);
      expect(two?.lastMessageAt?.getTime()).toBe((await store.getHistory('two'))[1]?.createdAt.getTime());
      expect(none).toMatchObject({ messageCount: 0, lastMessageAt: null });
    },
  },
  {
    name: 'getSessionsPage - a cursor of getHistoryPage or of another shape is a ValidationError on cursor',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.createSession({ id: 'b' });
      await store.addMessage('a', { role: 'user', content: 'x' });
      await store.addMessage('a', { role: 'user', content: 'y' });
      const historyCursor = (await store.getHistoryPage('a', { limit: 1 })).nextCursor!;
      for (const cursor of [historyCursor, 'not a cursor', '', 'eyJ9']) {
        await expectMemoryError(() => store.getSessionsPage({ cursor }), {
          code: 'VALIDATION_FAILED',
          field: 'cursor',
        });
      }
    },
  },
];
