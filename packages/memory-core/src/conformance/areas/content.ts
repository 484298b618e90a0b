import { expect } from 'vitest';
import type { ConformanceCase } from '../conformance-case.js';
import { megabyteAscii, megabyteMixed, TEXT_SAMPLES } from '../samples.js';

/** Compares texts exactly; on a difference reports where, instead of a megabyte-long diff. */
function expectSameText(actual: string | undefined | null, expected: string, label: string): void {
  if (actual === expected) return;
  if (typeof actual !== 'string') {
    expect(actual, label).toBe(expected);
    return;
  }
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at++;
  const excerpt = (text: string) => JSON.stringify(text.slice(Math.max(0, at - 10), at + 20));
  expect.fail(
    `${label}: texts differ at index ${at} (lengths ${actual.length} vs ${expected.length}): got ${excerpt(actual)}, expected ${excerpt(expected)}`,
  );
}

const CONTENTS: [kind: string, text: () => string, large: boolean][] = [
  ...Object.entries(TEXT_SAMPLES).map(
    ([kind, text]) => [kind, () => text, false] as [string, () => string, boolean],
  ),
  ['1 MiB of ASCII', megabyteAscii, true],
  ['1 MB of multi-byte text with quotes and SQL', megabyteMixed, true],
];

const IDS = [
  'it\'s "quoted"',
  'with space',
  "'); DROP TABLE sessions; --",
  '%',
  'a_c',
  'back\\slash',
  'ünï-日本-🎉',
  'line\nbreak',
];

/** Text is stored literally: any length, any Unicode but U+0000 and lone surrogates, SQL syntax included. */
export const contentCases: ConformanceCase[] = [
  ...CONTENTS.map(
    ([kind, text, large]): ConformanceCase => ({
      name: `addMessage - content round trips exactly: ${kind}`,
      ...(large ? { needs: ['largeValues'] as const, timeoutFactor: 2 } : {}),
      async run({ open }) {
        const store = await open();
        const sessionId = await store.createSession();
        await store.addMessage(sessionId, { role: 'user', content: text() });
        await store.addMessage(sessionId, { role: 'assistant', content: 'after' });
        const history = await store.getHistory(sessionId);
        expectSameText(history[0]?.content, text(), 'content');
        expect(history[1]?.content).toBe('after');
      },
    }),
  ),
  ...Object.entries(TEXT_SAMPLES).map(
    ([kind, text]): ConformanceCase => ({
      name: `createSession - title round trips exactly: ${kind}`,
      async run({ open }) {
        const store = await open();
        const id = await store.createSession({ title: text });
        expectSameText((await store.getSession(id))?.title, text, 'getSession title');
        expectSameText((await store.getSessions())[0]?.title, text, 'getSessions title');
      },
    }),
  ),
  {
    name: 'updateSessionTitle - every sample title round trips exactly',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ title: 'start' });
      for (const [kind, text] of Object.entries(TEXT_SAMPLES)) {
        await store.updateSessionTitle(id, text);
        expectSameText((await store.getSession(id))?.title, text, kind);
      }
    },
  },
  {
    name: 'createSession - ids with quotes, spaces, SQL, wildcards and unicode round trip',
    async run({ open }) {
      const store = await open();
      for (const id of IDS) {
        expect(await store.createSession({ id, title: id })).toBe(id);
        await store.addMessage(id, { id: `m:${id}`, role: 'user', content: id });
      }
      for (const id of IDS) {
        expect((await store.getSession(id))?.title, id).toBe(id);
        const history = await store.getHistory(id);
        expect(
          history.map((m) => [m.id, m.sessionId, m.content]),
          id,
        ).toEqual([[`m:${id}`, id, id]]);
      }
      expect((await store.getSessions()).map((s) => s.id).sort()).toEqual([...IDS].sort());
    },
  },
  {
    name: 'getSession - ids with LIKE wildcards match only themselves',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'abc' });
      await store.createSession({ id: 'a%' });
      expect(await store.getSession('a_c')).toBeNull();
      expect(await store.getSession('a%c')).toBeNull();
      expect(await store.getHistory('a_c')).toEqual([]);
      expect(await store.deleteSession('%')).toBe(false);
      expect((await store.getSessions()).map((s) => s.id).sort()).toEqual(['a%', 'abc']);
    },
  },
];
