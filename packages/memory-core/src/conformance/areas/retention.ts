import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { PurgeOptions } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { snapshotStore } from '../store-snapshot.js';

const NEEDS: ConformanceCase['needs'] = ['retention', 'clock'];
const HOUR = 3_600_000;

async function ids(store: ConversationMemory): Promise<string[]> {
  return (await store.getSessions()).map((s) => s.id).sort();
}

export const retentionCases: readonly ConformanceCase[] = [
  {
    name: 'purgeSessions - deletes the sessions idle since before the cutoff with their messages, in batches',
    needs: NEEDS,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (const id of ['old-1', 'old-2', 'old-3', 'old-4', 'old-5']) {
        await store.createSession({ id });
        await store.addMessage(id, { role: 'user', content: 'x' });
        await store.addMessage(id, { role: 'user', content: 'y' });
      }
      clock.advance(10 * HOUR);
      const cutoff = new Date(clock.time);
      await store.createSession({ id: 'fresh' });
      await store.addMessage('fresh', { role: 'user', content: 'kept' });
      expect(await store.purgeSessions({ inactiveBefore: cutoff, batchSize: 2 })).toEqual({
        sessions: 5,
        messages: 10,
        unreadable: 0,
      });
      expect(await ids(store)).toEqual(['fresh']);
      expect(await store.getHistory('old-1')).toEqual([]);
      expect((await store.getHistory('fresh')).map((m) => m.content)).toEqual(['kept']);
      // The session ids are free again.
      await store.createSession({ id: 'old-1' });
      expect(await store.purgeSessions({ inactiveBefore: cutoff })).toEqual({
        sessions: 0,
        messages: 0,
        unreadable: 0,
      });
    },
  },
  {
    name: 'purgeSessions - compares updatedAt: a session written to since is kept, one exactly at the cutoff too',
    needs: NEEDS,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 'revived' });
      await store.createSession({ id: 'retitled' });
      await store.createSession({ id: 'at-cutoff' });
      await store.createSession({ id: 'idle' });
      clock.advance(HOUR);
      await store.addMessage('revived', { role: 'user', content: 'back' });
      await store.updateSessionTitle('retitled', 'new title');
      const cutoff = new Date(clock.time);
      clock.advance(HOUR);
      const before = (await store.getSession('at-cutoff'))!.updatedAt;
      expect(before.getTime()).toBeLessThan(cutoff.getTime());
      expect(await store.purgeSessions({ inactiveBefore: new Date(before.getTime()) })).toMatchObject({
        sessions: 0,
      });
      expect(await store.purgeSessions({ inactiveBefore: cutoff })).toMatchObject({ sessions: 2 });
      expect(await ids(store)).toEqual(['retitled', 'revived']);
    },
  },
  {
    name: 'purgeSessions - on a view purges only its owner’s sessions; the store purges every owner’s',
    needs: NEEDS,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.forOwner('alice').createSession({ id: 'a' });
      await store.forOwner('bob').createSession({ id: 'b' });
      await store.createSession({ id: 'n' });
      clock.advance(HOUR);
      const cutoff = new Date(clock.time);
      expect(await store.forOwner('alice').purgeSessions({ inactiveBefore: cutoff })).toMatchObject({
        sessions: 1,
      });
      expect(await ids(store)).toEqual(['b', 'n']);
      expect(await store.purgeSessions({ inactiveBefore: cutoff })).toMatchObject({ sessions: 2 });
      expect(await ids(store)).toEqual([]);
    },
    onView: {
      name: "purgeSessions - the view purges its owner's idle sessions only, the others' stay",
      async run({ open, clock, unscoped }) {
        const view = await open({ clock: clock.now });
        await view.createSession({ id: 'mine' });
        clock.advance(HOUR);
        const others = (await snapshotStore(unscoped(view))).sessions.filter((s) => s.id !== 'mine');
        expect(await view.purgeSessions({ inactiveBefore: new Date(clock.time + 365 * 24 * HOUR) })).toEqual({
          sessions: 1,
          messages: 0,
          unreadable: 0,
        });
        expect(await view.getSessions()).toEqual([]);
        expect((await snapshotStore(unscoped(view))).sessions).toEqual(others);
      },
    },
  },
  {
    name: 'purgeSessions - an aborted signal stops it before the next batch; what was purged stays purged',
    needs: NEEDS,
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 'a' });
      clock.advance(HOUR);
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      const before = await snapshotStore(store);
      await expect(
        store.purgeSessions({ inactiveBefore: new Date(clock.time), signal: controller.signal }),
      ).rejects.toThrow('stop');
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'purgeSessions - refuses a cutoff that is not a valid Date and a batch size out of bounds',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const bad: [unknown, string][] = [
        [{ inactiveBefore: '2025-01-01' }, 'inactiveBefore'],
        [{ inactiveBefore: new Date(Number.NaN) }, 'inactiveBefore'],
        [{ inactiveBefore: new Date(), batchSize: 0 }, 'batchSize'],
        [{ inactiveBefore: new Date(), batchSize: 10_001 }, 'batchSize'],
        [{ inactiveBefore: new Date(), signal: 'x' }, 'signal'],
        [undefined, 'options'],
      ];
      for (const [options, field] of bad) {
        await expectMemoryError(() => store.purgeSessions(options as PurgeOptions), {
          code: 'VALIDATION_FAILED',
          field,
        });
      }
      expect(await ids(store)).toEqual(['s']);
    },
  },
];
