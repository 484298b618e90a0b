import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { ConformanceCase } from '../conformance-case.js';

async function addNumbered(store: ConversationMemory, sessionId: string, count: number, from = 0) {
  for (let i = from; i < from + count; i++) {
    await store.addMessage(sessionId, { id: `${sessionId}-m${i}`, role: 'user', content: `message ${i}` });
  }
}

function contents(messages: { content: string }[]): string[] {
  return messages.map((m) => m.content);
}

function numbered(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `message ${from + i}`);
}

/** `getHistory`: order, `limit`, same-millisecond ties and isolation between sessions. */
export const historyCases: ConformanceCase[] = [
  {
    name: 'getHistory - a session that does not exist has history []',
    async run({ open }) {
      const store = await open();
      expect(await store.getHistory('no-such-session')).toEqual([]);
      expect(await store.getHistory('no-such-session', { limit: 5 })).toEqual([]);
    },
  },
  {
    name: 'getHistory - a session without messages has history []',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'empty' });
      expect(await store.getHistory('empty')).toEqual([]);
    },
  },
  {
    name: 'getHistory - returns every message oldest first',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await addNumbered(store, 's', 25);
      expect(contents(await store.getHistory('s'))).toEqual(numbered(0, 25));
    },
  },
  {
    name: 'getHistory - limit returns the last limit messages, still oldest first',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await addNumbered(store, 's', 10);
      expect(contents(await store.getHistory('s', { limit: 3 }))).toEqual(numbered(7, 10));
      expect(contents(await store.getHistory('s', { limit: 1 }))).toEqual(['message 9']);
      expect(contents(await store.getHistory('s', { limit: 10 }))).toEqual(numbered(0, 10));
    },
  },
  {
    name: 'getHistory - limit larger than the history returns all of it',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await addNumbered(store, 's', 4);
      expect(contents(await store.getHistory('s', { limit: 100_000 }))).toEqual(numbered(0, 4));
    },
  },
  {
    name: 'getHistory - an options object without limit returns the whole history',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await addNumbered(store, 's', 60);
      expect(await store.getHistory('s', {})).toHaveLength(60);
      expect(await store.getHistory('s', { limit: undefined })).toHaveLength(60);
    },
  },
  {
    name: 'getHistory - returns only the messages of the session asked for',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.createSession({ id: 'b' });
      for (let i = 0; i < 10; i++) {
        await store.addMessage('a', { role: 'user', content: `a${i}` });
        await store.addMessage('b', { role: 'user', content: `b${i}` });
      }
      const a = await store.getHistory('a');
      expect(a.map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
      expect(a.every((m) => m.sessionId === 'a')).toBe(true);
      expect((await store.getHistory('b', { limit: 2 })).map((m) => m.content)).toEqual(['b8', 'b9']);
    },
  },
  {
    name: 'getHistory - hundreds of messages in the same millisecond come back in insertion order',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 'tie' });
      // Frozen clock: every message has the same createdAt. Ids and contents are chosen so that sorting by
      // either of them (instead of by insertion) gives a different order.
      const count = 300;
      const order = Array.from({ length: count }, (_, i) => i);
      const label = (i: number) => `${String((i * 7919) % 1000).padStart(3, '0')}-${i}`;
      for (const i of order)
        await store.addMessage('tie', { id: `id-${label(i)}`, role: 'user', content: label(i) });
      const history = await store.getHistory('tie');
      expect(new Set(history.map((m) => m.createdAt.getTime())).size).toBe(1);
      expect(history.map((m) => m.content)).toEqual(order.map(label));
      expect((await store.getHistory('tie', { limit: 50 })).map((m) => m.content)).toEqual(
        order.slice(-50).map(label),
      );
    },
  },
  {
    name: 'getHistory - ties in the same millisecond keep insertion order around distinct timestamps',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      const expected: string[] = [];
      for (let step = 0; step < 5; step++) {
        for (let i = 0; i < 20; i++) {
          const content = `z${step}-${19 - i}`;
          expected.push(content);
          await store.addMessage('s', { role: 'user', content });
        }
        clock.advance(1);
      }
      expect(contents(await store.getHistory('s'))).toEqual(expected);
      expect(contents(await store.getHistory('s', { limit: 30 }))).toEqual(expected.slice(-30));
    },
  },
];
