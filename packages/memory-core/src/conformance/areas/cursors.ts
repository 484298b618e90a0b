import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import {
  type CursorBinding,
  encodeHistoryCursor,
  encodeSearchCursor,
  encodeSessionCursor,
} from '../../cursor.js';
import { InMemoryConversationMemory } from '../../in-memory/in-memory-memory.js';
import type { SessionFilter } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { OTHER_OWNER } from '../owner-view-seed.js';

const FIELD_OF = { history: 'before', sessions: 'cursor', search: 'cursor' } as const;

/** Expects each cursor to be refused by `listing` with a `ValidationError` on its cursor field. */
async function expectRefused(
  store: ConversationMemory,
  listing: keyof typeof FIELD_OF,
  cursors: readonly string[],
  options: { sessionId?: string; where?: SessionFilter; query?: string } = {},
): Promise<void> {
  for (const cursor of cursors) {
    const call =
      listing === 'history'
        ? () => store.getHistoryPage(options.sessionId ?? 'a', { limit: 1, before: cursor })
        : listing === 'sessions'
          ? () =>
              store.getSessionsPage({ limit: 1, cursor, ...(options.where ? { where: options.where } : {}) })
          : () => store.searchMessages(options.query ?? 'hello', { limit: 1, cursor });
    await expectMemoryError(call, { code: 'VALIDATION_FAILED', field: FIELD_OF[listing] });
  }
}

/** Two sessions of three messages each, all holding the word `hello`. */
async function twoSessions(store: ConversationMemory): Promise<void> {
  for (const id of ['a', 'b']) {
    await store.createSession({ id, metadata: { team: id, all: true } });
    for (let i = 0; i < 3; i++) await store.addMessage(id, { role: 'user', content: `hello ${id} ${i}` });
  }
}

/** Cursors as a forger would write them, well formed and bound to `binding`, holding `position`. */
function forged(binding: CursorBinding): string[] {
  const at = '2025-03-01T14:32:01.117364Z';
  const history = { ...binding, filter: null };
  const sessions = { ...binding, sessionId: null, filter: null };
  return [
    encodeHistoryCursor(history, { createdAt: at, seq: 1.5 }),
    encodeHistoryCursor(history, { createdAt: '2025-03-01 14:32:01', seq: 1 }),
    encodeHistoryCursor(history, { createdAt: `${at}\u0000`, seq: 1 }),
    encodeSessionCursor(sessions, { createdAt: at, id: 'a\u0000b' }),
    encodeSessionCursor(sessions, { createdAt: at, id: '\uD800' }),
    encodeSessionCursor(sessions, { createdAt: at, id: 'x'.repeat(5000) }),
    encodeSearchCursor({ ...binding, sessionId: null, filter: null }, -1),
  ];
}

/** Raw bytes no listing ever returns: U+0000, huge, not base64url, nested JSON, wrong shapes. */
const GARBAGE: readonly string[] = [
  '\u0000',
  'abc\u0000def',
  'A'.repeat(1_000_000),
  Buffer.from(JSON.stringify(['h', 'x'.repeat(100_000)])).toString('base64url'),
  '***not base64***',
  'eyJ9',
  '',
  Buffer.from('{"h": [1, 2, 3]}').toString('base64url'),
  Buffer.from(JSON.stringify(['s', { a: [[[['deep']]]] }, ['x'], { id: 'a' }])).toString('base64url'),
  Buffer.from(`${'['.repeat(500)}${']'.repeat(500)}`).toString('base64url'),
  Buffer.from(JSON.stringify(['h', null, '2025-03-01T14:32:01.117364Z', 1])).toString('base64url'),
  Buffer.from('\u0000\u0000\u0000').toString('base64url'),
];

/**
 * A cursor belongs to one listing: one backend, one owner view, one session (history), one metadata filter
 * (sessions), one query with its options (search). Anything else given as a cursor, whatever bytes it holds,
 * is a `ValidationError` on the cursor's field, never a wrong page and never a driver error.
 */
export const cursorCases: ConformanceCase[] = [
  {
    name: 'getHistoryPage - a cursor of another session is a ValidationError on before, not a page of it',
    async run({ open }) {
      const store = await open();
      await twoSessions(store);
      const ofA = (await store.getHistoryPage('a', { limit: 1 })).nextCursor!;
      const ofB = (await store.getHistoryPage('b', { limit: 1 })).nextCursor!;
      await expectRefused(store, 'history', [ofA], { sessionId: 'b' });
      await expectRefused(store, 'history', [ofB], { sessionId: 'a' });
      await expectRefused(store, 'history', [ofA], { sessionId: 'missing' });
      // Each still works on its own session.
      expect(
        (await store.getHistoryPage('a', { limit: 5, before: ofA })).items.map((m) => m.content),
      ).toEqual(['hello a 0', 'hello a 1']);
    },
  },
  {
    name: 'forOwner - a history or sessions cursor read through another owner view is a ValidationError',
    async run({ open }) {
      const store = await open();
      const mine = store.forOwner('owner-1');
      const theirs = store.forOwner('owner-2');
      for (const [view, id] of [
        [mine, 'm'],
        [theirs, 't'],
      ] as const) {
        for (let i = 0; i < 3; i++) await view.createSession({ id: `${id}${i}` });
        for (let i = 0; i < 3; i++) await view.addMessage(`${id}0`, { role: 'user', content: `${i}` });
      }
      const sessionsOfMine = (await mine.getSessionsPage({ limit: 1 })).nextCursor!;
      const historyOfMine = (await mine.getHistoryPage('m0', { limit: 1 })).nextCursor!;
      await expectRefused(theirs, 'sessions', [sessionsOfMine]);
      await expectRefused(store, 'sessions', [sessionsOfMine]);
      await expectRefused(store, 'history', [historyOfMine], { sessionId: 'm0' });
      expect((await mine.getSessionsPage({ limit: 5, cursor: sessionsOfMine })).items).toHaveLength(2);
    },
    onView: {
      name: "forOwner - a cursor of the view is a ValidationError in another owner's view and in the unscoped store, and theirs in the view",
      async run({ open, unscoped }) {
        const view = await open();
        for (let i = 0; i < 3; i++) await view.createSession({ id: `m${i}` });
        for (let i = 0; i < 3; i++) await view.addMessage('m0', { role: 'user', content: `${i}` });
        const store = unscoped(view);
        const theirs = store.forOwner(OTHER_OWNER);
        const sessionsOfMine = (await view.getSessionsPage({ limit: 1 })).nextCursor!;
        const historyOfMine = (await view.getHistoryPage('m0', { limit: 1 })).nextCursor!;
        const sessionsOfTheirs = (await theirs.getSessionsPage({ limit: 1 })).nextCursor!;
        const historyOfTheirs = (await theirs.getHistoryPage('other-owner-1', { limit: 1 })).nextCursor!;
        await expectRefused(theirs, 'sessions', [sessionsOfMine]);
        await expectRefused(store, 'sessions', [sessionsOfMine]);
        await expectRefused(store, 'history', [historyOfMine], { sessionId: 'm0' });
        await expectRefused(view, 'sessions', [sessionsOfTheirs]);
        await expectRefused(view, 'history', [historyOfTheirs], { sessionId: 'other-owner-1' });
        await expectRefused(view, 'history', [historyOfTheirs], { sessionId: 'm0' });
        expect((await view.getSessionsPage({ limit: 5, cursor: sessionsOfMine })).items).toHaveLength(2);
      },
    },
  },
  {
    name: 'getSessionsPage - a cursor of another metadata filter, or of the unfiltered listing, is a ValidationError on cursor',
    needs: ['metadataFilter'],
    async run({ open }) {
      const store = await open();
      await twoSessions(store);
      await store.createSession({ id: 'c', metadata: { all: true } });
      const unfiltered = (await store.getSessionsPage({ limit: 1 })).nextCursor!;
      const all = (await store.getSessionsPage({ limit: 1, where: { metadata: { all: true } } })).nextCursor!;
      await expectRefused(store, 'sessions', [unfiltered], { where: { metadata: { all: true } } });
      await expectRefused(store, 'sessions', [all]);
      await expectRefused(store, 'sessions', [all], { where: { metadata: { team: 'a' } } });
      // The same filter with its keys in another order is the same listing.
      const two = { metadata: { all: true, team: 'b' } };
      const first = await store.getSessionsPage({ limit: 1, where: { metadata: { all: true } } });
      expect(first.items.map((s) => s.id)).toEqual(['c']);
      const next = await store.getSessionsPage({ limit: 5, cursor: all, where: { metadata: { all: true } } });
      expect(next.items.map((s) => s.id)).toEqual(['b', 'a']);
      expect((await store.getSessionsPage({ limit: 5, where: two })).items.map((s) => s.id)).toEqual(['b']);
      const reordered = (
        await store.getSessionsPage({ limit: 1, where: { metadata: { team: 'b', all: true } } })
      ).nextCursor;
      expect(reordered).toBeNull();
    },
  },
  {
    name: 'searchMessages - a cursor of another listing kind, query or option is a ValidationError, and so in history and sessions pages',
    needs: ['fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await twoSessions(store);
      const history = (await store.getHistoryPage('a', { limit: 1 })).nextCursor!;
      const sessions = (await store.getSessionsPage({ limit: 1 })).nextCursor!;
      const search = (await store.searchMessages('hello', { limit: 1 })).nextCursor!;
      await expectRefused(store, 'history', [sessions, search]);
      await expectRefused(store, 'sessions', [history, search]);
      await expectRefused(store, 'search', [history, sessions]);
      // Another query, or the same query with other options, is another listing.
      await expectRefused(store, 'search', [search], { query: 'hello a' });
      await expectMemoryError(
        () => store.searchMessages('hello', { limit: 1, cursor: search, sessionId: 'a' }),
        {
          code: 'VALIDATION_FAILED',
          field: 'cursor',
        },
      );
      expect((await store.searchMessages('hello', { limit: 2, cursor: search })).items).toHaveLength(2);
    },
  },
  {
    name: 'getHistoryPage - a cursor of another backend is a ValidationError, and so in sessions pages',
    async run({ open, ownerId }) {
      const store = await open();
      await twoSessions(store);
      const { backend } = await store.check();
      if (backend === undefined) throw new Error('check() reports no backend');
      const other = backend === 'memory' ? 'another-backend' : 'memory';
      const historyElsewhere = encodeHistoryCursor(
        { backend: other, ownerId, sessionId: 'a', filter: null },
        { createdAt: '2099-01-01T00:00:00.000000Z', seq: 1 },
      );
      const sessionsElsewhere = encodeSessionCursor(
        { backend: other, ownerId, sessionId: null, filter: null },
        { createdAt: '2099-01-01T00:00:00.000000Z', id: 'b' },
      );
      await expectRefused(store, 'history', [historyElsewhere]);
      await expectRefused(store, 'sessions', [sessionsElsewhere]);
      if (backend !== 'memory') {
        // A real cursor of the in-memory reference, over the same data.
        // Read through a view of the same owner in view mode, so that only the backend differs.
        const referenceStore = new InMemoryConversationMemory();
        const reference = ownerId === null ? referenceStore : referenceStore.forOwner(ownerId);
        try {
          await twoSessions(reference);
          await expectRefused(store, 'history', [
            (await reference.getHistoryPage('a', { limit: 1 })).nextCursor!,
          ]);
          await expectRefused(store, 'sessions', [
            (await reference.getSessionsPage({ limit: 1 })).nextCursor!,
          ]);
        } finally {
          await referenceStore.close();
        }
      }
    },
  },
  {
    name: 'getSessionsPage - forged cursors (U+0000, huge, not base64, nested JSON) are a ValidationError in every listing, never a driver error',
    async run({ open, ownerId }) {
      const store = await open();
      await twoSessions(store);
      const { backend } = await store.check();
      // Bound to this very listing (backend and owner), so that only the forged content can be refused.
      const binding: CursorBinding = { backend: backend ?? '', ownerId, sessionId: 'a', filter: null };
      const cursors = [...GARBAGE, ...forged(binding)];
      await expectRefused(store, 'history', cursors);
      await expectRefused(store, 'sessions', cursors);
      if (store.capabilities.fullTextSearch) await expectRefused(store, 'search', cursors);
      // The store is still fine.
      expect((await store.getHistory('a')).map((m) => m.content)).toEqual([
        'hello a 0',
        'hello a 1',
        'hello a 2',
      ]);
    },
  },
];
