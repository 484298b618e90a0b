import { expect } from 'vitest';
import type { JsonValue, Metadata } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { largeMetadata, METADATA_SAMPLES } from '../samples.js';

const SAMPLES: [kind: string, metadata: () => Metadata, large: boolean][] = [
  ...Object.entries(METADATA_SAMPLES).map(
    ([kind, metadata]) => [kind, () => structuredClone(metadata), false] as [string, () => Metadata, boolean],
  ),
  ['a 100 KB object', largeMetadata, true],
];

function sessionRoundTrip(kind: string, metadata: () => Metadata, large: boolean): ConformanceCase {
  return {
    name: `createSession - metadata round trips by deep equality: ${kind}`,
    ...(large ? { needs: ['largeValues'] as const } : {}),
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ metadata: metadata() });
      expect((await store.getSession(id))?.metadata).toEqual(metadata());
      expect((await store.getSessions())[0]?.metadata).toEqual(metadata());
    },
  };
}

function messageRoundTrip(kind: string, metadata: () => Metadata, large: boolean): ConformanceCase {
  return {
    name: `addMessage - metadata round trips by deep equality: ${kind}`,
    ...(large ? { needs: ['largeValues'] as const } : {}),
    async run({ open }) {
      const store = await open();
      const sessionId = await store.createSession();
      await store.addMessage(sessionId, { role: 'user', content: 'x', metadata: metadata() });
      expect((await store.getHistory(sessionId))[0]?.metadata).toEqual(metadata());
    },
  };
}

const NESTED = { list: [1, { deep: ['original'] }], inner: { value: 'original' } } satisfies Metadata;

/** Damages every level of a metadata object that looks like {@link NESTED}, as a careless caller might. */
function vandalise(metadata: Metadata): void {
  const list = metadata.list as JsonValue[];
  ((list[1] as { deep: JsonValue[] }).deep as JsonValue[]).push('leaked');
  list.push('leaked');
  (metadata.inner as { value: JsonValue }).value = 'leaked';
  metadata.added = 'leaked';
}

/** Metadata round trips by deep equality, and what a store hands out or takes in is never shared. */
export const metadataCases: ConformanceCase[] = [
  ...SAMPLES.map(([kind, metadata, large]) => sessionRoundTrip(kind, metadata, large)),
  ...SAMPLES.map(([kind, metadata, large]) => messageRoundTrip(kind, metadata, large)),
  {
    name: 'getSession - returned metadata is a deep copy: mutating it changes nothing stored',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ metadata: structuredClone(NESTED) });
      vandalise((await store.getSession(id))!.metadata);
      expect((await store.getSession(id))?.metadata).toEqual(NESTED);
      expect((await store.getSessions())[0]?.metadata).toEqual(NESTED);
    },
  },
  {
    name: 'getSessions - returned metadata is a deep copy: mutating it changes nothing stored',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ metadata: structuredClone(NESTED) });
      vandalise((await store.getSessions())[0]!.metadata);
      expect((await store.getSessions())[0]?.metadata).toEqual(NESTED);
      expect((await store.getSession(id))?.metadata).toEqual(NESTED);
    },
  },
  {
    name: 'getHistory - returned metadata is a deep copy: mutating it changes nothing stored',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession();
      await store.addMessage(id, { role: 'user', content: 'x', metadata: structuredClone(NESTED) });
      vandalise((await store.getHistory(id))[0]!.metadata);
      expect((await store.getHistory(id))[0]?.metadata).toEqual(NESTED);
    },
  },
  {
    name: "createSession - metadata is copied on the way in: changing the caller's object later changes nothing",
    async run({ open }) {
      const store = await open();
      const metadata = structuredClone(NESTED);
      const id = await store.createSession({ metadata });
      vandalise(metadata);
      expect((await store.getSession(id))?.metadata).toEqual(NESTED);
    },
  },
  {
    name: "addMessage - metadata is copied on the way in: changing the caller's object later changes nothing",
    async run({ open }) {
      const store = await open();
      const id = await store.createSession();
      const metadata = structuredClone(NESTED);
      await store.addMessage(id, { role: 'user', content: 'x', metadata });
      vandalise(metadata);
      expect((await store.getHistory(id))[0]?.metadata).toEqual(NESTED);
    },
  },
  {
    name: 'getHistory - mutating a returned message or its createdAt changes nothing stored',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession();
      await store.addMessage(id, { role: 'user', content: 'original' });
      const [first] = await store.getHistory(id);
      const time = first!.createdAt.getTime();
      first!.createdAt.setTime(0);
      (first as { content: string }).content = 'changed';
      const [again] = await store.getHistory(id);
      expect(again?.content).toBe('original');
      expect(again?.createdAt.getTime()).toBe(time);
    },
  },
  {
    name: 'getSession - mutating a returned session or its dates changes nothing stored',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: 'original' });
      const session = (await store.getSession(id))!;
      const created = session.createdAt.getTime();
      session.createdAt.setTime(0);
      session.updatedAt.setTime(0);
      (session as { title: string }).title = 'changed';
      const again = await store.getSession(id);
      expect(again?.title).toBe('original');
      expect(again?.createdAt.getTime()).toBe(created);
      expect(again?.updatedAt.getTime()).toBe(created);
      expect((await store.getSessions())[0]?.createdAt.getTime()).toBe(created);
    },
  },
];
