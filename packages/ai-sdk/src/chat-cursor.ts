import { ValidationError } from '@flux-rag/memory-core';

/** Longest cursor accepted: an offset never needs more, and a long string is not worth decoding. */
const MAX_CURSOR_LENGTH = 64;

/** The opaque cursor of the `listChats` page that starts at `offset`. */
export function encodeChatCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), 'utf8').toString('base64url');
}

/** The offset a `listChats` cursor stands for; anything this package did not make is a `ValidationError`. */
export function decodeChatCursor(cursor: string): number {
  const refuse = () => new ValidationError('cursor', 'is not a cursor listChats returned');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw refuse();
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  const offset = (decoded as { o?: unknown } | null)?.o;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw refuse();
  return offset;
}
