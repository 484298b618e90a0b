import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { Metadata, SessionSummary } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { VIEW_OWNER } from '../owner-view-seed.js';

const ids = (sessions: readonly SessionSummary[]) => sessions.map((s) => s.id).sort();

/** Sessions whose metadata exercises every rule of containment, including the traps of a term index. */
const CORPUS: Record<string, Metadata> = {
  plain: { userId: 'u1', channel: 'web' },
  nested: { userId: 'u1', settings: { lang: 'ja', theme: { dark: true } } },
  tags: { userId: 'u2', tags: ['billing', 'urgent', 3] },
  objects: {
    items: [
      { sku: 'a', qty: 1 },
      { sku: 'b', qty: 2 },
    ],
  },
  types: { n: 1, s: '1', b: false, z: null },
  floats: { score: 0.5, big: 9_007_199_254_740_000 },
  unicode: { 名前: '東京', emoji: '🚀', ключ: 'значение' },
  tricky: { "it's": 'a "quote"', 'a.b': '$[0]', '%_': '\\' },
  empty: {},
};

async function withCorpus(store: ConversationMemory): Promise<void> {
  for (const [id, metadata] of Object.entries(CORPUS)) await store.createSession({ id, metadata });
}

async function matching(store: ConversationMemory, metadata: Metadata): Promise<string[]> {
  return ids(await store.getSessions({ where: { metadata }, limit: 1000 }));
}

/** `where.metadata` on `getSessions` and `getSessionsPage`: JSON containment, as PostgreSQL's `@>`. */
export const filterCases: ConformanceCase[] = [
  {
    name: 'getSessions - where.metadata returns exactly the sessions whose metadata contains it',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, { userId: 'u1' })).toEqual(['nested', 'plain']);
      expect(await matching(store, { userId: 'u1', channel: 'web' })).toEqual(['plain']);
      expect(await matching(store, { settings: { lang: 'ja' } })).toEqual(['nested']);
      expect(await matching(store, { settings: { theme: { dark: true } } })).toEqual(['nested']);
      expect(await matching(store, { settings: {} })).toEqual(['nested']);
      expect(await matching(store, { userId: 'nobody' })).toEqual([]);
      expect(await matching(store, { channel: 'web', missing: 1 })).toEqual([]);
    },
  },
  {
    name: 'getSessions - where.metadata compares JSON types exactly (1 is not "1", false is not null)',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, { n: 1 })).toEqual(['types']);
      expect(await matching(store, { n: '1' })).toEqual([]);
      expect(await matching(store, { s: '1' })).toEqual(['types']);
      expect(await matching(store, { s: 1 })).toEqual([]);
      expect(await matching(store, { b: false })).toEqual(['types']);
      expect(await matching(store, { b: null })).toEqual([]);
      expect(await matching(store, { z: null })).toEqual(['types']);
      expect(await matching(store, { score: 0.5, big: 9_007_199_254_740_000 })).toEqual(['floats']);
    },
  },
  {
    name: 'getSessions - where.metadata arrays contain every given element in any order',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, { tags: ['urgent'] })).toEqual(['tags']);
      expect(await matching(store, { tags: ['urgent', 'billing'] })).toEqual(['tags']);
      expect(await matching(store, { tags: [3] })).toEqual(['tags']);
      expect(await matching(store, { tags: [] })).toEqual(['tags']);
      expect(await matching(store, { tags: ['urgent', 'other'] })).toEqual([]);
      expect(await matching(store, { tags: 'urgent' })).toEqual([]);
    },
  },
  {
    name: 'getSessions - where.metadata needs one array element to hold every key of an object it gives',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, { items: [{ sku: 'a', qty: 1 }] })).toEqual(['objects']);
      expect(await matching(store, { items: [{ sku: 'b' }, { qty: 1 }] })).toEqual(['objects']);
      // sku 'a' and qty 2 exist, but in different elements: no element contains both.
      expect(await matching(store, { items: [{ sku: 'a', qty: 2 }] })).toEqual([]);
    },
  },
  {
    name: 'getSessions - where.metadata matches unicode and punctuation in keys and values literally',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, { 名前: '東京' })).toEqual(['unicode']);
      expect(await matching(store, { emoji: '🚀', ключ: 'значение' })).toEqual(['unicode']);
      expect(await matching(store, { "it's": 'a "quote"' })).toEqual(['tricky']);
      expect(await matching(store, { 'a.b': '$[0]' })).toEqual(['tricky']);
      expect(await matching(store, { '%_': '\\' })).toEqual(['tricky']);
      // Path syntax in a key is a key, never a path into the document.
      expect(await matching(store, { 'settings.lang': 'ja' })).toEqual([]);
      expect(await matching(store, { '%_': '%' })).toEqual([]);
    },
  },
  {
    name: 'getSessions - where.metadata {} matches every session',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await withCorpus(store);
      expect(await matching(store, {})).toEqual(Object.keys(CORPUS).sort());
    },
  },
  {
    name: 'getSessions - where.metadata keeps the activity order, limit and offset over the matches',
    needs: ['metadataFilter', 'clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (let i = 0; i < 12; i++) {
        await store.createSession({ id: `s${String(i).padStart(2, '0')}`, metadata: { even: i % 2 === 0 } });
        clock.advance(1);
      }
      await store.addMessage('s02', { role: 'user', content: 'bump' });
      const first = await store.getSessions({ where: { metadata: { even: true } }, limit: 4 });
      const second = await store.getSessions({ where: { metadata: { even: true } }, limit: 4, offset: 4 });
      expect(first.map((s) => s.id)).toEqual(['s02', 's10', 's08', 's06']);
      expect(second.map((s) => s.id)).toEqual(['s04', 's00']);
    },
  },
  {
    name: 'getSessionsPage - where.metadata pages through the matches only',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      for (let i = 0; i < 25; i++) {
        await store.createSession({
          id: `p${String(i).padStart(2, '0')}`,
          metadata: { team: i % 3 === 0 ? 'a' : 'b' },
        });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<ConversationMemory['getSessionsPage']>> = await store.getSessionsPage({
          limit: 3,
          cursor,
          where: { metadata: { team: 'a' } },
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(seen.sort()).toEqual(['p00', 'p03', 'p06', 'p09', 'p12', 'p15', 'p18', 'p21', 'p24']);
    },
  },
  {
    name: 'getSessions - where is validated like metadata and unknown filters are refused',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'kept' });
      const where = (value: unknown) => ({ where: value }) as never;
      await expectMemoryError(() => store.getSessions(where('x')), {
        code: 'VALIDATION_FAILED',
        field: 'where',
      });
      await expectMemoryError(() => store.getSessions(where({ metadata: [1] })), {
        code: 'VALIDATION_FAILED',
        field: 'where.metadata',
      });
      await expectMemoryError(() => store.getSessions(where({ metadata: { a: Number.NaN } })), {
        code: 'VALIDATION_FAILED',
        field: 'where.metadata.a',
      });
      await expectMemoryError(() => store.getSessions(where({ title: 'x' })), {
        code: 'VALIDATION_FAILED',
        field: 'where.title',
      });
      await expectMemoryError(() => store.getSessionsPage(where({ metadata: 'x' })), {
        code: 'VALIDATION_FAILED',
        field: 'where.metadata',
      });
    },
  },
  {
    name: "forOwner - where.metadata never returns another owner's sessions",
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await store.forOwner('alice').createSession({ id: 'a', metadata: { topic: 'x' } });
      await store.forOwner('bob').createSession({ id: 'b', metadata: { topic: 'x' } });
      expect(ids(await store.forOwner('alice').getSessions({ where: { metadata: { topic: 'x' } } }))).toEqual(
        ['a'],
      );
      const page = await store.forOwner('bob').getSessionsPage({ where: { metadata: { topic: 'x' } } });
      expect(ids(page.items)).toEqual(['b']);
      expect(await matching(store, { topic: 'x' })).toEqual(['a', 'b']);
    },
    onView: {
      name: "forOwner - where.metadata on the view never returns another owner's or unowned sessions",
      async run({ open, unscoped }) {
        const view = await open();
        // The seeded sessions of the other owner and of no owner hold { topic: 'x' } too.
        await view.createSession({ id: 'a', metadata: { topic: 'x' } });
        expect(ids(await view.getSessions({ where: { metadata: { topic: 'x' } } }))).toEqual(['a']);
        expect(ids(await view.getSessions({ where: { metadata: {} } }))).toEqual(['a']);
        const page = await view.getSessionsPage({ where: { metadata: { topic: 'x' } } });
        expect(ids(page.items)).toEqual(['a']);
        const all = await unscoped(view).getSessions({ where: { metadata: { topic: 'x' } } });
        expect(all.map((s) => [s.id, s.ownerId]).sort()).toEqual([
          ['a', VIEW_OWNER],
          ['no-owner-1', null],
          ['other-owner-1', 'owner-b'],
        ]);
      },
    },
  },
  {
    name: 'capabilities - what a store declares works, what it lacks throws UnsupportedCapabilityError',
    async run({ open }) {
      const store = await open();
      const { metadataFilter, fullTextSearch } = store.capabilities;
      expect(typeof metadataFilter).toBe('boolean');
      expect(typeof fullTextSearch).toBe('boolean');
      await store.createSession({ id: 's', metadata: { k: 1 } });
      await store.addMessage('s', { role: 'user', content: 'hello world' });
      if (metadataFilter) {
        expect(ids(await store.getSessions({ where: { metadata: { k: 1 } } }))).toEqual(['s']);
      } else {
        await expectMemoryError(() => store.getSessions({ where: { metadata: { k: 1 } } }), {
          code: 'CAPABILITY_UNSUPPORTED',
        });
      }
      if (fullTextSearch) {
        expect((await store.searchMessages('hello')).items).toHaveLength(1);
      } else {
        await expectMemoryError(() => store.searchMessages('hello'), { code: 'CAPABILITY_UNSUPPORTED' });
      }
    },
  },
];
