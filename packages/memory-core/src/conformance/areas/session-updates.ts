import { expect } from 'vitest';
import { ConflictError } from '../../errors.js';
import type { Metadata, UpdateSessionInput } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { SEEDED_SESSION_IDS } from '../owner-view-seed.js';
import { snapshotStore } from '../store-snapshot.js';

const NEEDS: ConformanceCase['needs'] = ['sessionUpdates'];

export const sessionUpdateCases: readonly ConformanceCase[] = [
  {
    name: 'updateSession - a title moves updatedAt; metadata alone does not; the session after is returned',
    needs: ['sessionUpdates', 'clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      await store.createSession({ id: 's', title: 'old', metadata: { a: 1 } });
      const created = await store.getSession('s');
      clock.advance(1_000);
      const afterMetadata = await store.updateSession('s', { metadata: { b: 2 } });
      expect(afterMetadata).toEqual({ ...created, metadata: { b: 2 } });
      expect(await store.getSession('s')).toEqual(afterMetadata);
      clock.advance(1_000);
      const afterTitle = await store.updateSession('s', { title: 'new' });
      expect(afterTitle).toEqual({ ...afterMetadata, title: 'new', updatedAt: new Date(clock.time) });
      expect(await store.getSession('s')).toEqual(afterTitle);
      clock.advance(1_000);
      expect(await store.updateSession('s', { title: null, metadataPatch: { c: 3 } })).toEqual({
        ...afterTitle,
        title: null,
        metadata: { b: 2, c: 3 },
        updatedAt: new Date(clock.time),
      });
    },
  },
  {
    name: 'updateSession - metadataPatch is a JSON Merge Patch (RFC 7396): null removes, objects merge, the rest replaces',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      const metadata: Metadata = {
        keep: 1,
        gone: 'x',
        nested: { a: 1, b: { c: 2, d: 3 } },
        list: [1, 2, 3],
        scalarToObject: 5,
      };
      await store.createSession({ id: 's', metadata });
      const patched = await store.updateSession('s', {
        metadataPatch: {
          gone: null,
          nested: { b: { d: null, e: 4 }, f: [null] },
          list: [9],
          scalarToObject: { now: 'object', drop: null },
          added: { deep: true },
        },
      });
      const expected = {
        keep: 1,
        nested: { a: 1, b: { c: 2, e: 4 }, f: [null] },
        list: [9],
        scalarToObject: { now: 'object' },
        added: { deep: true },
      };
      expect(patched.metadata).toEqual(expected);
      expect((await store.getSession('s'))?.metadata).toEqual(expected);
      expect((await store.updateSession('s', { metadataPatch: {} })).metadata).toEqual(expected);
    },
  },
  {
    name: 'updateSession - ifMetadata updates only when the metadata contains it, else ConflictError (if-metadata)',
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's', metadata: { activeStreamId: 'st-1', tags: ['a', 'b'], n: 1 } });
      const before = await snapshotStore(store);
      const mismatches: Metadata[] = [
        { activeStreamId: 'st-2' },
        { tags: ['c'] },
        { missing: null },
        { n: '1' },
      ];
      for (const ifMetadata of mismatches) {
        const error = await expectMemoryError(
          () => store.updateSession('s', { metadataPatch: { activeStreamId: null }, ifMetadata }),
          { code: 'CONFLICT' },
        );
        expect(ConflictError.isInstance(error) && error.reason).toBe('if-metadata');
      }
      expect(await snapshotStore(store)).toEqual(before);
      const updated = await store.updateSession('s', {
        metadataPatch: { activeStreamId: null },
        ifMetadata: { activeStreamId: 'st-1', tags: ['b'] },
      });
      expect(updated.metadata).toEqual({ tags: ['a', 'b'], n: 1 });
      // {} is contained in every metadata.
      await store.updateSession('s', { title: 't', ifMetadata: {} });
    },
  },
  {
    name: 'updateSession - the metadata filter sees the change at once',
    needs: ['sessionUpdates', 'metadataFilter'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's', metadata: { status: 'open' } });
      await store.updateSession('s', { metadataPatch: { status: 'closed' } });
      const open_ = await store.getSessions({ where: { metadata: { status: 'open' } } });
      const closed = await store.getSessionsPage({ where: { metadata: { status: 'closed' } } });
      expect(open_).toEqual([]);
      expect(closed.items.map((s) => s.id)).toEqual(['s']);
    },
  },
  {
    name: 'updateSession - metadata with metadataPatch, an unknown field, or bad values is a ValidationError naming it',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const before = await snapshotStore(store);
      const bad: [unknown, string][] = [
        [{ metadata: {}, metadataPatch: {} }, 'metadataPatch'],
        [{ ownerId: 'x' }, 'ownerId'],
        [{ metadata: [] }, 'metadata'],
        [{ metadataPatch: { d: new Date(0) } }, 'metadataPatch.d'],
        [{ ifMetadata: 'x' }, 'ifMetadata'],
        [{ title: 'a\u0000' }, 'title'],
        [null, 'input'],
      ];
      for (const [input, field] of bad) {
        await expectMemoryError(() => store.updateSession('s', input as UpdateSessionInput), {
          code: 'VALIDATION_FAILED',
          field,
        });
      }
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'updateSession - a patch making the metadata larger than the limit is a ValidationError, nothing changed',
    needs: ['sessionUpdates', 'largeValues'],
    timeoutFactor: 3,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's', metadata: { a: 'x'.repeat(600_000) } });
      const before = await snapshotStore(store);
      await expectMemoryError(() => store.updateSession('s', { metadataPatch: { b: 'y'.repeat(600_000) } }), {
        code: 'VALIDATION_FAILED',
        field: 'metadataPatch',
      });
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: "updateSession - a missing session, or another owner's, is a SessionNotFoundError",
    needs: NEEDS,
    async run({ open }) {
      const store = await open();
      await expectMemoryError(() => store.updateSession('nope', { title: 't' }), {
        code: 'SESSION_NOT_FOUND',
      });
      await store.createSession({ id: 'bobs', ownerId: 'bob', metadata: { k: 1 } });
      const before = await snapshotStore(store);
      await expectMemoryError(() => store.forOwner('alice').updateSession('bobs', { metadata: {} }), {
        code: 'SESSION_NOT_FOUND',
      });
      expect(await snapshotStore(store)).toEqual(before);
    },
    onView: {
      name: "updateSession - the view cannot update another owner's (or no owner's) session: SessionNotFoundError",
      async run({ open }) {
        const view = await open();
        for (const id of SEEDED_SESSION_IDS) {
          await expectMemoryError(() => view.updateSession(id, { title: 'x', metadata: {} }), {
            code: 'SESSION_NOT_FOUND',
          });
        }
      },
    },
  },
];
