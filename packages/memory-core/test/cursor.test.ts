import { describe, expect, test } from 'vitest';
import {
  type CursorBinding,
  decodeHistoryCursor,
  decodeSessionCursor,
  encodeHistoryCursor,
  encodeSessionCursor,
} from '../src/cursor.js';
import { ValidationError } from '../src/index.js';

const position = { createdAt: '2025-01-12T03:46:40.000000Z', id: 's1' };
const binding = (over: Partial<CursorBinding>): CursorBinding => ({
  backend: 'sqlite',
  ownerId: null,
  sessionId: null,
  filter: null,
  ...over,
});
const refused = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    return ValidationError.isInstance(error) && error.field === 'cursor';
  }
  return false;
};

describe('cursors: the remembered digests of unfiltered listings keep every listing apart', () => {
  test('a cursor reads back in its own listing, again and again (remembered or not)', () => {
    const own = binding({ ownerId: 'alice' });
    for (let i = 0; i < 3; i++) {
      expect(decodeSessionCursor('cursor', encodeSessionCursor(own, position), own)).toEqual(position);
    }
  });

  test('null and an id spelt "null", or empty-looking values, are different listings', () => {
    const pairs: [Partial<CursorBinding>, Partial<CursorBinding>][] = [
      [{ ownerId: null }, { ownerId: 'null' }],
      [{ ownerId: null }, { ownerId: 'undefined' }],
      [
        { backend: 'sqlite', ownerId: 'a' },
        { backend: 'sqlitea', ownerId: null },
      ],
      [{ ownerId: 'a\u0001b' }, { ownerId: 'a', sessionId: 'b' }],
      [{ filter: null }, { filter: {} }],
      [{ filter: null }, { filter: { a: 1 } }],
    ];
    for (const [a, b] of pairs) {
      // Both orders: whichever is remembered first must not answer for the other.
      for (const [from, to] of [
        [binding(a), binding(b)],
        [binding(b), binding(a)],
      ] as const) {
        expect(refused(() => decodeSessionCursor('cursor', encodeSessionCursor(from, position), to))).toBe(
          true,
        );
      }
    }
  });

  test('a history cursor is not a sessions cursor, nor one of another session', () => {
    const history = binding({ sessionId: 's1' });
    const cursor = encodeHistoryCursor(history, { createdAt: position.createdAt, seq: 3 });
    expect(decodeHistoryCursor('cursor', cursor, history)).toEqual({ createdAt: position.createdAt, seq: 3 });
    expect(refused(() => decodeHistoryCursor('cursor', cursor, binding({ sessionId: 's2' })))).toBe(true);
    expect(refused(() => decodeSessionCursor('cursor', cursor, history))).toBe(true);
  });
});
