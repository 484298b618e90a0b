import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { SearchHit, SearchOptions } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { SEEDED_SESSION_IDS } from '../owner-view-seed.js';

/** Every hit of a query, through all pages. */
async function allHits(
  store: ConversationMemory,
  query: string,
  options: SearchOptions = {},
): Promise<SearchHit[]> {
  const hits: SearchHit[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<ConversationMemory['searchMessages']>> = await store.searchMessages(
      query,
      {
        ...options,
        cursor,
      },
    );
    hits.push(...page.items);
    cursor = page.nextCursor;
    if (hits.length > 10_000) throw new Error('searchMessages never returned nextCursor null');
  } while (cursor !== null);
  return hits;
}

async function found(store: ConversationMemory, query: string, options?: SearchOptions): Promise<string[]> {
  return (await allHits(store, query, options)).map((hit) => hit.message.id).sort();
}

async function corpus(store: ConversationMemory): Promise<void> {
  await store.createSession({ id: 'travel' });
  await store.createSession({ id: 'code' });
  const add = (session: string, id: string, role: string, content: string) =>
    store.addMessage(session, { id, role, content });
  await add('travel', 't1', 'user', 'What is the weather in Lisbon tomorrow?');
  await add('travel', 't2', 'assistant', 'Tomorrow in Lisbon: sunny, 24 degrees. Pack sunscreen!');
  await add('travel', 't3', 'user', 'みなさん、こんにちは世界。東京の天気は晴れです');
  await add('travel', 't4', 'user', 'Привет, как дела? Погода отличная 🚀🌞');
  await add('code', 'c1', 'user', 'How do I reset a forgotten password in the admin console?');
  await add('code', 'c2', 'assistant', 'Open Settings, then Security, then "Reset password".');
  await add('code', 'c3', 'tool', "SELECT * FROM users WHERE name = 'o''brien' OR 1=1; -- AND NOT NEAR");
}

/** `searchMessages`: ranked full-text search with snippets, filters and pages. */
export const searchCases: ConformanceCase[] = [
  {
    name: 'searchMessages - finds the messages holding every word, ignoring ASCII case',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      expect(await found(store, 'lisbon')).toEqual(['t1', 't2']);
      expect(await found(store, 'LISBON sunny')).toEqual(['t2']);
      expect(await found(store, 'password reset')).toEqual(['c1', 'c2']);
      expect(await found(store, 'password madrid')).toEqual([]);
      expect(await found(store, 'zebra')).toEqual([]);
    },
  },
  {
    name: 'searchMessages - hits carry the stored message, a rank and a snippet marking a match',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      const [history] = [await store.getHistory('travel')];
      const { items } = await store.searchMessages('sunscreen');
      expect(items).toHaveLength(1);
      const [hit] = items;
      expect(hit!.message).toEqual(history.find((m) => m.id === 't2'));
      expect(typeof hit!.rank).toBe('number');
      expect(Number.isFinite(hit!.rank)).toBe(true);
      expect(hit!.snippet).toMatch(/<mark>sunscreen<\/mark>/i);
    },
  },
  {
    name: 'searchMessages - sessionId and role narrow the results',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      expect(await found(store, 'password', { sessionId: 'code' })).toEqual(['c1', 'c2']);
      expect(await found(store, 'password', { sessionId: 'travel' })).toEqual([]);
      expect(await found(store, 'password', { role: 'assistant' })).toEqual(['c2']);
      expect(await found(store, 'tomorrow', { sessionId: 'travel', role: 'user' })).toEqual(['t1']);
      expect(await found(store, 'password', { sessionId: 'missing' })).toEqual([]);
    },
  },
  {
    name: 'searchMessages - "quoted phrases" need their words in a row, word* matches prefixes',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      expect(await found(store, '"reset password"')).toEqual(['c2']);
      expect(await found(store, '"password reset"')).toEqual([]);
      expect(await found(store, 'sun*')).toEqual(['t2']);
      expect(await found(store, 'pass*')).toEqual(['c1', 'c2']);
      expect(await found(store, 'sun')).toEqual([]);
    },
  },
  {
    name: 'searchMessages - Japanese, Russian and text with emoji are searchable',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      expect(await found(store, 'こんにちは')).toEqual(['t3']);
      expect(await found(store, '晴れです')).toEqual(['t3']);
      expect(await found(store, 'Погода')).toEqual(['t4']);
      expect(await found(store, 'дела')).toEqual(['t4']);
      expect(await found(store, 'Привет дела')).toEqual(['t4']);
    },
  },
  {
    name: 'searchMessages - operators and SQL in the query are plain words, never syntax',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await corpus(store);
      expect(await found(store, 'OR')).toEqual(['c3']);
      expect(await found(store, 'AND NOT NEAR')).toEqual(['c3']);
      expect(await found(store, "o'brien")).toEqual(['c3']);
      expect(await found(store, 'users WHERE name')).toEqual(['c3']);
      expect(await found(store, 'content:password')).toEqual([]);
      expect(await found(store, '(password) ^reset -admin {console}')).toEqual(['c1']);
      expect(await found(store, "'; DROP TABLE messages; --")).toEqual([]);
    },
  },
  {
    name: 'searchMessages - limit and cursor page through the hits without repeats or skips',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (let i = 0; i < 23; i++) {
        await store.addMessage('s', {
          id: `m${i}`,
          role: 'user',
          content: `needle number ${i} ${'hay '.repeat(i % 4)}`,
        });
      }
      await store.addMessage('s', { id: 'other', role: 'user', content: 'only hay here' });
      const first = await store.searchMessages('needle', { limit: 10 });
      expect(first.items).toHaveLength(10);
      expect(first.nextCursor).not.toBeNull();
      const hits = await allHits(store, 'needle', { limit: 10 });
      const seen = hits.map((h) => h.message.id);
      expect(new Set(seen).size).toBe(23);
      expect(seen).not.toContain('other');
      const ranks = hits.map((h) => h.rank);
      expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
      expect((await store.searchMessages('needle', { limit: 23 })).nextCursor).toBeNull();
    },
  },
  {
    name: 'searchMessages - the index follows every write: added, imported and deleted messages',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.addMessage('a', { id: 'a1', role: 'user', content: 'quasar telescope' });
      expect(await found(store, 'quasar')).toEqual(['a1']);
      await store.importRecords([
        {
          type: 'session',
          id: 'b',
          title: null,
          createdAt: '2025-01-01T00:00:00.000000Z',
          updatedAt: '2025-01-01T00:00:00.000000Z',
          metadata: {},
          ownerId: null,
        },
        {
          type: 'message',
          id: 'b1',
          sessionId: 'b',
          role: 'user',
          content: 'another quasar',
          createdAt: '2025-01-01T00:00:01.000000Z',
          metadata: {},
        },
      ]);
      expect(await found(store, 'quasar')).toEqual(['a1', 'b1']);
      await store.deleteSession('a');
      expect(await found(store, 'quasar')).toEqual(['b1']);
      await store.clearAll();
      expect(await found(store, 'quasar')).toEqual([]);
    },
  },
  {
    name: "forOwner - searchMessages never finds another owner's messages",
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      const alice = store.forOwner('alice');
      const bob = store.forOwner('bob');
      await alice.createSession({ id: 'a' });
      await bob.createSession({ id: 'b' });
      await alice.addMessage('a', { id: 'am', role: 'user', content: 'secret plans' });
      await bob.addMessage('b', { id: 'bm', role: 'user', content: 'secret recipes' });
      expect(await found(alice, 'secret')).toEqual(['am']);
      expect(await found(bob, 'secret')).toEqual(['bm']);
      expect(await found(bob, 'secret', { sessionId: 'a' })).toEqual([]);
      expect(await found(store, 'secret')).toEqual(['am', 'bm']);
    },
    onView: {
      name: "forOwner - searchMessages on the view never finds another owner's or unowned messages",
      async run({ open, unscoped }) {
        const view = await open();
        // The seeded messages of the other owner and of no owner hold the word `secret` too.
        await view.createSession({ id: 'a' });
        await view.addMessage('a', { id: 'am', role: 'user', content: 'secret plans' });
        expect(await found(view, 'secret')).toEqual(['am']);
        for (const sessionId of SEEDED_SESSION_IDS) {
          expect(await found(view, 'secret', { sessionId }), sessionId).toEqual([]);
        }
        expect(await found(unscoped(view), 'secret')).toEqual([
          'am',
          'no-owner-1-m1',
          'other-owner-1-m1',
          'other-owner-1-m2',
        ]);
      },
    },
  },
  {
    name: 'searchMessages - a malformed query is a ValidationError on query',
    async run({ open }) {
      const store = await open();
      const refused = { code: 'VALIDATION_FAILED', field: 'query' } as const;
      await expectMemoryError(() => store.searchMessages(''), refused);
      await expectMemoryError(() => store.searchMessages('   '), refused);
      await expectMemoryError(() => store.searchMessages('"unterminated'), refused);
      await expectMemoryError(() => store.searchMessages('!!! ??? 🚀'), refused);
      await expectMemoryError(() => store.searchMessages('a'.repeat(1001)), refused);
      await expectMemoryError(
        () => store.searchMessages(Array.from({ length: 33 }, (_, i) => `w${i}`).join(' ')),
        refused,
      );
      await expectMemoryError(() => store.searchMessages(42 as never), refused);
      await expectMemoryError(() => store.searchMessages('ok', { limit: 0 }), {
        code: 'VALIDATION_FAILED',
        field: 'limit',
      });
      await expectMemoryError(() => store.searchMessages('ok', { cursor: 'nope' }), {
        code: 'VALIDATION_FAILED',
        field: 'cursor',
      });
      await expectMemoryError(() => store.searchMessages('ok', { role: '' }), {
        code: 'VALIDATION_FAILED',
        field: 'role',
      });
    },
  },
];
