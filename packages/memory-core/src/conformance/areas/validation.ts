import { expect } from 'vitest';
import type { ConversationMemory } from '../../conversation-memory.js';
import { LIMITS, type Metadata } from '../../types.js';
import type { ConformanceCase } from '../conformance-case.js';
import { expectMemoryError } from '../expect-error.js';
import { nestedMetadata } from '../samples.js';
import { snapshotStore } from '../store-snapshot.js';

/** The store with every method taking anything, as JavaScript callers (and bad TypeScript casts) can. */
type LooseMemory = Record<keyof ConversationMemory, (...args: unknown[]) => Promise<unknown>>;

/** A call the contract refuses: which method, what is wrong, the field the error must name. */
interface Refusal {
  method: keyof ConversationMemory;
  what: string;
  field: string | RegExp;
  call(store: LooseMemory): Promise<unknown>;
}

/** A session `seed` with message `seed-message` exists when a refusal runs, so writes have a target. */
const SEED = 'seed';

type Bad = [what: string, value: () => unknown];

const BAD_TEXT: Bad[] = [
  ['U+0000', () => 'a\u0000b'],
  ['a lone high surrogate', () => 'ab\uD83D'],
  ['a lone low surrogate', () => '\uDE00ab'],
  ['surrogates in the wrong order', () => '\uDE00\uD83D'],
];

const BAD_IDS: Bad[] = [
  ['an empty string', () => ''],
  ['256 characters', () => 'x'.repeat(LIMITS.idLength + 1)],
  ['128 emoji (256 UTF-16 code units)', () => '😀'.repeat(128)],
  ['a number', () => 42],
  ['null', () => null],
  ['an object', () => ({ id: 'x' })],
  ...BAD_TEXT,
];

const BAD_SESSION_IDS: Bad[] = [...BAD_IDS, ['undefined', () => undefined]];

const BAD_TITLES: Bad[] = [
  ['a number', () => 42],
  ['an object', () => ({ title: 'x' })],
  ['10,001 characters', () => 't'.repeat(10_001)],
  ...BAD_TEXT,
];

const BAD_ROLES: Bad[] = [
  ['an empty string', () => ''],
  ['65 characters', () => 'r'.repeat(65)],
  ['a number', () => 42],
  ['missing', () => undefined],
  ['null', () => null],
  ['an object', () => ({ role: 'user' })],
  ...BAD_TEXT,
];

const BAD_CONTENT: Bad[] = [
  ['a number', () => 42],
  ['missing', () => undefined],
  ['null', () => null],
  ['an object', () => ({ text: 'x' })],
  ['an array', () => ['x']],
  ['a Uint8Array', () => new Uint8Array([104, 105])],
  ...BAD_TEXT,
];

/** Metadata that is not a plain object at all: the error names `metadata` itself. */
const BAD_METADATA_ROOT: Bad[] = [
  ['null', () => null],
  ['an array', () => []],
  ['a string', () => '{}'],
  ['a number', () => 1],
  ['a boolean', () => true],
  ['a Date', () => new Date(0)],
  ['a Map', () => new Map([['a', 1]])],
  ['a Set', () => new Set([1])],
  ['a function', () => () => ({})],
  [
    'a class instance',
    () =>
      new (class Point {
        x = 1;
      })(),
  ],
  ['a BigInt', () => 1n],
  ['a symbol', () => Symbol('s')],
  ['a boxed String', () => Object('x')],
  ['an object with a symbol key', () => ({ [Symbol('k')]: 1 })],
];

function cycle(): Metadata {
  const self: Record<string, unknown> = { ok: 1 };
  self.self = self;
  return self as Metadata;
}

function nestedCycle(): Metadata {
  const root: Record<string, unknown> = {};
  root.a = { back: root };
  return root as Metadata;
}

function arrayCycle(): Metadata {
  const list: unknown[] = [];
  list.push(list);
  return { list } as Metadata;
}

function sparse(): Metadata {
  const list: number[] = [1];
  list[2] = 3;
  return { list };
}

/** Metadata with one bad value inside: the error names the path to it. */
const BAD_METADATA_INSIDE: [what: string, value: () => unknown, field: string | RegExp][] = [
  ['an undefined value', () => ({ a: undefined }), 'metadata.a'],
  ['a function value', () => ({ a: () => 1 }), 'metadata.a'],
  ['a BigInt value', () => ({ a: 10n }), 'metadata.a'],
  ['a symbol value', () => ({ a: Symbol('s') }), 'metadata.a'],
  ['NaN', () => ({ a: Number.NaN }), 'metadata.a'],
  ['Infinity', () => ({ a: Number.POSITIVE_INFINITY }), 'metadata.a'],
  ['-Infinity', () => ({ a: Number.NEGATIVE_INFINITY }), 'metadata.a'],
  ['a Date value', () => ({ a: new Date(0) }), 'metadata.a'],
  ['a Map value', () => ({ a: new Map([[1, 2]]) }), 'metadata.a'],
  ['a RegExp value', () => ({ a: /x/ }), 'metadata.a'],
  ['a typed array value', () => ({ a: new Uint8Array(2) }), 'metadata.a'],
  ['a cycle', cycle, 'metadata.self'],
  ['a cycle through a nested object', nestedCycle, 'metadata.a.back'],
  ['a cycle through an array', arrayCycle, 'metadata.list[0]'],
  ['undefined in an array', () => ({ list: [1, undefined] }), 'metadata.list[1]'],
  ['a sparse array', sparse, 'metadata.list[1]'],
  ['NaN deep inside', () => ({ a: { b: [1, { c: Number.NaN }] } }), 'metadata.a.b[1].c'],
  ['a string value with U+0000', () => ({ a: 'x\u0000' }), 'metadata.a'],
  ['a lone surrogate in an array', () => ({ a: ['ok', '\uD83D'] }), 'metadata.a[1]'],
  ['a key with U+0000', () => ({ 'k\u0000': 1 }), /^metadata/],
  ['a key with a lone surrogate', () => ({ '\uDC00k': 1 }), /^metadata/],
  ['a nested symbol key', () => ({ a: { [Symbol('k')]: 1 } }), 'metadata.a'],
  ['nesting 65 levels deep', () => nestedMetadata(65), /^metadata/],
];

const BAD_OPTIONS: Bad[] = [
  ['a string', () => 'x'],
  ['a number', () => 5],
  ['an array', () => []],
  ['null', () => null],
];

const BAD_HISTORY_LIMITS: Bad[] = [
  ['0', () => 0],
  ['-1', () => -1],
  ['1.5', () => 1.5],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['a numeric string', () => '10'],
  ['null', () => null],
  ['a boolean', () => true],
  ['100,001', () => 100_001],
];

const BAD_SESSION_LIMITS: Bad[] = [
  ['0', () => 0],
  ['-1', () => -1],
  ['2.5', () => 2.5],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['a numeric string', () => '5'],
  ['null', () => null],
  ['1,001', () => 1_001],
];

const BAD_OFFSETS: Bad[] = [
  ['-1', () => -1],
  ['1.5', () => 1.5],
  ['NaN', () => Number.NaN],
  ['Infinity', () => Number.POSITIVE_INFINITY],
  ['a numeric string', () => '0'],
  ['null', () => null],
  ['2,147,483,648', () => 2_147_483_648],
];

/** Cursors no listing returns; `null` and `undefined` mean "from the start" and are valid. */
const BAD_CURSORS: Bad[] = [
  ['a number', () => 42],
  ['an object', () => ({ at: 1 })],
  ['the empty string', () => ''],
  ['text that is not a cursor', () => 'page-2'],
  ['base64 of JSON that is not a cursor', () => Buffer.from('{"page":2}').toString('base64url')],
  [
    'a forged cursor with an impossible date',
    () => Buffer.from('["s","2025-02-30T00:00:00.000000Z","x"]').toString('base64url'),
  ],
  ['U+0000', () => 'a\u0000'],
];

const message = (fields: Record<string, unknown>) => ({ role: 'user', content: 'hi', ...fields });

const SESSION_ID_METHODS = {
  addMessage: (s: LooseMemory, id: unknown) => s.addMessage(id, message({})),
  getHistory: (s: LooseMemory, id: unknown) => s.getHistory(id),
  getHistoryPage: (s: LooseMemory, id: unknown) => s.getHistoryPage(id),
  getSession: (s: LooseMemory, id: unknown) => s.getSession(id),
  updateSessionTitle: (s: LooseMemory, id: unknown) => s.updateSessionTitle(id, 'new title'),
  deleteSession: (s: LooseMemory, id: unknown) => s.deleteSession(id),
} as const;

const REFUSALS: Refusal[] = [
  ...(Object.keys(SESSION_ID_METHODS) as (keyof typeof SESSION_ID_METHODS)[]).flatMap((method) =>
    BAD_SESSION_IDS.map(([what, value]) => ({
      method,
      what: `sessionId: ${what}`,
      field: 'sessionId',
      call: (s: LooseMemory) => SESSION_ID_METHODS[method](s, value()),
    })),
  ),
  ...(
    [
      ['a string', () => 'x'],
      ['a number', () => 42],
      ['an array', () => []],
      ['null', () => null],
      ['a boolean', () => true],
    ] as Bad[]
  ).map(([what, value]) => ({
    method: 'createSession' as const,
    what: `input: ${what}`,
    field: 'session',
    call: (s: LooseMemory) => s.createSession(value()),
  })),
  ...BAD_IDS.map(([what, value]) => ({
    method: 'createSession' as const,
    what: `id: ${what}`,
    field: 'id',
    call: (s: LooseMemory) => s.createSession({ id: value() }),
  })),
  ...BAD_IDS.filter(([what]) => what !== 'null').map(([what, value]) => ({
    method: 'createSession' as const,
    what: `ownerId: ${what}`,
    field: 'ownerId',
    call: (s: LooseMemory) => s.createSession({ ownerId: value() }),
  })),
  ...BAD_TITLES.map(([what, value]) => ({
    method: 'createSession' as const,
    what: `title: ${what}`,
    field: 'title',
    call: (s: LooseMemory) => s.createSession({ title: value() }),
  })),
  ...[...BAD_TITLES, ['undefined', () => undefined] as Bad].map(([what, value]) => ({
    method: 'updateSessionTitle' as const,
    what: `title: ${what}`,
    field: 'title',
    call: (s: LooseMemory) => s.updateSessionTitle(SEED, value()),
  })),
  ...(
    [
      ['null', () => null],
      ['undefined', () => undefined],
      ['a string', () => 'hello'],
      ['a number', () => 42],
      ['an array', () => []],
    ] as Bad[]
  ).map(([what, value]) => ({
    method: 'addMessage' as const,
    what: `input: ${what}`,
    field: 'message',
    call: (s: LooseMemory) => s.addMessage(SEED, value()),
  })),
  ...BAD_IDS.map(([what, value]) => ({
    method: 'addMessage' as const,
    what: `id: ${what}`,
    field: 'id',
    call: (s: LooseMemory) => s.addMessage(SEED, message({ id: value() })),
  })),
  ...BAD_ROLES.map(([what, value]) => ({
    method: 'addMessage' as const,
    what: `role: ${what}`,
    field: 'role',
    call: (s: LooseMemory) => s.addMessage(SEED, message({ role: value() })),
  })),
  ...BAD_CONTENT.map(([what, value]) => ({
    method: 'addMessage' as const,
    what: `content: ${what}`,
    field: 'content',
    call: (s: LooseMemory) => s.addMessage(SEED, message({ content: value() })),
  })),
  ...(['createSession', 'addMessage'] as const).flatMap((method) => {
    const write = (s: LooseMemory, metadata: unknown) =>
      method === 'createSession' ? s.createSession({ metadata }) : s.addMessage(SEED, message({ metadata }));
    return [
      ...BAD_METADATA_ROOT.map(([what, value]) => ({
        method,
        what: `metadata: ${what}`,
        field: 'metadata',
        call: (s: LooseMemory) => write(s, value()),
      })),
      ...BAD_METADATA_INSIDE.map(([what, value, field]) => ({
        method,
        what: `metadata with ${what}`,
        field,
        call: (s: LooseMemory) => write(s, value()),
      })),
    ];
  }),
  ...BAD_OPTIONS.map(([what, value]) => ({
    method: 'getHistory' as const,
    what: `options: ${what}`,
    field: 'options',
    call: (s: LooseMemory) => s.getHistory(SEED, value()),
  })),
  ...BAD_HISTORY_LIMITS.map(([what, value]) => ({
    method: 'getHistory' as const,
    what: `limit: ${what}`,
    field: 'limit',
    call: (s: LooseMemory) => s.getHistory(SEED, { limit: value() }),
  })),
  ...BAD_OPTIONS.map(([what, value]) => ({
    method: 'getHistoryPage' as const,
    what: `options: ${what}`,
    field: 'options',
    call: (s: LooseMemory) => s.getHistoryPage(SEED, value()),
  })),
  ...BAD_HISTORY_LIMITS.map(([what, value]) => ({
    method: 'getHistoryPage' as const,
    what: `limit: ${what}`,
    field: 'limit',
    call: (s: LooseMemory) => s.getHistoryPage(SEED, { limit: value() }),
  })),
  ...BAD_CURSORS.map(([what, value]) => ({
    method: 'getHistoryPage' as const,
    what: `before: ${what}`,
    field: 'before',
    call: (s: LooseMemory) => s.getHistoryPage(SEED, { before: value() }),
  })),
  ...BAD_OPTIONS.map(([what, value]) => ({
    method: 'getSessionsPage' as const,
    what: `options: ${what}`,
    field: 'options',
    call: (s: LooseMemory) => s.getSessionsPage(value()),
  })),
  ...BAD_SESSION_LIMITS.map(([what, value]) => ({
    method: 'getSessionsPage' as const,
    what: `limit: ${what}`,
    field: 'limit',
    call: (s: LooseMemory) => s.getSessionsPage({ limit: value() }),
  })),
  ...BAD_CURSORS.map(([what, value]) => ({
    method: 'getSessionsPage' as const,
    what: `cursor: ${what}`,
    field: 'cursor',
    call: (s: LooseMemory) => s.getSessionsPage({ cursor: value() }),
  })),
  ...BAD_OPTIONS.map(([what, value]) => ({
    method: 'getSessions' as const,
    what: `options: ${what}`,
    field: 'options',
    call: (s: LooseMemory) => s.getSessions(value()),
  })),
  ...BAD_SESSION_LIMITS.map(([what, value]) => ({
    method: 'getSessions' as const,
    what: `limit: ${what}`,
    field: 'limit',
    call: (s: LooseMemory) => s.getSessions({ limit: value() }),
  })),
  ...BAD_OFFSETS.map(([what, value]) => ({
    method: 'getSessions' as const,
    what: `offset: ${what}`,
    field: 'offset',
    call: (s: LooseMemory) => s.getSessions({ offset: value() }),
  })),
];

function refusalCase(refusal: Refusal): ConformanceCase {
  return {
    name: `${refusal.method} - refuses ${refusal.what} (ValidationError on ${String(refusal.field)})`,
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: SEED, title: 'seed', metadata: { seed: true } });
      await store.addMessage(SEED, { id: 'seed-message', role: 'user', content: 'seed' });
      const before = await snapshotStore(store);
      await expectMemoryError(() => refusal.call(store as unknown as LooseMemory), {
        code: 'VALIDATION_FAILED',
        field: refusal.field,
      });
      expect(await snapshotStore(store), 'the refused call wrote something').toEqual(before);
    },
  };
}

/** Values exactly at a bound, which must be accepted (and stored unchanged). */
const ACCEPTED: ConformanceCase[] = [
  {
    name: 'createSession - accepts ids of exactly 255 characters and of 1 character',
    async run({ open }) {
      const store = await open();
      for (const id of ['i'.repeat(LIMITS.idLength), 'x']) {
        expect(await store.createSession({ id })).toBe(id);
        expect((await store.getSession(id))?.id).toBe(id);
      }
    },
  },
  {
    name: 'createSession - accepts an id of 127 emoji and a letter (255 UTF-16 code units)',
    async run({ open }) {
      const store = await open();
      const id = `${'🎉'.repeat(127)}x`;
      await store.createSession({ id });
      expect((await store.getSession(id))?.id).toBe(id);
    },
  },
  {
    name: 'addMessage - accepts an id of exactly 255 characters and a role of exactly 64',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      const id = 'm'.repeat(LIMITS.idLength);
      const role = 'r'.repeat(64);
      await store.addMessage('s', { id, role, content: 'x' });
      expect((await store.getHistory('s'))[0]).toMatchObject({ id, role });
    },
  },
  {
    name: 'createSession - accepts a title of exactly 10,000 characters',
    async run({ open }) {
      const store = await open();
      const title = 'é'.repeat(10_000);
      const id = await store.createSession({ title });
      expect((await store.getSession(id))?.title).toBe(title);
      await store.updateSessionTitle(id, `${'t'.repeat(9_999)}!`);
      expect((await store.getSession(id))?.title).toHaveLength(10_000);
    },
  },
  {
    name: 'createSession - accepts metadata nested 64 levels deep',
    async run({ open }) {
      const store = await open();
      const id = await store.createSession({ metadata: nestedMetadata(64) });
      expect((await store.getSession(id))?.metadata).toEqual(nestedMetadata(64));
    },
  },
  {
    name: 'createSession - accepts metadata with a null prototype',
    async run({ open }) {
      const store = await open();
      const metadata = Object.assign(Object.create(null) as Metadata, { a: 1, b: { c: 'd' } });
      const id = await store.createSession({ metadata });
      expect((await store.getSession(id))?.metadata).toEqual({ a: 1, b: { c: 'd' } });
    },
  },
  {
    name: 'addMessage - accepts surrogate pairs in ids, role, content and metadata',
    async run({ open }) {
      const store = await open();
      const emoji = '👩‍👩‍👧‍👦𝄞';
      await store.createSession({ id: `s${emoji}`, title: emoji });
      await store.addMessage(`s${emoji}`, {
        id: `m${emoji}`,
        role: emoji,
        content: emoji,
        metadata: { [emoji]: [emoji] },
      });
      expect((await store.getHistory(`s${emoji}`))[0]).toMatchObject({
        id: `m${emoji}`,
        role: emoji,
        content: emoji,
        metadata: { [emoji]: [emoji] },
      });
    },
  },
  {
    name: 'getHistory - accepts limit 100,000',
    async run({ open }) {
      const store = await open();
      await store.createSession({ id: 's' });
      await store.addMessage('s', { role: 'user', content: 'x' });
      expect(await store.getHistory('s', { limit: 100_000 })).toHaveLength(1);
    },
  },
  {
    name: 'getSessions - accepts limit 1,000, offset 0 and offset 2,147,483,647',
    async run({ open }) {
      const store = await open();
      await store.createSession();
      expect(await store.getSessions({ limit: 1_000, offset: 0 })).toHaveLength(1);
      expect(await store.getSessions({ limit: 1_000, offset: 2_147_483_647 })).toEqual([]);
    },
  },
  {
    name: 'all methods - report refused arguments as rejected promises, not synchronous throws',
    async run({ open }) {
      const store = (await open()) as unknown as LooseMemory;
      const calls: [string, () => unknown][] = [
        ['createSession', () => store.createSession({ id: '' })],
        ['addMessage', () => store.addMessage('', message({}))],
        ['getHistory', () => store.getHistory('')],
        ['getHistoryPage', () => store.getHistoryPage('')],
        ['getSessionsPage', () => store.getSessionsPage({ limit: 0 })],
        ['importRecords', () => store.importRecords([{}])],
        ['check', () => store.check()],
        ['getSessions', () => store.getSessions({ limit: 0 })],
        ['getSession', () => store.getSession('')],
        ['updateSessionTitle', () => store.updateSessionTitle('', null)],
        ['deleteSession', () => store.deleteSession('')],
      ];
      for (const [method, call] of calls) {
        let result: unknown;
        expect(() => {
          result = call();
        }, `${method} threw synchronously`).not.toThrow();
        expect(typeof (result as Promise<unknown> | undefined)?.then, `${method} returned no promise`).toBe(
          'function',
        );
        await (result as Promise<unknown>).catch(() => undefined);
      }
    },
  },
];

/** Every validation rule, each with its error class, code and field, and the proof that nothing was written. */
export const validationCases: ConformanceCase[] = [...REFUSALS.map(refusalCase), ...ACCEPTED];
