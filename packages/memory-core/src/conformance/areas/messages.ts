import { expect } from 'vitest';
import type { ConflictError, SessionNotFoundError } from '../../errors.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { UUID_V4 } from '../samples.js';
import { snapshotStore } from '../store-snapshot.js';

/** `addMessage` in normal use and at its edges. */
export const messageCases: ConformanceCase[] = [
  {
    name: 'addMessage - returns a UUID v4 and the message reads back with every field',
    async run({ open }) {
      const store = await open();
      const sessionId = await store.createSession();
      const id = await store.addMessage(sessionId, { role: 'user', content: 'Hello', metadata: { n: 1 } });
      expect(id).toMatch(UUID_V4);
      const [message, ...rest] = await store.getHistory(sessionId);
      expect(rest).toEqual([]);
      expect(message).toMatchObject({ id, sessionId, role: 'user', content: 'Hello', metadata: { n: 1 } });
      expect(message?.createdAt).toBeInstanceOf(Date);
    },
  },
  {
    name: 'addMessage - without metadata reads back metadata {}',
    async run({ open }) {
      const store = await open();
      const sessionId = await store.createSession();
      await store.addMessage(sessionId, { role: 'assistant', content: 'Hi' });
      expect((await store.getHistory(sessionId))[0]?.metadata).toEqual({});
    },
  },
  {
    name: 'addMessage - keeps a caller-supplied id',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      expect(await store.addMessage('s', { id: 'm-1', role: 'user', content: 'x' })).toBe('m-1');
      expect((await store.getHistory('s'))[0]?.id).toBe('m-1');
    },
  },
  {
    name: 'addMessage - generated ids are distinct',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const ids = [];
      for (let i = 0; i < 50; i++) ids.push(await store.addMessage('s', { role: 'user', content: `${i}` }));
      expect(new Set(ids).size).toBe(50);
    },
  },
  {
    name: 'addMessage - accepts the four well-known roles and a legacy role such as function',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const roles = ['system', 'user', 'assistant', 'tool', 'function', 'Ünïcødé-🤖'];
      for (const role of roles) await store.addMessage('s', { role, content: role });
      expect((await store.getHistory('s')).map((m) => m.role)).toEqual(roles);
    },
  },
  {
    name: 'addMessage - the empty string is valid content',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { role: 'assistant', content: '' });
      expect((await store.getHistory('s'))[0]?.content).toBe('');
    },
  },
  {
    name: 'addMessage - updates the session messageCount and lastMessageAt',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      expect((await store.getSessions())[0]).toMatchObject({ messageCount: 0, lastMessageAt: null });
      await store.addMessage('s', { role: 'user', content: 'one' });
      await store.addMessage('s', { role: 'assistant', content: 'two' });
      const [summary] = await store.getSessions();
      const history = await store.getHistory('s');
      expect(summary?.messageCount).toBe(2);
      expect(summary?.lastMessageAt?.getTime()).toBe(history[1]?.createdAt.getTime());
    },
  },
  {
    name: 'addMessage - to a missing session throws SessionNotFoundError and stores nothing',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'real' });
      const before = await snapshotStore(store);
      const error = await expectMemoryError(
        () => store.addMessage('ghost', { id: 'orphan', role: 'user', content: 'lost' }),
        { code: 'SESSION_NOT_FOUND' },
      );
      expect((error as SessionNotFoundError).sessionId).toBe('ghost');
      expect(await snapshotStore(store)).toEqual(before);
      expect(await store.getSession('ghost')).toBeNull();
      expect(await store.getHistory('ghost')).toEqual([]);
      // An orphan row would surface once a session of that id exists, and its id would stay taken.
      await store.createSession({ id: 'ghost' });
      expect(await store.getHistory('ghost')).toEqual([]);
      await store.addMessage('real', { id: 'orphan', role: 'user', content: 'id is free' });
      expect((await store.getHistory('real')).map((m) => m.id)).toEqual(['orphan']);
    },
  },
  {
    name: 'addMessage - a duplicate caller-supplied id throws ConflictError and writes nothing',
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's' });
      await store.addMessage('s', { id: 'dup', role: 'user', content: 'first' });
      const before = await snapshotStore(store);
      clock.advance(1_000);
      const error = await expectMemoryError(
        () => store.addMessage('s', { id: 'dup', role: 'assistant', content: 'second' }),
        { code: 'CONFLICT' },
      );
      expect((error as ConflictError).entity).toBe('message');
      expect((error as ConflictError).id).toBe('dup');
      // Same snapshot: no second row, and updatedAt, messageCount and lastMessageAt did not move.
      expect(await snapshotStore(store)).toEqual(before);
    },
    needs: ['clock'],
  },
  {
    name: 'addMessage - a message id used in another session is accepted there: ids are unique per session',
    needs: ['historyEditing'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.createSession({ id: 'b' });
      await store.addMessage('a', { id: 'shared-id', role: 'user', content: 'in a' });
      expect(await store.addMessage('b', { id: 'shared-id', role: 'user', content: 'in b' })).toBe(
        'shared-id',
      );
      expect((await store.getHistory('a')).map((m) => [m.id, m.content])).toEqual([['shared-id', 'in a']]);
      expect((await store.getHistory('b')).map((m) => [m.id, m.content])).toEqual([['shared-id', 'in b']]);
      await store.deleteSession('a');
      expect((await store.getHistory('b')).map((m) => m.content)).toEqual(['in b']);
    },
  },
  {
    name: 'addMessage - after a refused call the session still accepts messages',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { id: 'm1', role: 'user', content: 'one' });
      await expectMemoryError(() => store.addMessage('s', { id: 'm1', role: 'user', content: 'dup' }), {
        code: 'CONFLICT',
      });
      await store.addMessage('s', { id: 'm2', role: 'user', content: 'two' });
      expect((await store.getHistory('s')).map((m) => m.id)).toEqual(['m1', 'm2']);
    },
  },
];
