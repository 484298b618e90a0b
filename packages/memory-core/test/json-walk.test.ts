import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { assertMetadata, assertPayload } from '../src/backend.js';
import { LIMITS, ValidationError } from '../src/index.js';
import { type JsonRules, jsonStringBytes, treeJsonBound, walkJson } from '../src/json-walk.js';

/** The UTF-8 length of the JSON text, written out: what the walk must count without writing it. */
const utf8Json = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** The error a call throws, as `field: message`, or `undefined` when it accepts. */
function refusal(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (!ValidationError.isInstance(error)) throw error;
    return `${error.field} | ${error.message}`;
  }
}

/** Payload rules with a small limit, so that the boundary is cheap to reach. */
function payloadRules(maxBytes: number, maxDepth = 8): JsonRules {
  return {
    maxBytes,
    maxDepth,
    dropUndefined: true,
    anyText: true,
    isStorableText: () => true,
    refuseText: (field) => {
      throw new ValidationError(field, 'refused');
    },
    describe: (value) => typeof value,
  };
}

describe('jsonStringBytes: the UTF-8 length of JSON.stringify(text), without writing it', () => {
  test('every class of character JSON escapes or UTF-8 widens', () => {
    const samples = [
      '',
      'plain ASCII text',
      '"quoted" and back\\slash',
      '\u007f DEL is not escaped',
      'é ß ü',
      '\u0080\u07ff',
      '\u0800\uffff',
      '中文 かな',
      '😀 👩‍💻 🇯🇵',
      '\uD83D\uDE00',
      // Lone surrogates: well-formed JSON.stringify writes them as \uXXXX (6 bytes each).
      '\uD800',
      'a\uD800',
      '\uD800b',
      '\uDC00',
      '\uDE00\uD83D',
      '\uD800\uD800\uDC00',
      'x\uDBFF',
    ];
    for (let c = 0; c < 0x20; c++) samples.push(`${String.fromCharCode(c)}x`);
    for (const text of samples) expect(jsonStringBytes(text), JSON.stringify(text)).toBe(utf8Json(text));
  });

  test('any sequence of UTF-16 code units, surrogates paired or not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (units, graphemes) => {
        expect(jsonStringBytes(units)).toBe(utf8Json(units));
        expect(jsonStringBytes(graphemes)).toBe(utf8Json(graphemes));
      }),
      { numRuns: 500 },
    );
    const units = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 });
    fc.assert(
      fc.property(units, (codes) => {
        const text = String.fromCharCode(...codes);
        expect(jsonStringBytes(text)).toBe(utf8Json(text));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('walkJson: sizes', () => {
  test('the total is the UTF-8 length of the JSON text, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(walkJson(payloadRules(1 << 30, 1000), 'payload', value)).toBe(utf8Json(value));
      }),
      { numRuns: 500 },
    );
  });

  test('numbers count as their JSON text: integers, negatives, -0, fractions, exponents', () => {
    for (const n of [
      0,
      -0,
      7,
      -7,
      10,
      99,
      100,
      -1000,
      2 ** 53 - 1,
      -(2 ** 53),
      2 ** 60,
      0.1,
      -1.5e300,
      5e-324,
      1e21,
    ]) {
      expect(walkJson(payloadRules(1 << 20), 'payload', [n]), String(n)).toBe(utf8Json([n]));
    }
  });

  test('undefined members of a payload are left out, commas included', () => {
    const value = { a: undefined, b: 1, c: undefined, d: [null, true], e: undefined };
    expect(walkJson(payloadRules(1 << 20), 'payload', value)).toBe(utf8Json(value));
    expect(walkJson(payloadRules(1 << 20), 'payload', { only: undefined })).toBe(2);
  });

  test('a multi-byte value at exactly the limit passes, one byte more is refused', () => {
    // ["é😀\u0001"]: 2 brackets, 2 quotes, é 2 bytes, 😀 4 bytes, \u0001 6 bytes = 16.
    const value = ['é😀\u0001'];
    expect(utf8Json(value)).toBe(16);
    expect(walkJson(payloadRules(16), 'payload', value)).toBe(16);
    expect(refusal(() => walkJson(payloadRules(15), 'payload', value))).toBe(
      'payload | Invalid payload: is larger than 15 bytes as JSON (shared references count at their expanded size)',
    );
    // A lone surrogate is 6 bytes in the JSON text, not the 3 of its replacement character.
    expect(walkJson(payloadRules(8), 'payload', '\uD800')).toBe(8);
    expect(refusal(() => walkJson(payloadRules(7), 'payload', '\uD800'))).toMatch(/^payload \| /);
  });

  test('shared references count at their expanded size', () => {
    const shared = { s: 'é'.repeat(10) };
    const value = { a: shared, b: [shared, shared] };
    expect(walkJson(payloadRules(1 << 20), 'payload', value)).toBe(utf8Json(value));
  });
});

describe('walkJson: the paths and messages errors name', () => {
  test('a bad value deep down is named by its full path, after siblings that passed', () => {
    const value = {
      first: [1, { b: 'x', c: [true, null] }],
      second: { deeper: [{}, [], { e: [0, { f: [Number.NaN] }] }] },
    };
    expect(refusal(() => assertMetadata('metadata', value))).toBe(
      'metadata.second.deeper[2].e[1].f[0] | Invalid metadata.second.deeper[2].e[1].f[0]: NaN is not representable in JSON',
    );
    expect(refusal(() => assertPayload('messages[3].payload', value))).toBe(
      'messages[3].payload.second.deeper[2].e[1].f[0] | Invalid messages[3].payload.second.deeper[2].e[1].f[0]: NaN is not representable in JSON',
    );
  });

  test('after a shared reference and a skipped undefined member the path is still right', () => {
    const shared = { k: [1, 2] };
    const value = { a: shared, u: undefined, b: shared, c: [shared, { d: () => 1 }] };
    expect(refusal(() => assertPayload('payload', value))).toBe(
      'payload.c[1].d | Invalid payload.c[1].d: expected a JSON value, got a function',
    );
  });

  test('nesting: the path of the first value too deep, for objects and arrays', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 64; i++) deep = { a: deep };
    const path = `metadata${'.a'.repeat(64)}`;
    expect(refusal(() => assertMetadata('metadata', { a: deep }))).toBe(
      `${path} | Invalid ${path}: nesting deeper than 64 levels`,
    );
    let arrays: unknown = 1;
    for (let i = 0; i < 257; i++) arrays = [arrays];
    const arrayPath = `payload${'[0]'.repeat(256)}`;
    expect(refusal(() => assertPayload('payload', arrays))).toBe(
      `${arrayPath} | Invalid ${arrayPath}: nesting deeper than 256 levels`,
    );
  });

  test('a shared object too deep where it is used again is named there', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 62; i++) deep = [deep];
    expect(refusal(() => assertMetadata('metadata', { a: deep, b: { c: [deep] } }))).toBe(
      'metadata.b.c[0] | Invalid metadata.b.c[0]: nesting deeper than 64 levels',
    );
  });

  test('cycles, holes, symbol keys, class instances, bad keys and bad strings', () => {
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push({ back: cyclic });
    expect(refusal(() => assertMetadata('metadata', { x: cyclic }))).toBe(
      'metadata.x.list[0].back | Invalid metadata.x.list[0].back: contains a cycle',
    );
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(refusal(() => assertPayload('payload', { a: [1, , 3] }))).toBe(
      'payload.a[1] | Invalid payload.a[1]: sparse array holes are not JSON',
    );
    expect(refusal(() => assertMetadata('metadata', { a: [{ [Symbol('s')]: 1 }] }))).toBe(
      'metadata.a[0] | Invalid metadata.a[0]: has symbol keys',
    );
    expect(refusal(() => assertMetadata('metadata', { a: { when: new Date(0) } }))).toBe(
      'metadata.a.when | Invalid metadata.a.when: expected a JSON value, got a Date',
    );
    const longKey = `k\u0000${'x'.repeat(60)}`;
    expect(refusal(() => assertMetadata('metadata', { a: [{ [longKey]: 1 }] }))).toBe(
      `metadata.a[0] key ${JSON.stringify(longKey.slice(0, 40))} | Invalid metadata.a[0] key ${JSON.stringify(longKey.slice(0, 40))}: contains U+0000 or a lone UTF-16 surrogate, which cannot be stored`,
    );
    expect(refusal(() => assertMetadata('metadata', { a: { b: ['ok', 'x\uD800'] } }))).toBe(
      'metadata.a.b[1] | Invalid metadata.a.b[1]: contains U+0000 or a lone UTF-16 surrogate, which cannot be stored',
    );
    // Payloads keep them: the JSON text escapes them.
    expect(refusal(() => assertPayload('payload', { 'k\u0000': ['x\uD800'] }))).toBeUndefined();
  });

  test('the size error names the top-level field, wherever the limit is passed', () => {
    const big = { a: [{ b: 'x'.repeat(40) }] };
    expect(refusal(() => walkJson(payloadRules(30), 'messages[0].payload', big))).toBe(
      'messages[0].payload | Invalid messages[0].payload: is larger than 30 bytes as JSON (shared references count at their expanded size)',
    );
  });
});

describe('treeJsonBound: the quick path of the payload and metadata checks agrees with the walk', () => {
  /** Metadata rules as the validation has them, with a small limit. */
  const metadataRules = (maxBytes: number, maxDepth = 8): JsonRules => ({
    ...payloadRules(maxBytes, maxDepth),
    dropUndefined: false,
    anyText: false,
    isStorableText: (text) => !/\u0000|[\uD800-\uDFFF]/.test(text),
  });
  /** JSON values, with what is not JSON mixed in: the walk refuses these and the quick path must never accept them. */
  const odd = fc.oneof(
    fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, () => 1, Symbol('s'), 1n, new Date(0)),
    fc.constantFrom(new Map(), Object.create({ inherited: 1 }), { [Symbol('k')]: 1 }, 'a\u0000b', '\uD800'),
  );
  const values = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.jsonValue({ maxDepth: 2 }),
      odd,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  for (const [name, rules] of [
    ['payload', payloadRules(120, 4)],
    ['metadata', metadataRules(120, 4)],
  ] as const) {
    test(`${name} rules: a bound is only given for what the walk accepts but for size, and it is never below the size`, () => {
      fc.assert(
        fc.property(values, (value) => {
          const bound = treeJsonBound(rules, value);
          if (bound < 0) return;
          const unlimited = { ...rules, maxBytes: Number.MAX_SAFE_INTEGER };
          const bytes = walkJson(unlimited, name, value);
          expect(bound).toBeGreaterThanOrEqual(bytes);
          expect(bytes).toBe(utf8Json(value));
        }),
        { numRuns: 3000 },
      );
    });
  }

  test('the longest number text counts in full: a bound never lets a payload one byte over the limit through', () => {
    const longest = -0.0000012345678901234567;
    expect(JSON.stringify(longest)).toHaveLength(25);
    expect(treeJsonBound(payloadRules(25), longest)).toBeGreaterThanOrEqual(25);
    // One byte short: the bound passes the limit, so the caller asks the walk, which refuses.
    expect(treeJsonBound(payloadRules(24), longest)).toBeGreaterThan(24);
    expect(refusal(() => walkJson(payloadRules(24), 'p', longest))).toMatch(/larger than 24 bytes/);
  });

  test('a cycle, a value too deep and more than 4,096 values are left to the walk', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const rules = payloadRules(1_000_000, 4);
    expect(treeJsonBound(rules, cyclic)).toBe(-1);
    // Four levels of nesting are allowed, a fifth is not (the walk's limit, as it counts).
    expect(treeJsonBound(rules, [[[[[1]]]]])).toBe(-1);
    expect(treeJsonBound(rules, [[[[1]]]])).toBeGreaterThan(0);
    expect(refusal(() => walkJson(rules, 'p', [[[[1]]]]))).toBeUndefined();
    // The array itself and its items: 4,096 values at most.
    expect(
      treeJsonBound(
        rules,
        Array.from({ length: 4096 }, () => 0),
      ),
    ).toBe(-1);
    expect(
      treeJsonBound(
        rules,
        Array.from({ length: 4095 }, () => 0),
      ),
    ).toBeGreaterThan(0);
  });

  test('assertPayload through the quick path: the same text, and a payload over the limit is still refused', () => {
    const payload = { parts: [{ type: 'text', text: 'é'.repeat(10) }], gone: undefined };
    expect(assertPayload('payload', payload)).toBe(JSON.stringify(payload));
    // Under the exact limit only by its UTF-8 length: the bound (6 bytes a character) cannot tell, the text can.
    const big = 'x'.repeat(LIMITS.payloadBytes - 2);
    expect(assertPayload('payload', big)).toHaveLength(LIMITS.payloadBytes);
    expect(refusal(() => assertPayload('payload', `${big}é`))).toMatch(/^payload \| .*larger than/);
  });
});
