import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  assertId,
  assertMetadata,
  assertText,
  assertTitle,
  validateExportOptions,
  validateHistoryOptions,
  validateImportOptions,
  validateListSessionsOptions,
  validateNewMessage,
  validateNewSession,
  validatePortableRecord,
} from '../src/backend.js';
import { nestedMetadata } from '../src/conformance/samples.js';
import { InMemoryConversationMemory, LIMITS, ValidationError } from '../src/index.js';

/** The field a call refuses, or `undefined` when it accepts. */
function refusedField(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (!ValidationError.isInstance(error)) throw error;
    expect(error.code).toBe('VALIDATION_FAILED');
    return error.field;
  }
}

describe('text, ids and titles', () => {
  test('text: any string but U+0000 and lone surrogates', () => {
    for (const ok of ['', 'plain', '👩‍💻🇯🇵', '\uD83D\uDE00', '\u0001\uFFFF']) {
      expect(
        refusedField(() => assertText('t', ok)),
        JSON.stringify(ok),
      ).toBeUndefined();
    }
    for (const bad of [
      'a\u0000',
      '\uD800',
      'x\uDBFFy',
      '\uDC00',
      'a\uDFFF',
      '\uDE00\uD83D',
      42,
      null,
      undefined,
    ]) {
      expect(
        refusedField(() => assertText('t', bad)),
        JSON.stringify(bad),
      ).toBe('t');
    }
  });

  test('ids: 1 to 255 UTF-16 code units', () => {
    expect(LIMITS.idLength).toBe(255);
    expect(refusedField(() => assertId('id', 'x'))).toBeUndefined();
    expect(refusedField(() => assertId('id', 'x'.repeat(LIMITS.idLength)))).toBeUndefined();
    expect(refusedField(() => assertId('id', `${'😀'.repeat(127)}x`))).toBeUndefined();
    expect(refusedField(() => assertId('id', 'x'.repeat(256)))).toBe('id');
    expect(refusedField(() => assertId('id', '😀'.repeat(128)))).toBe('id');
    expect(refusedField(() => assertId('id', ''))).toBe('id');
    expect(refusedField(() => assertId('sessionId', 7))).toBe('sessionId');
  });

  test('titles: null or text of at most 10,000 characters', () => {
    expect(refusedField(() => assertTitle('title', null))).toBeUndefined();
    expect(refusedField(() => assertTitle('title', ''))).toBeUndefined();
    expect(refusedField(() => assertTitle('title', 't'.repeat(10_000)))).toBeUndefined();
    expect(refusedField(() => assertTitle('title', 't'.repeat(10_001)))).toBe('title');
    expect(refusedField(() => assertTitle('title', undefined))).toBe('title');
  });
});

describe('metadata', () => {
  test('nesting: 64 levels are accepted, 65 refused, arrays counting as levels', () => {
    expect(refusedField(() => assertMetadata('metadata', nestedMetadata(64)))).toBeUndefined();
    expect(refusedField(() => assertMetadata('metadata', nestedMetadata(65)))).toMatch(/^metadata(\.a)+$/);
    let arrays: unknown = 1;
    for (let i = 0; i < 63; i++) arrays = [arrays];
    expect(refusedField(() => assertMetadata('metadata', { a: arrays }))).toBeUndefined();
    expect(refusedField(() => assertMetadata('metadata', { a: [arrays] }))).toMatch(/^metadata\.a(\[0\])+$/);
  });

  test('an object shared in two places is not a cycle', () => {
    const shared = { x: [1, 2] };
    expect(
      refusedField(() => assertMetadata('metadata', { a: shared, b: shared, c: [shared, shared] })),
    ).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.inner = { back: cyclic };
    expect(refusedField(() => assertMetadata('metadata', cyclic))).toBe('metadata.inner.back');
  });

  test('shared references are checked once and count at their expanded size: a 2^24-node DAG is refused fast', () => {
    let v: unknown[] = [];
    for (let i = 0; i < 24; i++) v = [v, v];
    const started = performance.now();
    expect(refusedField(() => assertMetadata('metadata', { v }))).toBe('metadata');
    expect(performance.now() - started).toBeLessThan(200);
    // The same DAG within the limits is accepted, also without expanding it: 2^12 leaves.
    let small: unknown[] = [1];
    for (let i = 0; i < 12; i++) small = [small, small];
    const at = performance.now();
    expect(refusedField(() => assertMetadata('metadata', { small }))).toBeUndefined();
    expect(performance.now() - at).toBeLessThan(200);
  });

  test('a shared object counts at the depth of its deepest use', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 60; i++) deep = [deep];
    // 60 arrays under `a` (depth 1 to 60) fit; the same object three levels further down does not.
    expect(refusedField(() => assertMetadata('metadata', { a: deep, b: deep }))).toBeUndefined();
    expect(refusedField(() => assertMetadata('metadata', { a: deep, b: [[[[deep]]]] }))).toMatch(
      /^metadata\.b/,
    );
  });

  test(`metadata is at most LIMITS.metadataBytes (${LIMITS.metadataBytes}) bytes of JSON`, () => {
    expect(LIMITS.metadataBytes).toBe(1_048_576);
    // {"s":"..."} is 8 bytes around the string.
    const fits = { s: 'x'.repeat(LIMITS.metadataBytes - 8) };
    expect(JSON.stringify(fits).length).toBe(LIMITS.metadataBytes);
    expect(refusedField(() => assertMetadata('metadata', fits))).toBeUndefined();
    expect(refusedField(() => assertMetadata('metadata', { s: 'x'.repeat(LIMITS.metadataBytes - 7) }))).toBe(
      'metadata',
    );
    // UTF-8 bytes, not characters: 'é' is 2 bytes.
    expect(refusedField(() => assertMetadata('metadata', { s: 'é'.repeat(LIMITS.metadataBytes / 2) }))).toBe(
      'metadata',
    );
    const started = performance.now();
    const many = Array.from({ length: 400_000 }, (_, i) => i);
    expect(refusedField(() => validateNewMessage({ role: 'user', content: 'x', metadata: { many } }))).toBe(
      'metadata',
    );
    expect(refusedField(() => validateNewSession({ metadata: { many } }))).toBe('metadata');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('names the path of the first bad value', () => {
    expect(refusedField(() => assertMetadata('metadata', { a: { b: [1, { c: Number.NaN }] } }))).toBe(
      'metadata.a.b[1].c',
    );
    expect(refusedField(() => assertMetadata('metadata', { list: [1, undefined] }))).toBe('metadata.list[1]');
    expect(refusedField(() => assertMetadata('records[3].metadata', { d: new Date() }))).toBe(
      'records[3].metadata.d',
    );
    expect(refusedField(() => assertMetadata('metadata', { 'k\u0000': 1 }))).toMatch(/^metadata key /);
  });

  test('accepts every JSON value and plain objects of any prototype-free kind', () => {
    const value = {
      s: 'x',
      n: -1.5e300,
      b: false,
      z: null,
      a: [[], {}],
      o: Object.assign(Object.create(null), { k: 1 }),
    };
    expect(refusedField(() => assertMetadata('metadata', value))).toBeUndefined();
  });

  test('refuses what JSON would change or drop', () => {
    const bad: unknown[] = [
      { f: () => 1 },
      { u: undefined },
      { big: 1n },
      { s: Symbol('x') },
      { n: Number.POSITIVE_INFINITY },
      { n: Number.NaN },
      { d: new Date(0) },
      { m: new Map() },
      { [Symbol('k')]: 1 },
      [],
      new Date(0),
      null,
    ];
    for (const value of bad)
      expect(refusedField(() => assertMetadata('metadata', value))).toMatch(/^metadata/);
  });
});

describe('method inputs', () => {
  test('createSession input: defaults applied, every field checked', () => {
    expect(validateNewSession(undefined)).toEqual({
      id: undefined,
      title: null,
      metadata: {},
      ownerId: null,
    });
    expect(validateNewSession({ id: 'a', title: 't', metadata: { x: 1 }, ownerId: 'o' })).toEqual({
      id: 'a',
      title: 't',
      metadata: { x: 1 },
      ownerId: 'o',
    });
    expect(refusedField(() => validateNewSession(null))).toBe('session');
    expect(refusedField(() => validateNewSession({ id: '' }))).toBe('id');
    expect(refusedField(() => validateNewSession({ ownerId: '' }))).toBe('ownerId');
    expect(refusedField(() => validateNewSession({ metadata: null }))).toBe('metadata');
  });

  test('addMessage input: role bounds, content a string, metadata default {}', () => {
    expect(validateNewMessage({ role: 'r'.repeat(64), content: '' })).toEqual({
      id: undefined,
      role: 'r'.repeat(64),
      content: '',
      metadata: {},
      payload: null,
      format: null,
      payloadJson: null,
      digest: createHash('sha256')
        .update(JSON.stringify(['r'.repeat(64), '', {}, null, null]))
        .digest('hex'),
    });
    expect(refusedField(() => validateNewMessage({ role: 'r'.repeat(65), content: '' }))).toBe('role');
    expect(refusedField(() => validateNewMessage({ role: '', content: '' }))).toBe('role');
    expect(refusedField(() => validateNewMessage({ role: 'user', content: 1 }))).toBe('content');
    expect(refusedField(() => validateNewMessage([]))).toBe('message');
  });

  test('metadata omitted, undefined or {} is one message; anything else empty-looking is checked', () => {
    const digest = (metadata?: unknown) =>
      validateNewMessage({ role: 'user', content: 'x', metadata }).digest;
    const omitted = validateNewMessage({ role: 'user', content: 'x' });
    expect(omitted.metadata).toEqual({});
    expect(digest(undefined)).toBe(omitted.digest);
    expect(digest({})).toBe(omitted.digest);
    expect(digest(Object.create(null))).toBe(omitted.digest);
    expect(digest({ a: 1 })).not.toBe(omitted.digest);
    // Each would serialise as {} (or be left out) and must still be refused, not digested as empty metadata.
    expect(refusedField(() => digest(null))).toBe('metadata');
    expect(refusedField(() => digest({ [Symbol('s')]: 1 }))).toBe('metadata');
    expect(refusedField(() => digest(new Map()))).toBe('metadata');
    expect(refusedField(() => digest([]))).toBe('metadata');
    // Omitted metadata gives each message an object of its own, not one shared between them.
    expect(validateNewMessage({ role: 'user', content: 'x' }).metadata).not.toBe(omitted.metadata);
  });

  test('history and session listing options: integer ranges and defaults', () => {
    expect(validateHistoryOptions(undefined)).toEqual({ limit: undefined });
    expect(validateHistoryOptions({ limit: LIMITS.historyLimit })).toEqual({ limit: 100_000 });
    expect(refusedField(() => validateHistoryOptions({ limit: 0 }))).toBe('limit');
    expect(refusedField(() => validateHistoryOptions({ limit: 2.5 }))).toBe('limit');
    expect(validateListSessionsOptions({})).toEqual({ limit: 50, offset: 0 });
    expect(validateListSessionsOptions({ limit: 1_000, offset: 2_147_483_647 })).toEqual({
      limit: 1_000,
      offset: 2_147_483_647,
    });
    expect(refusedField(() => validateListSessionsOptions({ limit: 1_001 }))).toBe('limit');
    expect(refusedField(() => validateListSessionsOptions({ offset: -1 }))).toBe('offset');
    expect(refusedField(() => validateListSessionsOptions('x'))).toBe('options');
  });

  test('import and export options', () => {
    expect(validateImportOptions(undefined)).toEqual({ batchSize: 500 });
    expect(refusedField(() => validateImportOptions({ batchSize: 10_001 }))).toBe('batchSize');
    expect(validateExportOptions({ sessionIds: ['a'] })).toEqual({ sessionIds: ['a'] });
    expect(refusedField(() => validateExportOptions({ sessionIds: ['a', 5] }))).toBe('sessionIds[1]');
  });

  test('validation does not change what it is given', () => {
    const input = { role: 'user', content: 'x', metadata: { a: [1] } };
    const copy = structuredClone(input);
    validateNewMessage(input);
    expect(input).toEqual(copy);
  });
});

describe('portable records', () => {
  test('are normalised: canonical UTC micro-second timestamps, defaults for what may be left out', () => {
    expect(
      validatePortableRecord({ type: 'session', id: 's', createdAt: '2025-03-01 14:32:01.5+02:00' }, 0),
    ).toEqual({
      type: 'session',
      id: 's',
      title: null,
      createdAt: '2025-03-01T12:32:01.500000Z',
      updatedAt: '2025-03-01T12:32:01.500000Z',
      metadata: {},
      ownerId: null,
    });
    expect(
      validatePortableRecord(
        {
          type: 'message',
          id: 'm',
          sessionId: 's',
          role: 'user',
          content: 'c',
          createdAt: '2025-03-01T00:00:00',
        },
        1,
      ),
    ).toEqual({
      type: 'message',
      id: 'm',
      sessionId: 's',
      role: 'user',
      content: 'c',
      createdAt: '2025-03-01T00:00:00.000000Z',
      metadata: {},
    });
  });

  test('errors name records[index].field', () => {
    const message = {
      type: 'message',
      id: 'm',
      sessionId: 's',
      role: 'user',
      content: 'c',
      createdAt: '2025-03-01',
    };
    expect(refusedField(() => validatePortableRecord({ ...message, role: '' }, 4))).toBe('records[4].role');
    expect(refusedField(() => validatePortableRecord({ ...message, content: null }, 4))).toBe(
      'records[4].content',
    );
    expect(refusedField(() => validatePortableRecord({ ...message, sessionId: '' }, 4))).toBe(
      'records[4].sessionId',
    );
    expect(refusedField(() => validatePortableRecord({ ...message, createdAt: 'now' }, 4))).toBe(
      'records[4].createdAt',
    );
    expect(refusedField(() => validatePortableRecord({ ...message, type: 'x' }, 4))).toBe('records[4].type');
    expect(refusedField(() => validatePortableRecord('x', 9))).toBe('records[9]');
  });
});

describe('every backend gets the same answer', () => {
  test('the in-memory backend reports exactly the field validation names', async () => {
    const store = new InMemoryConversationMemory();
    await expect(store.getSessions({ limit: 0 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'limit',
    });
    await expect(store.createSession({ metadata: { a: { b: Number.NaN } } })).rejects.toMatchObject({
      field: 'metadata.a.b',
    });
    await store.close();
  });
});
