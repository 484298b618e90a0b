import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { PortableRecord } from '../../portable.js';
import type { JsonValue, Message } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { snapshotStore } from '../store-snapshot.js';

/** A framework message as an adapter stores it: unknown fields and part types, nesting, every JSON kind. */
const UI_MESSAGE = {
  id: 'msg_01',
  role: 'assistant',
  metadata: { createdAt: 1740830400000, model: 'gpt-x' },
  parts: [
    { type: 'step-start' },
    {
      type: 'reasoning',
      text: 'Thinking…',
      providerMetadata: { anthropic: { signature: 'c2lnbmF0dXJl==' } },
    },
    {
      type: 'tool-weather',
      toolCallId: 'call_abc',
      state: 'output-available',
      input: { city: 'Lisbon', days: 3, units: null },
      output: { temps: [18.5, 19, -2.25], sunny: true },
    },
    { type: 'data-custom-x', data: { nested: [[[]], {}, [{ deep: [1, [2, [3]]] }]] } },
    { type: 'text', text: 'Sunny in Lisbon 🌞, 晴れ, Погода', state: 'done' },
  ],
  zUnknownField: { keepMe: ['yes'] },
  aAfterZ: 0,
} as const satisfies JsonValue;

/** Values a payload may be, one per sample, each returned as given. */
const PAYLOAD_SAMPLES: readonly [string, JsonValue][] = [
  ['a framework message with unknown fields', UI_MESSAGE],
  ['a string', 'just text'],
  ['a number', 1.5],
  ['false', false],
  ['an array of mixed values', [1, 'two', null, { three: [3] }, [], {}]],
  ['an empty object', {}],
  ['unicode, emoji and escapes', { 'ключ 🔑': 'e\u0301 👩‍💻 "q" \\ \n\t', 日本: ['テキスト'] }],
  ['U+0000 and a lone surrogate inside strings and keys', { 'a\u0000b': 'x\u0000y', lone: 'ab\uD83D' }],
  [
    'keys special in JavaScript',
    JSON.parse('{"__proto__":{"p":1},"constructor":"c","":"empty"}') as JsonValue,
  ],
  ['large and small numbers', { big: 2 ** 53 - 1, neg: -(2 ** 40), tiny: 1e-300, float: 0.1 + 0.2 }],
];

/** Same JSON value and same key order (a message's digest depends on it). */
function expectSameJson(actual: unknown, expected: unknown): void {
  expect(actual).toEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

async function onlyMessage(store: ConversationMemory, sessionId: string): Promise<Message> {
  const history = await store.getHistory(sessionId);
  expect(history).toHaveLength(1);
  return history[0]!;
}

async function collect(records: AsyncIterable<PortableRecord>): Promise<PortableRecord[]> {
  const out: PortableRecord[] = [];
  for await (const record of records) out.push(record);
  return out;
}

/** Values a payload must not be, with the path the ValidationError must name below `payload`. */
const BAD_PAYLOADS: readonly [string, () => unknown, string][] = [
  ['a Date', () => ({ at: new Date(0) }), '.at'],
  ['a Map', () => ({ list: [new Map()] }), '.list[0]'],
  ['a BigInt', () => ({ n: 1n }), '.n'],
  ['a Uint8Array', () => ({ bytes: new Uint8Array(2) }), '.bytes'],
  ['NaN', () => ({ a: { b: Number.NaN } }), '.a.b'],
  ['Infinity', () => [Number.POSITIVE_INFINITY], '[0]'],
  ['a function', () => ({ f: () => 1 }), '.f'],
  [
    'a cycle',
    () => {
      const v: Record<string, unknown> = { k: 1 };
      v.self = v;
      return v;
    },
    '.self',
  ],
  ['undefined inside an array', () => [1, undefined], '[1]'],
];

export const structuredMessageCases: readonly ConformanceCase[] = [
  ...PAYLOAD_SAMPLES.map(
    ([label, payload]): ConformanceCase => ({
      name: `addMessage - stores and returns a payload unchanged: ${label}`,
      needs: ['structuredMessages'],
      async run({ open }) {
        const store = await open();
        await store.createSession({ id: 's' });
        await store.addMessage('s', { id: 'm', role: 'assistant', content: 'c', payload, format: 'test/v1' });
        const message = await onlyMessage(store, 's');
        expectSameJson(message.payload, payload);
        expect(message.format).toBe('test/v1');
        // A fresh value each read: changing it changes nothing stored.
        if (typeof message.payload === 'object' && message.payload !== null) {
          (message.payload as Record<string, unknown>).mutated = true;
          expectSameJson((await onlyMessage(store, 's')).payload, payload);
        }
      },
    }),
  ),
  {
    name: 'addMessage - payload and format default to null; every read returns both',
    needs: ['structuredMessages'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { id: 'plain', role: 'user', content: 'hello quasar' });
      await store.addMessage('s', {
        id: 'rich',
        role: 'assistant',
        content: 'quasar',
        payload: [1],
        format: 'f',
      });
      const [plain, rich] = await store.getHistory('s');
      expect(plain).toMatchObject({ payload: null, format: null });
      expect(rich).toMatchObject({ payload: [1], format: 'f' });
      expect((await store.getHistoryPage('s', { limit: 1 })).items[0]).toMatchObject({
        payload: [1],
        format: 'f',
      });
      if (store.capabilities.fullTextSearch) {
        const hits = await store.searchMessages('quasar', { sessionId: 's' });
        const found = hits.items.map((hit) => [hit.message.id, hit.message.payload, hit.message.format]);
        expect(found).toEqual(
          expect.arrayContaining([
            ['plain', null, null],
            ['rich', [1], 'f'],
          ]),
        );
      }
    },
  },
  {
    name: 'addMessage - object properties set to undefined in a payload are left out, as JSON.stringify does',
    needs: ['structuredMessages'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const payload = {
        a: 1,
        gone: undefined,
        nested: { keep: 'x', drop: undefined },
        list: [{ b: undefined }],
      };
      await store.addMessage('s', { role: 'user', content: '', payload });
      expectSameJson((await onlyMessage(store, 's')).payload, { a: 1, nested: { keep: 'x' }, list: [{}] });
    },
  },
  ...BAD_PAYLOADS.map(
    ([label, payload, path]): ConformanceCase => ({
      name: `addMessage - refuses a payload holding ${label} (ValidationError on payload${path}), writes nothing`,
      async run({ open }) {
        const store = await open();
        await store.createSession({ id: 's' });
        const before = await snapshotStore(store);
        await expectMemoryError(
          () => store.addMessage('s', { role: 'user', content: 'x', payload: payload() as JsonValue }),
          { code: 'VALIDATION_FAILED', field: `payload${path}` },
        );
        expect(await snapshotStore(store)).toEqual(before);
      },
    }),
  ),
  {
    name: 'upsertMessages - names a bad payload by its message: messages[i].payload.<path>',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await expectMemoryError(
        () =>
          store.upsertMessages('s', [
            { role: 'user', content: 'ok' },
            {
              role: 'user',
              content: 'bad',
              payload: { parts: [{ at: new Date(0) }] } as unknown as JsonValue,
            },
          ]),
        { code: 'VALIDATION_FAILED', field: 'messages[1].payload.parts[0].at' },
      );
      expect(await store.getHistory('s')).toEqual([]);
    },
  },
  {
    name: 'addMessage - refuses a format that is empty, longer than 64 characters or not a string',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      for (const format of ['', 'f'.repeat(65), 42, 'a\u0000b']) {
        await expectMemoryError(
          () => store.addMessage('s', { role: 'user', content: 'x', format: format as string }),
          { code: 'VALIDATION_FAILED', field: 'format' },
        );
      }
      expect(await store.getHistory('s')).toEqual([]);
    },
  },
  {
    name: 'addMessage - accepts a format of exactly 64 characters',
    needs: ['structuredMessages'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { role: 'user', content: 'x', format: 'f'.repeat(64) });
      expect((await onlyMessage(store, 's')).format).toBe('f'.repeat(64));
    },
  },
  {
    name: 'addMessage - a 16 MB payload round-trips unchanged',
    needs: ['structuredMessages', 'largeValues'],
    timeoutFactor: 6,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      // A data: URL of a file part, as the AI SDK stores attachments, plus text in several scripts.
      const file = `data:image/png;base64,${'iVBORw0KGgo'.repeat(1_460_000)}`;
      const payload = {
        parts: [
          { type: 'file', url: file },
          { type: 'text', text: 'é日🚀'.repeat(10_000) },
        ],
      };
      expect(JSON.stringify(payload).length).toBeGreaterThan(16_000_000);
      await store.addMessage('s', { id: 'big', role: 'user', content: 'see file', payload });
      const message = await onlyMessage(store, 's');
      expect(JSON.stringify(message.payload) === JSON.stringify(payload)).toBe(true);
    },
  },
  {
    name: 'exportRecords - messages carry payload and format; importRecords writes them back unchanged',
    needs: ['structuredMessages'],
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', {
        id: 'rich',
        role: 'assistant',
        content: 'c',
        payload: UI_MESSAGE,
        format: 'f',
      });
      await store.addMessage('s', { id: 'plain', role: 'user', content: 'p' });
      const records = await collect(store.exportRecords());
      const rich = records.find((r) => r.id === 'rich');
      const plain = records.find((r) => r.id === 'plain');
      expect(rich).toMatchObject({ type: 'message', format: 'f' });
      expectSameJson((rich as { payload?: unknown }).payload, UI_MESSAGE);
      // A message without them is exported as format version 1 wrote it.
      expect(plain).not.toHaveProperty('payload');
      expect(plain).not.toHaveProperty('format');
      await store.deleteSession('s');
      await store.importRecords(records);
      const history = await store.getHistory('s');
      expect(history.map((m) => [m.id, m.format])).toEqual([
        ['rich', 'f'],
        ['plain', null],
      ]);
      expectSameJson(history[0]!.payload, UI_MESSAGE);
      expect(history[1]!.payload).toBeNull();
    },
  },
  {
    name: 'importRecords - a version 2 message with an invalid payload is a ValidationError on records[i].payload',
    async run({ open, ownerId }) {
      const store = await open();
      const before = await snapshotStore(store);
      const at = '2025-03-01T12:00:00.000000Z';
      await expectMemoryError(
        () =>
          store.importRecords([
            { type: 'session', id: 's', title: null, createdAt: at, updatedAt: at, metadata: {}, ownerId },
            {
              type: 'message',
              id: 'm',
              sessionId: 's',
              role: 'user',
              content: 'x',
              createdAt: at,
              metadata: {},
              payload: { n: Number.NaN },
            },
          ]),
        { code: 'VALIDATION_FAILED', field: 'records[1].payload.n' },
      );
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
];
