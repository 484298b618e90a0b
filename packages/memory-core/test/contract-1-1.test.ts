import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  applySessionUpdate,
  assertPayload,
  messageDigest as backendDigest,
  encodeMessage,
  mergePatch,
  replayOperation,
} from '../src/backend.js';
import {
  ConflictError,
  InMemoryConversationMemory,
  type MemoryCapabilities,
  messageDigest,
  UnsupportedCapabilityError,
  ValidationError,
} from '../src/index.js';

function refusal(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('messageDigest', () => {
  test('is sha256 of JSON.stringify([role, content, metadata, format, payload]), defaults applied', () => {
    const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
    expect(messageDigest({ role: 'user', content: 'hi' })).toBe(sha(['user', 'hi', {}, null, null]));
    const payload = { b: [1, { c: null }], a: 'é\u0000' };
    expect(messageDigest({ role: 'r', content: '', metadata: { m: 1 }, format: 'f', payload })).toBe(
      sha(['r', '', { m: 1 }, 'f', payload]),
    );
    // undefined properties are left out, as in the stored payload; the id is not part of it.
    expect(messageDigest({ id: 'x', role: 'r', content: '', payload: { a: 1, b: undefined } })).toBe(
      messageDigest({ role: 'r', content: '', payload: { a: 1 } }),
    );
    expect(backendDigest).toBe(messageDigest);
  });

  test('refuses what addMessage refuses', () => {
    expect(ValidationError.isInstance(refusal(() => messageDigest({ role: '', content: '' })))).toBe(true);
  });

  test('encodeMessage agrees with messageDigest', () => {
    const message = { role: 'user', content: 'c', metadata: { k: [1] }, payload: { p: 1 }, format: 'f' };
    expect(encodeMessage(message)).toEqual({ payloadJson: '{"p":1}', digest: messageDigest(message) });
  });
});

describe('payload validation', () => {
  test('any JSON value; strings may hold U+0000 and lone surrogates (the JSON text escapes them)', () => {
    expect(assertPayload('payload', { s: 'a\u0000b', lone: '\uD800' })).toBe(
      '{"s":"a\\u0000b","lone":"\\ud800"}',
    );
    expect(assertPayload('payload', null)).toBeNull();
    expect(assertPayload('payload', [1, 'x', true])).toBe('[1,"x",true]');
  });

  test('refuses non-JSON values by path, undefined in arrays, and nesting past the limit', () => {
    const field = (value: unknown) =>
      (refusal(() => assertPayload('payload', value)) as ValidationError)?.field;
    expect(field({ a: [0, { d: new Date() }] })).toBe('payload.a[1].d');
    expect(field([undefined])).toBe('payload[0]');
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(field(deep)).toMatch(/^payload(\[0\])+$/);
  });

  test('refuses a payload over 32 MiB without serialising shared references first', () => {
    let big: unknown = 'x'.repeat(1_000);
    for (let i = 0; i < 20; i++) big = [big, big];
    expect((refusal(() => assertPayload('payload', big)) as ValidationError).field).toBe('payload');
  });
});

describe('mergePatch and applySessionUpdate', () => {
  test('RFC 7396 examples', () => {
    expect(mergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: 'b' }, { b: 'c' })).toEqual({ a: 'b', b: 'c' });
    expect(mergePatch({ a: 'b' }, { a: null })).toEqual({});
    expect(mergePatch({ a: 'b', b: 'c' }, { a: null })).toEqual({ b: 'c' });
    expect(mergePatch({ a: ['b'] }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: 'c' }, { a: ['b'] })).toEqual({ a: ['b'] });
    expect(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } })).toEqual({ a: { b: 'd' } });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(mergePatch(['a', 'b'], ['c', 'd'])).toEqual(['c', 'd']);
    expect(mergePatch({ a: 'b' }, ['c'])).toEqual(['c']);
    expect(mergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(mergePatch([1, 2], { a: 'b', c: null })).toEqual({ a: 'b' });
    expect(mergePatch({}, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });

  test('a "__proto__" key stays a key and pollutes nothing; the target is not changed', () => {
    const target = { keep: { x: 1 } };
    const merged = mergePatch(target, JSON.parse('{"__proto__":{"polluted":true},"keep":{"y":2}}')) as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(target).toEqual({ keep: { x: 1 } });
    expect(merged.keep).toEqual({ x: 1, y: 2 });
  });

  test('applySessionUpdate checks ifMetadata first, then replaces or patches', () => {
    const update = { title: undefined, metadata: undefined, updatedAt: undefined };
    expect(
      applySessionUpdate('s', { a: 1 }, { ...update, metadataPatch: { b: 2 }, ifMetadata: { a: 1 } }),
    ).toEqual({ a: 1, b: 2 });
    const conflict = refusal(() =>
      applySessionUpdate('s', { a: 1 }, { ...update, metadataPatch: { b: 2 }, ifMetadata: { a: 2 } }),
    );
    expect(ConflictError.isInstance(conflict) && conflict.reason).toBe('if-metadata');
    expect(
      applySessionUpdate(
        's',
        { a: 1 },
        { ...update, metadata: { z: 0 }, metadataPatch: undefined, ifMetadata: undefined },
      ),
    ).toEqual({ z: 0 });
  });
});

describe('replayOperation', () => {
  const op = { operationId: 'op', requestDigest: 'd1' };
  test('no operation or none recorded: proceed; same request: the result; another: operation-reused', () => {
    expect(replayOperation('s', undefined, { requestDigest: 'd1', result: 1 })).toBeUndefined();
    expect(replayOperation('s', op, undefined)).toBeUndefined();
    expect(replayOperation('s', op, { requestDigest: 'd1', result: 42 })).toBe(42);
    const error = refusal(() => replayOperation('s', op, { requestDigest: 'd2', result: 42 }));
    expect(ConflictError.isInstance(error) && [error.reason, error.entity, error.id]).toEqual([
      'operation-reused',
      'history',
      's',
    ]);
  });
});

/** The reference store reporting only the capabilities it is given, to see the base class refuse the rest. */
class Declaring extends InMemoryConversationMemory {
  declared: Partial<MemoryCapabilities> = {};
  override get capabilities(): MemoryCapabilities {
    return { ...super.capabilities, ...this.declared };
  }
}

describe('capabilities in the base class', () => {
  test('without structuredMessages a payload or format is refused, never dropped; plain messages still work', async () => {
    const store = new Declaring();
    store.declared = { structuredMessages: false };
    await store.createSession({ id: 's' });
    for (const extra of [{ payload: { a: 1 } }, { format: 'f' }]) {
      const error = await store.addMessage('s', { role: 'user', content: 'x', ...extra }).catch((e) => e);
      expect(UnsupportedCapabilityError.isInstance(error) && error.capability).toBe('structuredMessages');
      const upsert = await store
        .upsertMessages('s', [{ role: 'user', content: 'x', ...extra }])
        .catch((e) => e);
      expect(UnsupportedCapabilityError.isInstance(upsert)).toBe(true);
    }
    await store.addMessage('s', { role: 'user', content: 'plain' });
    expect((await store.getHistory('s')).map((m) => [m.content, m.payload])).toEqual([['plain', null]]);
  });

  test('each new method names its capability, after validating its arguments', async () => {
    const store = new Declaring();
    store.declared = { historyEditing: false, sessionUpdates: false, retention: false };
    await store.createSession({ id: 's' });
    const calls: [string, () => Promise<unknown>][] = [
      ['historyEditing', () => store.upsertMessages('s', [])],
      ['historyEditing', () => store.rewriteHistory('s', { after: null, messages: [] })],
      ['historyEditing', () => store.deleteMessages('s', ['m'])],
      ['historyEditing', () => store.popMessage('s')],
      ['historyEditing', () => store.getHistoryDigests('s')],
      ['sessionUpdates', () => store.updateSession('s', { title: 't' })],
      ['retention', () => store.purgeSessions({ inactiveBefore: new Date() })],
      ['historyEditing', () => store.forOwner('o').popMessage('s')],
    ];
    for (const [capability, call] of calls) {
      const error = await call().catch((e) => e);
      expect(UnsupportedCapabilityError.isInstance(error) && error.capability).toBe(capability);
    }
    const invalid = await store.upsertMessages('', []).catch((e) => e);
    expect(ValidationError.isInstance(invalid) && invalid.field).toBe('sessionId');
  });
});
