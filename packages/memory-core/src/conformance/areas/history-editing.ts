import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import { ConflictError, type ConflictReason } from '../../errors.js';
import { messageDigest } from '../../message-digest.js';
import type { NewMessage } from '../../types.js';
import type { ConformanceCase, ConformanceContext } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { SEEDED_MESSAGE_IDS, SEEDED_SESSION_IDS } from '../owner-view-seed.js';
import { snapshotStore } from '../store-snapshot.js';

const user = (id: string, content = id): NewMessage => ({ id, role: 'user', content });

/** A session `s` holding messages `ids`, in that order. */
async function sessionWith(store: ConversationMemory, ids: readonly string[], sessionId = 's') {
  await store.createSession({ id: sessionId });
  for (const id of ids) await store.addMessage(sessionId, user(id));
}

async function idsOf(store: ConversationMemory, sessionId = 's'): Promise<string[]> {
  return (await store.getHistory(sessionId)).map((m) => m.id);
}

/** The call must fail with a `ConflictError` of `reason` and leave the whole store as it was. */
async function expectConflict(
  store: ConversationMemory,
  reason: ConflictReason,
  action: () => Promise<unknown>,
): Promise<ConflictError> {
  const before = await snapshotStore(store);
  const error = await expectMemoryError(action, { code: 'CONFLICT' });
  expect(ConflictError.isInstance(error)).toBe(true);
  expect((error as ConflictError).reason).toBe(reason);
  expect(await snapshotStore(store)).toEqual(before);
  return error as ConflictError;
}

async function summaryOf(store: ConversationMemory, sessionId = 's') {
  const summary = (await store.getSessions()).find((s) => s.id === sessionId);
  expect(summary).toBeDefined();
  return summary!;
}

/** Message count and lastMessageAt of the listing agree with the history, whatever was edited. */
async function expectExactSummary(store: ConversationMemory, sessionId = 's'): Promise<void> {
  const history = await store.getHistory(sessionId);
  const summary = await summaryOf(store, sessionId);
  expect(summary.messageCount).toBe(history.length);
  expect(summary.lastMessageAt).toEqual(history.length === 0 ? null : history[history.length - 1]!.createdAt);
}

const NEEDS: ConformanceCase['needs'] = ['historyEditing'];
const NEEDS_CLOCK: ConformanceCase['needs'] = ['historyEditing', 'clock'];

export const historyEditingCases: readonly ConformanceCase[] = [
  // ---- upsertMessages ----
  {
    name: 'upsertMessages - appends messages without ids and with new ids, in order, and returns one id per message',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a']);
      const result = await store.upsertMessages('s', [{ role: 'user', content: 'x' }, user('b'), user('c')]);
      expect(result).toMatchObject({ appended: 3, replaced: 0, unchanged: 0 });
      expect(result.ids).toHaveLength(3);
      expect(result.ids.slice(1)).toEqual(['b', 'c']);
      expect(await idsOf(store)).toEqual(['a', ...result.ids]);
      await expectExactSummary(store);
    },
  },
  {
    name: 'upsertMessages - replaces a stored id in place: position and createdAt kept, fields changed, updatedAt moved',
    needs: NEEDS_CLOCK,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await sessionWith(store, ['a']);
      clock.advance(10);
      await store.addMessage('s', user('b'));
      clock.advance(10);
      await store.addMessage('s', user('c'));
      const [, before] = await store.getHistory('s');
      clock.advance(1_000);
      const result = await store.upsertMessages('s', [
        { id: 'b', role: 'assistant', content: 'edited', metadata: { v: 2 } },
      ]);
      expect(result).toEqual({ ids: ['b'], appended: 0, replaced: 1, unchanged: 0 });
      const history = await store.getHistory('s');
      expect(history.map((m) => m.id)).toEqual(['a', 'b', 'c']);
      expect(history[1]).toMatchObject({ role: 'assistant', content: 'edited', metadata: { v: 2 } });
      expect(history[1]!.createdAt).toEqual(before!.createdAt);
      expect((await store.getSession('s'))?.updatedAt).toEqual(new Date(clock.time));
      await expectExactSummary(store);
    },
  },
  {
    name: 'upsertMessages - a message equal to the stored one is not written: unchanged, updatedAt kept',
    needs: NEEDS_CLOCK,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      const message = { id: 'a', role: 'user', content: 'same', metadata: { k: [1] } };
      await store.addMessage('s', message);
      const before = await store.getSession('s');
      clock.advance(1_000);
      expect(await store.upsertMessages('s', [message])).toEqual({
        ids: ['a'],
        appended: 0,
        replaced: 0,
        unchanged: 1,
      });
      expect(await store.getSession('s')).toEqual(before);
    },
  },
  {
    name: 'upsertMessages - append, replace and unchanged in one call, each counted, order of the history kept',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b']);
      const result = await store.upsertMessages('s', [user('c'), user('a'), user('b', 'new b'), user('d')]);
      expect(result).toEqual({ ids: ['c', 'a', 'b', 'd'], appended: 2, replaced: 1, unchanged: 1 });
      const history = await store.getHistory('s');
      expect(history.map((m) => [m.id, m.content])).toEqual([
        ['a', 'a'],
        ['b', 'new b'],
        ['c', 'c'],
        ['d', 'd'],
      ]);
      await expectExactSummary(store);
    },
  },
  {
    name: 'upsertMessages - an id repeated within the call is a ValidationError on messages[i].id, nothing written',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a']);
      const before = await snapshotStore(store);
      await expectMemoryError(() => store.upsertMessages('s', [user('x'), user('y'), user('x')]), {
        code: 'VALIDATION_FAILED',
        field: 'messages[2].id',
      });
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'upsertMessages - a missing session is a SessionNotFoundError, nothing written',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await expectMemoryError(() => store.upsertMessages('nope', [user('a')]), { code: 'SESSION_NOT_FOUND' });
      expect(await store.getHistory('nope')).toEqual([]);
    },
  },
  {
    name: 'upsertMessages - ifLastId writes only when the latest message has that id (null: an empty history)',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.upsertMessages('s', [user('a')], { ifLastId: null });
      await expectConflict(store, 'last-id', () =>
        store.upsertMessages('s', [user('b')], { ifLastId: null }),
      );
      await expectConflict(store, 'last-id', () =>
        store.upsertMessages('s', [user('b')], { ifLastId: 'zzz' }),
      );
      await store.upsertMessages('s', [user('b')], { ifLastId: 'a' });
      expect(await idsOf(store)).toEqual(['a', 'b']);
    },
  },
  {
    name: 'upsertMessages - an operationId replay returns the first result and changes nothing, even after other writes',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const first = await store.upsertMessages('s', [{ role: 'user', content: 'no id' }, user('b')], {
        operationId: 'op-1',
      });
      await store.addMessage('s', user('later'));
      const before = await snapshotStore(store);
      // Generated ids are part of the stored result: the replay returns them, not new ones.
      expect(
        await store.upsertMessages('s', [{ role: 'user', content: 'no id' }, user('b')], {
          operationId: 'op-1',
        }),
      ).toEqual(first);
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'upsertMessages - an operationId reused for another request is a ConflictError (operation-reused)',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.upsertMessages('s', [user('a')], { operationId: 'op' });
      await expectConflict(store, 'operation-reused', () =>
        store.upsertMessages('s', [user('a', 'other')], { operationId: 'op' }),
      );
      await expectConflict(store, 'operation-reused', () =>
        store.rewriteHistory('s', { after: null, messages: [], operationId: 'op' }),
      );
      // Operation ids belong to their session: the same id elsewhere is a new operation.
      await store.createSession({ id: 't' });
      expect(await store.upsertMessages('t', [user('z')], { operationId: 'op' })).toMatchObject({
        appended: 1,
      });
    },
  },
  {
    name: 'upsertMessages - the latest 1,000 operations of a session are kept: the oldest of them still replays',
    needs: NEEDS,
    timeoutFactor: 10,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const first = await store.upsertMessages('s', [user('m-0')], { operationId: 'op-0' });
      for (let i = 1; i < 1_000; i++) {
        await store.upsertMessages('s', [user(`m-${i}`)], { operationId: `op-${i}` });
      }
      expect(await store.upsertMessages('s', [user('m-0')], { operationId: 'op-0' })).toEqual(first);
      expect((await summaryOf(store)).messageCount).toBe(1_000);
    },
  },
  {
    name: 'upsertMessages - validates operationId and ifLastId',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (const operationId of ['', 'o'.repeat(256), 7]) {
        await expectMemoryError(
          () => store.upsertMessages('s', [user('a')], { operationId: operationId as string }),
          { code: 'VALIDATION_FAILED', field: 'operationId' },
        );
      }
      await expectMemoryError(() => store.upsertMessages('s', [user('a')], { ifLastId: '' }), {
        code: 'VALIDATION_FAILED',
        field: 'ifLastId',
      });
      await expectMemoryError(() => store.upsertMessages('s', 'no' as unknown as NewMessage[]), {
        code: 'VALIDATION_FAILED',
        field: 'messages',
      });
      expect(await store.getHistory('s')).toEqual([]);
    },
  },
  // ---- addMessage retries ----
  {
    name: 'addMessage - an id already stored in the session with equal fields resolves to it and writes nothing',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const message = { id: 'm', role: 'user', content: 'retry me', metadata: { a: 1 } };
      await store.addMessage('s', message);
      const before = await snapshotStore(store);
      expect(await store.addMessage('s', message)).toBe('m');
      expect(await snapshotStore(store)).toEqual(before);
      const error = await expectConflict(store, 'exists', () =>
        store.addMessage('s', { ...message, content: 'different' }),
      );
      expect(error.entity).toBe('message');
    },
  },
  // ---- rewriteHistory ----
  {
    name: 'rewriteHistory - removes every message after `after` and appends, returning removed and appended ids',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b', 'c', 'd']);
      const result = await store.rewriteHistory('s', {
        after: 'b',
        messages: [user('c', 'new c'), user('e')],
      });
      expect(result).toEqual({ removed: ['c', 'd'], ids: ['c', 'e'] });
      expect((await store.getHistory('s')).map((m) => [m.id, m.content])).toEqual([
        ['a', 'a'],
        ['b', 'b'],
        ['c', 'new c'],
        ['e', 'e'],
      ]);
      await expectExactSummary(store);
    },
  },
  {
    name: 'rewriteHistory - after null replaces the whole history; an empty rewrite of an empty suffix is allowed',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b']);
      expect(await store.rewriteHistory('s', { after: null, messages: [user('z')] })).toEqual({
        removed: ['a', 'b'],
        ids: ['z'],
      });
      expect(await store.rewriteHistory('s', { after: 'z', messages: [] })).toEqual({ removed: [], ids: [] });
      expect(await idsOf(store)).toEqual(['z']);
      expect(await store.rewriteHistory('s', { after: null, messages: [] })).toEqual({
        removed: ['z'],
        ids: [],
      });
      await expectExactSummary(store);
    },
  },
  {
    name: 'rewriteHistory - `after` not in the history is a ConflictError (after-missing), nothing changed',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b']);
      await sessionWith(store, ['elsewhere'], 't');
      await expectConflict(store, 'after-missing', () =>
        store.rewriteHistory('s', { after: 'zzz', messages: [user('c')] }),
      );
      // An id of another session is not in this one's history.
      await expectConflict(store, 'after-missing', () =>
        store.rewriteHistory('s', { after: 'elsewhere', messages: [] }),
      );
    },
  },
  {
    name: 'rewriteHistory - expectedIds and expectedDigests must be the removed messages in order, else nothing changes',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b', 'c']);
      await expectConflict(store, 'expected-ids', () =>
        store.rewriteHistory('s', { after: 'a', expectedIds: ['c', 'b'], messages: [] }),
      );
      await expectConflict(store, 'expected-ids', () =>
        store.rewriteHistory('s', { after: 'a', expectedIds: ['b'], messages: [] }),
      );
      const digests = await store.getHistoryDigests('s');
      await expectConflict(store, 'expected-ids', () =>
        store.rewriteHistory('s', {
          after: 'a',
          expectedDigests: [digests[1]!.digest, messageDigest(user('other'))],
          messages: [],
        }),
      );
      const result = await store.rewriteHistory('s', {
        after: 'a',
        expectedIds: ['b', 'c'],
        expectedDigests: digests.slice(1).map((d) => d.digest),
        messages: [user('d')],
      });
      expect(result).toEqual({ removed: ['b', 'c'], ids: ['d'] });
    },
  },
  {
    name: 'rewriteHistory - a message reusing the id of a kept message is a ConflictError, nothing changed',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b']);
      const before = await snapshotStore(store);
      await expectMemoryError(() => store.rewriteHistory('s', { after: 'a', messages: [user('a')] }), {
        code: 'CONFLICT',
      });
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'rewriteHistory - an operationId replay returns the first result although the suffix changed since',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await sessionWith(store, ['a', 'b']);
      const input = { after: 'a', expectedIds: ['b'], messages: [user('c')], operationId: 'regen-1' };
      const first = await store.rewriteHistory('s', input);
      await store.addMessage('s', user('d'));
      const before = await snapshotStore(store);
      expect(await store.rewriteHistory('s', input)).toEqual(first);
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'rewriteHistory - appended messages sort after the kept ones and move updatedAt, with the clock frozen',
    needs: NEEDS_CLOCK,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await sessionWith(store, ['a', 'b', 'c']);
      await store.rewriteHistory('s', { after: 'b', messages: [user('x'), user('y')] });
      expect(await idsOf(store)).toEqual(['a', 'b', 'x', 'y']);
      const page = await store.getHistoryPage('s', { limit: 2 });
      expect(page.items.map((m) => m.id)).toEqual(['x', 'y']);
      clock.advance(500);
      await store.rewriteHistory('s', { after: 'x', messages: [] });
      expect((await store.getSession('s'))?.updatedAt).toEqual(new Date(clock.time));
      await expectExactSummary(store);
    },
  },
  // ---- deleteMessages, popMessage, getHistoryDigests ----
  {
    name: 'deleteMessages - deletes the ids given, ignores unknown ones, returns how many, counts stay exact',
    needs: NEEDS_CLOCK,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await sessionWith(store, ['a', 'b', 'c']);
      await sessionWith(store, ['a'], 't');
      clock.advance(100);
      expect(await store.deleteMessages('s', ['c', 'zzz', 'a', 'c'])).toBe(2);
      expect(await idsOf(store)).toEqual(['b']);
      // The same id in another session is another message.
      expect(await idsOf(store, 't')).toEqual(['a']);
      expect((await store.getSession('s'))?.updatedAt).toEqual(new Date(clock.time));
      await expectExactSummary(store);
      clock.advance(100);
      expect(await store.deleteMessages('s', ['zzz'])).toBe(0);
      expect(await store.deleteMessages('s', [])).toBe(0);
      expect(await store.deleteMessages('nope', ['a'])).toBe(0);
      expect((await store.getSession('s'))?.updatedAt).toEqual(new Date(clock.time - 100));
    },
  },
  {
    name: 'popMessage - removes and returns the latest message; null when there is none or no session',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { id: 'a', role: 'user', content: 'first' });
      await store.addMessage('s', { id: 'b', role: 'assistant', content: 'second', metadata: { k: 1 } });
      const [, latest] = await store.getHistory('s');
      expect(await store.popMessage('s')).toEqual(latest);
      expect(await idsOf(store)).toEqual(['a']);
      await expectExactSummary(store);
      expect((await store.popMessage('s'))?.id).toBe('a');
      expect(await store.popMessage('s')).toBeNull();
      expect(await store.popMessage('nope')).toBeNull();
      await expectExactSummary(store);
    },
  },
  {
    name: 'getHistoryDigests - ids and messageDigest oldest first; [] for an unknown session',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const messages: NewMessage[] = [
        { id: 'a', role: 'user', content: 'hi', metadata: { x: [1, { y: 'z' }] } },
        { id: 'b', role: 'assistant', content: '' },
      ];
      if (store.capabilities.structuredMessages) {
        messages.push({ id: 'c', role: 'assistant', content: 't', payload: { p: [1] }, format: 'f' });
      }
      for (const message of messages) await store.addMessage('s', message);
      expect(await store.getHistoryDigests('s')).toEqual(
        messages.map((m) => ({ id: m.id, digest: messageDigest(m) })),
      );
      expect(new Set((await store.getHistoryDigests('s')).map((d) => d.digest)).size).toBe(messages.length);
      expect(await store.getHistoryDigests('nope')).toEqual([]);
    },
  },
  // ---- cursors and search stay exact ----
  {
    name: 'getHistoryPage - a walk continued after deletes and pops neither repeats nor skips the remaining messages',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      const ids = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, '0')}`);
      await sessionWith(store, ids);
      const first = await store.getHistoryPage('s', { limit: 4 });
      expect(first.items.map((m) => m.id)).toEqual(ids.slice(8));
      await store.deleteMessages('s', ['m07', 'm03', 'm10']);
      await store.popMessage('s');
      const seen: string[] = [];
      let cursor = first.nextCursor;
      while (cursor !== null) {
        const page = await store.getHistoryPage('s', { limit: 3, before: cursor });
        seen.unshift(...page.items.map((m) => m.id));
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(['m00', 'm01', 'm02', 'm04', 'm05', 'm06']);
    },
  },
  {
    name: 'searchMessages - deleted, popped and rewritten messages are no longer found; replaced ones by their new text',
    needs: ['historyEditing', 'fullTextSearch'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (const id of ['a', 'b', 'c', 'd', 'e']) {
        await store.addMessage('s', { id, role: 'user', content: `needle ${id}` });
      }
      await store.deleteMessages('s', ['b']);
      await store.popMessage('s');
      await store.rewriteHistory('s', { after: 'c', messages: [] });
      await store.upsertMessages('s', [{ id: 'a', role: 'user', content: 'haystack only' }]);
      const found = (await store.searchMessages('needle', { sessionId: 's' })).items.map((h) => h.message.id);
      expect(found).toEqual(['c']);
      const replaced = (await store.searchMessages('haystack', { sessionId: 's' })).items;
      expect(replaced.map((h) => h.message.id)).toEqual(['a']);
    },
  },
  // ---- owners ----
  {
    name: "upsertMessages - another owner's view finds nothing to edit in a session it does not own",
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'bobs', ownerId: 'bob' });
      await store.addMessage('bobs', user('m'));
      await expectNothingToEdit(store, store.forOwner('alice'), 'bobs', 'm');
    },
    onView: {
      name: "upsertMessages - the view finds nothing to edit in another owner's (or no owner's) sessions",
      async run({ open, unscoped }) {
        const view = await open();
        for (const [i, sessionId] of [SEEDED_SESSION_IDS[0], SEEDED_SESSION_IDS[2]].entries()) {
          const messageId = [SEEDED_MESSAGE_IDS[0], SEEDED_MESSAGE_IDS[2]][i]!;
          await expectNothingToEdit(unscoped(view), view, sessionId, messageId);
        }
      },
    },
  },
  {
    name: 'addMessage - a conflict names only ids the caller gave, never another session or owner',
    needs: NEEDS,
    async run(context: ConformanceContext) {
      const store = await context.open();
      await sessionWith(store, ['secret-other-id'], 'other-session');
      await sessionWith(store, ['m'], 's');
      const error = await expectMemoryError(() => store.addMessage('s', user('m', 'changed')), {
        code: 'CONFLICT',
      });
      expect(error.message).toContain('"m"');
      expect(error.message).not.toContain('other-session');
      expect(error.message).not.toContain('secret-other-id');
      const rewrite = await expectMemoryError(
        () => store.rewriteHistory('s', { after: 'secret-other-id', messages: [] }),
        { code: 'CONFLICT' },
      );
      expect(rewrite.message).not.toContain('other-session');
      for (const seeded of [...SEEDED_SESSION_IDS, ...SEEDED_MESSAGE_IDS]) {
        expect(error.message).not.toContain(seeded);
        expect(rewrite.message).not.toContain(seeded);
      }
    },
  },
];

/** Every editing method through `view` on `sessionId` (not its owner's) finds nothing and changes nothing. */
async function expectNothingToEdit(
  unscoped: ConversationMemory,
  view: ConversationMemory,
  sessionId: string,
  messageId: string,
): Promise<void> {
  const before = await snapshotStore(unscoped);
  await expectMemoryError(() => view.upsertMessages(sessionId, [user('x')]), { code: 'SESSION_NOT_FOUND' });
  await expectMemoryError(() => view.rewriteHistory(sessionId, { after: null, messages: [] }), {
    code: 'SESSION_NOT_FOUND',
  });
  expect(await view.deleteMessages(sessionId, [messageId])).toBe(0);
  expect(await view.popMessage(sessionId)).toBeNull();
  expect(await view.getHistoryDigests(sessionId)).toEqual([]);
  expect(await snapshotStore(unscoped)).toEqual(before);
}
