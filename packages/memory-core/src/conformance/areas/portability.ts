import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import type { ImportResult, PortableMessage, PortableRecord, PortableSession } from '../../portable.js';
import { LIMITS } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { METADATA_SAMPLES, TEXT_SAMPLES } from '../samples.js';
import { snapshotStore } from '../store-snapshot.js';

/** Canonical portable timestamp: UTC ISO 8601 with exactly six fraction digits. */
const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

async function collect(records: AsyncIterable<PortableRecord>): Promise<PortableRecord[]> {
  const result: PortableRecord[] = [];
  for await (const record of records) result.push(record);
  return result;
}

function session(id: string, fields: Partial<PortableSession> = {}): PortableSession {
  return {
    type: 'session',
    id,
    title: `title ${id}`,
    createdAt: '2024-05-01T10:00:00.000000Z',
    updatedAt: '2024-05-01T10:05:00.000000Z',
    metadata: { origin: 'import' },
    ownerId: null,
    ...fields,
  };
}

function message(id: string, sessionId: string, fields: Partial<PortableMessage> = {}): PortableMessage {
  return {
    type: 'message',
    id,
    sessionId,
    role: 'user',
    content: `content ${id}`,
    createdAt: '2024-05-01T10:01:00.000000Z',
    metadata: {},
    ...fields,
  };
}

const NOTHING: ImportResult = { sessions: { written: 0, skipped: 0 }, messages: { written: 0, skipped: 0 } };

/** A store with varied content: ties, unicode, metadata samples, an empty session. */
async function fill(store: ConversationMemory, advance: (ms: number) => void): Promise<void> {
  const samples = Object.values(METADATA_SAMPLES);
  const texts = Object.values(TEXT_SAMPLES);
  for (let s = 0; s < 6; s++) {
    const id = `sess-${s}`;
    await store.createSession({ id, title: texts[s] ?? null, metadata: samples[s % samples.length]! });
    for (let m = 0; m < s * 3; m++) {
      await store.addMessage(id, {
        id: `${id}-msg-${m}`,
        role: m % 2 ? 'assistant' : 'user',
        content: texts[(s + m) % texts.length]!,
        metadata: samples[(s + m) % samples.length]!,
      });
      if (m % 4 === 3) advance(1);
    }
  }
  await store.createSession({ id: 'sess-empty' });
}

/** Fields whose JSON is refused in a record, and the field the error must name. */
const BAD_RECORDS: [what: string, records: () => unknown[], field: string][] = [
  ['a record that is not an object', () => [session('a'), 'text'], 'records[1]'],
  ['a record of an unknown type', () => [{ ...session('a'), type: 'note' }], 'records[0].type'],
  ['a record without an id', () => [{ ...session('a'), id: undefined }], 'records[0].id'],
  ['an id of 256 characters', () => [session('x'.repeat(LIMITS.idLength + 1))], 'records[0].id'],
  ['an id with U+0000', () => [session('a\u0000')], 'records[0].id'],
  [
    'a createdAt that is not a timestamp',
    () => [session('a', { createdAt: 'yesterday' })],
    'records[0].createdAt',
  ],
  [
    'a createdAt of February 30th',
    () => [session('a', { createdAt: '2025-02-30T00:00:00Z' })],
    'records[0].createdAt',
  ],
  [
    'a createdAt that is a number',
    () => [{ ...session('a'), createdAt: 1_700_000_000_000 }],
    'records[0].createdAt',
  ],
  [
    'an updatedAt that is not a timestamp',
    () => [session('a', { updatedAt: 'soon' })],
    'records[0].updatedAt',
  ],
  ['a title that is a number', () => [{ ...session('a'), title: 42 }], 'records[0].title'],
  ['a title with a lone surrogate', () => [session('a', { title: 'x\uD800' })], 'records[0].title'],
  ['metadata that is an array', () => [{ ...session('a'), metadata: [] }], 'records[0].metadata'],
  [
    'metadata with NaN inside',
    () => [{ ...session('a'), metadata: { a: Number.NaN } }],
    'records[0].metadata.a',
  ],
  [
    'a message without a sessionId',
    () => [session('a'), { ...message('m', 'a'), sessionId: undefined }],
    'records[1].sessionId',
  ],
  ['a message with an empty role', () => [session('a'), message('m', 'a', { role: '' })], 'records[1].role'],
  [
    'a message with a 65-character role',
    () => [session('a'), message('m', 'a', { role: 'r'.repeat(65) })],
    'records[1].role',
  ],
  [
    'a message whose content is a number',
    () => [session('a'), { ...message('m', 'a'), content: 42 }],
    'records[1].content',
  ],
  [
    'a message whose content has U+0000',
    () => [session('a'), message('m', 'a', { content: 'a\u0000' })],
    'records[1].content',
  ],
  [
    'a message whose content has a lone surrogate',
    () => [session('a'), message('m', 'a', { content: '\uDC00' })],
    'records[1].content',
  ],
];

/** `exportRecords` and `importRecords`: portable JSON Lines records that move a store's content exactly. */
export const portabilityCases: ConformanceCase[] = [
  {
    name: 'exportRecords - an empty store exports nothing',
    async run({ open }) {
      const store = await open();
      expect(await collect(store.exportRecords())).toEqual([]);
    },
  },
  {
    name: 'exportRecords - each session, ordered by id, is followed by its messages in history order',
    needs: ['clock'],
    async run({ open, clock }) {
      const store = await open({ clock: clock.now });
      for (const id of ['b', 'c', 'a']) await store.createSession({ id });
      // Same millisecond, ids against insertion order: only insertion order gives the right history.
      for (const id of ['m3', 'm1', 'm2']) await store.addMessage('c', { id, role: 'user', content: id });
      await store.addMessage('a', { id: 'm0', role: 'user', content: 'm0' });
      const records = await collect(store.exportRecords());
      expect(records.map((r) => `${r.type}:${r.id}`)).toEqual([
        'session:a',
        'message:m0',
        'session:b',
        'session:c',
        'message:m3',
        'message:m1',
        'message:m2',
      ]);
    },
  },
  {
    name: 'exportRecords - records carry every field, timestamps as UTC ISO text with microseconds',
    needs: ['clock'],
    async run({ open, clock, ownerId }) {
      const store = await open({ clock: clock.now });
      clock.set(Date.UTC(2025, 2, 1, 14, 32, 1, 117));
      await store.createSession({ id: 's', title: 'T', metadata: { a: [1] } });
      clock.advance(5);
      await store.addMessage('s', { id: 'm', role: 'assistant', content: 'c', metadata: { b: true } });
      const [s, m] = await collect(store.exportRecords());
      expect(s).toEqual({
        type: 'session',
        id: 's',
        title: 'T',
        createdAt: '2025-03-01T14:32:01.117000Z',
        updatedAt: '2025-03-01T14:32:01.122000Z',
        metadata: { a: [1] },
        ownerId,
      });
      expect(m).toEqual({
        type: 'message',
        id: 'm',
        sessionId: 's',
        role: 'assistant',
        content: 'c',
        createdAt: '2025-03-01T14:32:01.122000Z',
        metadata: { b: true },
      });
    },
  },
  {
    name: 'exportRecords - sessionIds selects those sessions and ignores ids that do not exist',
    async run({ open }) {
      const store = await open();
      for (const id of ['a', 'b', 'c']) {
        await store.createSession({ id });
        await store.addMessage(id, { id: `${id}-m`, role: 'user', content: id });
      }
      const records = await collect(store.exportRecords({ sessionIds: ['c', 'nope', 'a'] }));
      expect(records.map((r) => r.id)).toEqual(['a', 'a-m', 'c', 'c-m']);
      expect(await collect(store.exportRecords({ sessionIds: [] }))).toEqual([]);
    },
  },
  {
    name: 'exportRecords - pages through more than 500 sessions and 500 messages of one session',
    timeoutFactor: 2,
    async run({ open }) {
      const store = await open();
      for (let i = 0; i < 520; i++) await store.createSession({ id: `s${String(i).padStart(4, '0')}` });
      for (let i = 0; i < 510; i++)
        await store.addMessage('s0007', { id: `m${i}`, role: 'user', content: `${i}` });
      const records = await collect(store.exportRecords());
      expect(records.filter((r) => r.type === 'session')).toHaveLength(520);
      const messages = records.filter((r) => r.type === 'message');
      expect(messages.map((m) => m.id)).toEqual(Array.from({ length: 510 }, (_, i) => `m${i}`));
      expect(new Set(records.map((r) => `${r.type}:${r.id}`)).size).toBe(records.length);
    },
  },
  {
    name: 'importRecords - a round trip keeps ids, timestamps, metadata, order and counts intact',
    needs: ['clock'],
    async run({ open, clock }) {
      const source = await open({ clock: clock.now });
      await fill(source, (ms) => clock.advance(ms));
      const exported = await collect(source.exportRecords());
      const target = await open();
      const result = await target.importRecords(exported);
      const messageCount = exported.filter((r) => r.type === 'message').length;
      expect(result).toEqual({
        sessions: { written: 7, skipped: 0 },
        messages: { written: messageCount, skipped: 0 },
      });
      expect(await snapshotStore(target)).toEqual(await snapshotStore(source));
      expect(await collect(target.exportRecords())).toEqual(exported);
    },
  },
  {
    name: 'importRecords - importing the same records again writes 0 and skips every one',
    async run({ open }) {
      const store = await open();
      const records = [session('a'), message('m1', 'a'), message('m2', 'a'), session('b')];
      expect(await store.importRecords(records)).toEqual({
        sessions: { written: 2, skipped: 0 },
        messages: { written: 2, skipped: 0 },
      });
      const before = await snapshotStore(store);
      expect(await store.importRecords(records)).toEqual({
        sessions: { written: 0, skipped: 2 },
        messages: { written: 0, skipped: 2 },
      });
      expect(await snapshotStore(store)).toEqual(before);
    },
  },
  {
    name: 'importRecords - a record whose id is already stored is skipped, not overwritten',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a', title: 'mine', metadata: { mine: true } });
      await store.addMessage('a', { id: 'm', role: 'user', content: 'mine' });
      const result = await store.importRecords([
        session('a', { title: 'theirs' }),
        message('m', 'a', { content: 'theirs' }),
        message('m-new', 'a'),
      ]);
      expect(result).toEqual({ sessions: { written: 0, skipped: 1 }, messages: { written: 1, skipped: 1 } });
      expect(await store.getSession('a')).toMatchObject({ title: 'mine', metadata: { mine: true } });
      expect((await store.getHistory('a')).map((m) => m.id).sort()).toEqual(['m', 'm-new']);
      expect((await store.getHistory('a')).find((m) => m.id === 'm')?.content).toBe('mine');
      expect((await store.getSessions())[0]?.messageCount).toBe(2);
    },
  },
  {
    name: 'importRecords - a message whose session is missing is refused and nothing is written',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'existing' });
      const before = await snapshotStore(store);
      const error = await expectMemoryError(
        () => store.importRecords([session('new'), message('m1', 'new'), message('m2', 'nowhere')]),
        { code: 'SESSION_NOT_FOUND' },
      );
      expect((error as { sessionId?: string }).sessionId).toBe('nowhere');
      expect(await snapshotStore(store)).toEqual(before);
      expect(await store.getSession('new')).toBeNull();
    },
  },
  {
    name: 'importRecords - a message of a session already stored is added and the counts are recomputed',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 'a' });
      await store.addMessage('a', { id: 'live', role: 'user', content: 'live' });
      await store.importRecords([message('old', 'a', { createdAt: '2000-01-01T00:00:00.000000Z' })]);
      const [summary] = await store.getSessions();
      const history = await store.getHistory('a');
      expect(summary?.messageCount).toBe(2);
      // History is by createdAt: the imported message from 2000 comes first.
      expect(history.map((m) => m.id)).toEqual(['old', 'live']);
      expect(summary?.lastMessageAt?.getTime()).toBe(history[1]?.createdAt.getTime());
    },
  },
  {
    name: 'importRecords - messages given out of time order read back in time order',
    async run({ open }) {
      const store = await open();
      await store.importRecords([
        session('a'),
        message('late', 'a', { createdAt: '2024-05-01T10:03:00.000000Z' }),
        message('early', 'a', { createdAt: '2024-05-01T10:01:00.000000Z' }),
        message('middle', 'a', { createdAt: '2024-05-01T10:02:00.000000Z' }),
      ]);
      expect((await store.getHistory('a')).map((m) => m.id)).toEqual(['early', 'middle', 'late']);
      expect((await store.getSessions())[0]?.lastMessageAt?.toISOString()).toBe('2024-05-01T10:03:00.000Z');
    },
  },
  {
    name: 'importRecords - timestamps are read as given: other ISO forms normalised, microseconds truncated',
    async run({ open }) {
      const store = await open();
      await store.importRecords([
        session('a', { createdAt: '2025-03-01 14:32:01.5+02:00', updatedAt: undefined as unknown as string }),
        message('naive', 'a', { createdAt: '2025-03-01T12:40:00.117999' }),
        message('offset', 'a', { createdAt: '2025-03-01T14:41:00.000001+0200' }),
      ]);
      const stored = await store.getSession('a');
      expect(stored?.createdAt.toISOString()).toBe('2025-03-01T12:32:01.500Z');
      expect(stored?.updatedAt.toISOString()).toBe('2025-03-01T12:32:01.500Z');
      const history = await store.getHistory('a');
      expect(history.map((m) => [m.id, m.createdAt.toISOString()])).toEqual([
        ['naive', '2025-03-01T12:40:00.117Z'],
        ['offset', '2025-03-01T12:41:00.000Z'],
      ]);
      for (const record of await collect(store.exportRecords())) {
        expect(record.createdAt).toMatch(ISO_MICROS);
      }
    },
  },
  {
    name: 'importRecords - metadata and title left out read back as {} and null',
    async run({ open }) {
      const store = await open();
      const bare = {
        type: 'session',
        id: 'a',
        createdAt: '2024-01-01T00:00:00Z',
      } as unknown as PortableRecord;
      const bareMessage = {
        type: 'message',
        id: 'm',
        sessionId: 'a',
        role: 'user',
        content: 'x',
        createdAt: '2024-01-01T00:00:01Z',
      } as unknown as PortableRecord;
      await store.importRecords([bare, bareMessage]);
      expect(await store.getSession('a')).toMatchObject({ title: null, metadata: {} });
      expect((await store.getHistory('a'))[0]?.metadata).toEqual({});
    },
  },
  {
    name: 'importRecords - batchSize 1 and an async iterable give the same result as one batch',
    async run({ open }) {
      const records = [
        session('a'),
        message('m1', 'a'),
        session('b'),
        message('m2', 'b'),
        message('m3', 'a'),
      ];
      const one = await open();
      await one.importRecords(records);
      const many = await open();
      async function* stream() {
        for (const record of records) yield record;
      }
      expect(await many.importRecords(stream(), { batchSize: 1 })).toEqual({
        sessions: { written: 2, skipped: 0 },
        messages: { written: 3, skipped: 0 },
      });
      expect(await snapshotStore(many)).toEqual(await snapshotStore(one));
    },
  },
  {
    name: 'importRecords - an empty input writes nothing',
    async run({ open }) {
      const store = await open();
      expect(await store.importRecords([])).toEqual(NOTHING);
    },
  },
  ...BAD_RECORDS.map(
    ([what, records, field]): ConformanceCase => ({
      name: `importRecords - refuses ${what} (ValidationError on ${field}) and writes nothing`,
      async run({ open }) {
        const store = await open();
        await store.createSession({ id: 'present' });
        const before = await snapshotStore(store);
        await expectMemoryError(() => store.importRecords(records() as PortableRecord[]), {
          code: 'VALIDATION_FAILED',
          field,
        });
        expect(await snapshotStore(store)).toEqual(before);
      },
    }),
  ),
  ...(
    [
      ['batchSize 0', { batchSize: 0 }, 'batchSize'],
      ['batchSize 10,001', { batchSize: 10_001 }, 'batchSize'],
      ['batchSize 1.5', { batchSize: 1.5 }, 'batchSize'],
      ['a batchSize string', { batchSize: '5' }, 'batchSize'],
      ['options that are not an object', 'fast', 'options'],
    ] as const
  ).map(
    ([what, options, field]): ConformanceCase => ({
      name: `importRecords - refuses ${what} (ValidationError on ${field})`,
      async run({ open }) {
        const store = await open();
        await expectMemoryError(() => store.importRecords([session('a')], options as never), {
          code: 'VALIDATION_FAILED',
          field,
        });
        expect(await store.getSession('a')).toBeNull();
      },
    }),
  ),
  ...(
    [
      ['sessionIds that is not an array', { sessionIds: 'a' }, 'sessionIds'],
      ['an empty id in sessionIds', { sessionIds: ['a', ''] }, 'sessionIds[1]'],
      ['options that are not an object', 42, 'options'],
    ] as const
  ).map(
    ([what, options, field]): ConformanceCase => ({
      name: `exportRecords - refuses ${what} (ValidationError on ${field})`,
      async run({ open }) {
        const store = await open();
        await expectMemoryError(() => store.exportRecords(options as never), {
          code: 'VALIDATION_FAILED',
          field,
        });
      },
    }),
  ),
];
