import { expect } from 'vitest';
import type { ConflictError } from '../../errors.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { UUID_V4 } from '../samples.js';
import { snapshotStore } from '../store-snapshot.js';

/** `createSession`, `getSession`, `updateSessionTitle` and `deleteSession` in normal use and at their edges. */
export const sessionCases: ConformanceCase[] = [
  {
    name: 'createSession - without input returns a UUID v4 and stores title null and metadata {}',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession();
      expect(id).toMatch(UUID_V4);
      const session = await store.getSession(id);
      expect(session).toMatchObject({ id, title: null, metadata: {} });
    },
  },
  {
    name: 'createSession - an empty input object applies the same defaults',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({});
      expect(id).toMatch(UUID_V4);
      expect(await store.getSession(id)).toMatchObject({ id, title: null, metadata: {} });
    },
  },
  {
    name: 'createSession - keeps a caller-supplied id, title and metadata',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({
        id: 'chat-1',
        title: 'Trip to Kyoto',
        metadata: { lang: 'en' },
      });
      expect(id).toBe('chat-1');
      expect(await store.getSession('chat-1')).toMatchObject({
        id: 'chat-1',
        title: 'Trip to Kyoto',
        metadata: { lang: 'en' },
      });
    },
  },
  {
    name: 'createSession - generated ids are distinct',
    async run({ open }) {
      const store = await open();
      const ids = [];
      for (let i = 0; i < 50; i++) ids.push(await store.createSession());
      expect(new Set(ids).size).toBe(50);
      expect((await store.getSessions({ limit: 100 })).length).toBe(50);
    },
  },
  {
    name: 'createSession - an empty-string title is kept as an empty string, not null',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: '' });
      expect((await store.getSession(id))?.title).toBe('');
    },
  },
  {
    name: 'createSession - an explicit null title is stored as null',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: null });
      expect((await store.getSession(id))?.title).toBeNull();
    },
  },
  {
    name: 'createSession - a duplicate caller-supplied id throws ConflictError and changes nothing',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'taken', title: 'first', metadata: { n: 1 } });
      await store.addMessage('taken', { role: 'user', content: 'hello' });
      const before = await snapshotStore(store);
      const error = await expectMemoryError(
        () => store.createSession({ id: 'taken', title: 'second', metadata: { n: 2 } }),
        { code: 'CONFLICT' },
      );
      expect((error as ConflictError).entity).toBe('session');
      expect((error as ConflictError).id).toBe('taken');
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'getSession - returns null for a session that does not exist',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'present' });
      expect(await store.getSession('absent')).toBeNull();
    },
  },
  {
    name: 'getSession - ids are case-sensitive',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'abc' });
      expect(await store.getSession('ABC')).toBeNull();
      await store.createSession({ id: 'ABC', title: 'upper' });
      expect((await store.getSession('abc'))?.title).toBeNull();
      expect((await store.getSession('ABC'))?.title).toBe('upper');
    },
  },
  {
    name: 'getSession - ids differing only by trailing spaces are different sessions',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'pad', title: 'plain' });
      expect(await store.getSession('pad ')).toBeNull();
      await store.createSession({ id: 'pad ', title: 'padded' });
      expect((await store.getSession('pad'))?.title).toBe('plain');
      expect((await store.getSession('pad '))?.title).toBe('padded');
    },
  },
  {
    name: 'updateSessionTitle - sets the title and keeps id, createdAt and metadata',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: 'old', metadata: { keep: ['me'] } });
      const before = await store.getSession(id);
      await store.updateSessionTitle(id, 'new');
      const after = await store.getSession(id);
      expect(after).toMatchObject({ id, title: 'new', metadata: { keep: ['me'] } });
      expect(after?.createdAt.getTime()).toBe(before?.createdAt.getTime());
    },
  },
  {
    name: 'updateSessionTitle - null clears the title',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: 'to clear' });
      await store.updateSessionTitle(id, null);
      expect((await store.getSession(id))?.title).toBeNull();
    },
  },
  {
    name: 'updateSessionTitle - a missing session throws SessionNotFoundError and creates nothing',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'other' });
      const before = await snapshotStore(store);
      const error = await expectMemoryError(() => store.updateSessionTitle('ghost', 'boo'), {
        code: 'SESSION_NOT_FOUND',
      });
      expect((error as { sessionId?: string }).sessionId).toBe('ghost');
      expect(await store.getSession('ghost')).toBeNull();
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'updateSessionTitle - changes only the session it names',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a', title: 'A' });
      await store.createSession({ id: 'b', title: 'B' });
      await store.updateSessionTitle('a', 'A2');
      expect((await store.getSession('b'))?.title).toBe('B');
    },
  },
  {
    name: 'deleteSession - returns true when the session existed, then false',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession();
      expect(await store.deleteSession(id)).toBe(true);
      expect(await store.deleteSession(id)).toBe(false);
    },
  },
  {
    name: 'deleteSession - returns false for a session that never existed and changes nothing',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'stay' });
      await store.addMessage('stay', { role: 'user', content: 'x' });
      const before = await snapshotStore(store);
      expect(await store.deleteSession('never')).toBe(false);
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'deleteSession - removes the session and exactly its messages, no others',
    async run({ open }) {
      const store = await open();
      for (const id of ['keep-1', 'doomed', 'keep-2']) {
        await store.createSession({ id });
        for (let i = 0; i < 3; i++) await store.addMessage(id, { role: 'user', content: `${id} ${i}` });
      }
      const keptBefore = {
        one: await store.getHistory('keep-1'),
        two: await store.getHistory('keep-2'),
      };
      expect(await store.deleteSession('doomed')).toBe(true);
      expect(await store.getSession('doomed')).toBeNull();
      expect(await store.getHistory('doomed')).toEqual([]);
      expect(await store.getHistory('keep-1')).toEqual(keptBefore.one);
      expect(await store.getHistory('keep-2')).toEqual(keptBefore.two);
      const listed = await store.getSessions();
      expect(listed.map((s) => s.id).sort()).toEqual(['keep-1', 'keep-2']);
      expect(listed.map((s) => s.messageCount)).toEqual([3, 3]);
    },
  },
  {
    name: 'deleteSession - a message cannot be added to a deleted session',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'gone' });
      await store.addMessage('gone', { role: 'user', content: 'before' });
      await store.deleteSession('gone');
      await expectMemoryError(() => store.addMessage('gone', { role: 'user', content: 'after' }), {
        code: 'SESSION_NOT_FOUND',
      });
      expect(await store.getHistory('gone')).toEqual([]);
    },
  },
  {
    name: 'deleteSession - the ids of a deleted session and of its messages can be used again',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'again', title: 'first life' });
      await store.addMessage('again', { id: 'msg-again', role: 'user', content: 'old' });
      await store.deleteSession('again');
      await store.createSession({ id: 'again', title: 'second life' });
      await store.addMessage('again', { id: 'msg-again', role: 'user', content: 'new' });
      expect((await store.getSession('again'))?.title).toBe('second life');
      const history = await store.getHistory('again');
      expect(history.map((m) => [m.id, m.content])).toEqual([['msg-again', 'new']]);
      expect((await store.getSessions())[0]?.messageCount).toBe(1);
    },
  },
];
