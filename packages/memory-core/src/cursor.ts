import { ValidationError } from './errors.js';
import { type IsoMicros, parseTimestamp } from './timestamp.js';

/** Where a history page ends: the oldest message's timestamp and insertion sequence. */
export interface HistoryPosition {
  createdAt: IsoMicros;
  seq: number;
}

/**
 * Where a sessions page ends. Cursor pages are ordered by creation (newest first, then id descending): unlike
 * activity, creation never changes, so paging while others write never repeats or skips a session.
 */
export interface SessionPosition {
  createdAt: IsoMicros;
  id: string;
}

// Cursors are opaque to callers; the leading tag keeps a sessions cursor from being used as a history one.
function encode(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

function decode(field: string, cursor: string, tag: string): unknown[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts[0] !== tag) {
    throw new ValidationError(field, 'is not a cursor returned by this listing');
  }
  return parts;
}

/** The opaque `nextCursor` of a history page. */
export function encodeHistoryCursor(position: HistoryPosition): string {
  return encode(['h', position.createdAt, position.seq]);
}

/** Reads a history cursor; `ValidationError` naming `field` when it is not one. */
export function decodeHistoryCursor(field: string, cursor: string): HistoryPosition {
  const [, createdAt, seq] = decode(field, cursor, 'h');
  if (
    typeof createdAt !== 'string' ||
    parseTimestamp(createdAt) !== createdAt ||
    !Number.isSafeInteger(seq)
  ) {
    throw new ValidationError(field, 'is not a cursor returned by this listing');
  }
  return { createdAt, seq: seq as number };
}

/** The opaque `nextCursor` of a sessions page. */
export function encodeSessionCursor(position: SessionPosition): string {
  return encode(['s', position.createdAt, position.id]);
}

/** Reads a sessions cursor; `ValidationError` naming `field` when it is not one. */
export function decodeSessionCursor(field: string, cursor: string): SessionPosition {
  const [, createdAt, id] = decode(field, cursor, 's');
  if (typeof createdAt !== 'string' || parseTimestamp(createdAt) !== createdAt || typeof id !== 'string') {
    throw new ValidationError(field, 'is not a cursor returned by this listing');
  }
  return { createdAt, id };
}

/** The opaque `nextCursor` of a search page: ranked results page by position. */
export function encodeSearchCursor(offset: number): string {
  return encode(['q', offset]);
}

/** Reads a search cursor; `ValidationError` naming `field` when it is not one. */
export function decodeSearchCursor(field: string, cursor: string): number {
  const [, offset] = decode(field, cursor, 'q');
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
    throw new ValidationError(field, 'is not a cursor returned by this listing');
  }
  return offset as number;
}
