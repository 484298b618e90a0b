import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';
import { type IsoMicros, parseTimestamp } from './timestamp.js';
import { LIMITS } from './types.js';

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

/**
 * The listing a cursor belongs to. A cursor carries it and is refused (a `ValidationError` on the cursor's
 * field) by any other listing: another backend (`backend`, e.g. `'sqlite'`), another owner view (`ownerId`),
 * another session (`sessionId`, history), another metadata filter (`filter`, sessions) or another query and
 * options (`filter`, search). Fields a listing does not have are `null`.
 */
export interface CursorBinding {
  /** The backend's name, as `check().backend` reports it. */
  backend: string;
  /** The owner of the view the listing was read through; `null` for the unscoped store. */
  ownerId: string | null;
  /** The session of a history listing; `null` for other listings. */
  sessionId: string | null;
  /** The filter or query of the listing, any JSON value; `null` when there is none. */
  filter: unknown;
}

// Cursors are opaque to callers: base64url of a JSON array [tag, binding digest, ...position]. The tag keeps a
// sessions cursor from being used as a history one; the digest (of the tag and the binding) keeps it from
// being used with another session, filter, owner or backend. It is not a signature: a forged cursor can still
// name any position in the listing it claims, which is harmless since positions are checked and bound like any
// argument; what it can never do is reach a driver with a value the driver refuses.

/**
 * Longest cursor accepted, in characters. Real cursors are about 150 characters (a 36-character id and a
 * timestamp); anything far longer is refused before it is decoded.
 */
const MAX_CURSOR_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** JSON text with object keys sorted, so that `{a, b}` and `{b, a}` bind the same listing. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function digest(tag: string, binding: CursorBinding): string {
  const filter = binding.filter ?? null;
  // Most listings have no filter: their digest is remembered, as every page of every listing makes one.
  // Ids are never empty and never hold U+0000, so `null` as '' and that separator keep keys apart.
  const key =
    filter === null
      ? `${tag}\u0000${binding.backend}\u0000${binding.ownerId ?? ''}\u0000${binding.sessionId ?? ''}`
      : null;
  const known = key === null ? undefined : DIGESTS.get(key);
  if (known !== undefined) return known;
  const text = canonical([tag, binding.backend, binding.ownerId, binding.sessionId, filter]);
  const value = createHash('sha256').update(text).digest('base64url').slice(0, 22);
  if (key !== null) {
    if (DIGESTS.size >= MAX_DIGESTS) DIGESTS.clear();
    DIGESTS.set(key, value);
  }
  return value;
}

/**
 * Digests of unfiltered listings by tag, backend, owner and session; cleared when full (a history listing per
 * session may pass through: the bound keeps it small, and a miss only costs a hash).
 */
const DIGESTS = new Map<string, string>();
const MAX_DIGESTS = 4096;

function encode(tag: string, binding: CursorBinding, position: unknown[]): string {
  return Buffer.from(JSON.stringify([tag, digest(tag, binding), ...position]), 'utf8').toString('base64url');
}

function refuse(field: string): never {
  throw new ValidationError(field, 'is not a cursor returned by this listing');
}

/** The position a cursor holds, after checking its shape, size, tag and binding; never throws anything else. */
function decode(field: string, cursor: string, tag: string, binding: CursorBinding): unknown[] {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) refuse(field);
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    refuse(field);
  }
  if (!Array.isArray(parts) || parts[0] !== tag || parts[1] !== digest(tag, binding)) refuse(field);
  return parts.slice(2);
}

/** True for text every backend can bind as a parameter: no U+0000, no lone surrogate. */
function isStorableText(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.length <= maxLength &&
    !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)
  );
}

function isCanonicalTime(value: unknown): value is IsoMicros {
  return typeof value === 'string' && value.length <= 40 && parseTimestamp(value) === value;
}

/** The opaque `nextCursor` of a history page of the listing `binding` names. */
export function encodeHistoryCursor(binding: CursorBinding, position: HistoryPosition): string {
  return encode('h', binding, [position.createdAt, position.seq]);
}

/** Reads a history cursor of the listing `binding` names; `ValidationError` naming `field` when it is not one. */
export function decodeHistoryCursor(field: string, cursor: string, binding: CursorBinding): HistoryPosition {
  const [createdAt, seq, ...rest] = decode(field, cursor, 'h', binding);
  if (rest.length > 0 || !isCanonicalTime(createdAt) || !Number.isSafeInteger(seq)) refuse(field);
  return { createdAt, seq: seq as number };
}

/** The opaque `nextCursor` of a sessions page of the listing `binding` names. */
export function encodeSessionCursor(binding: CursorBinding, position: SessionPosition): string {
  return encode('s', binding, [position.createdAt, position.id]);
}

/** Reads a sessions cursor of the listing `binding` names; `ValidationError` naming `field` when it is not one. */
export function decodeSessionCursor(field: string, cursor: string, binding: CursorBinding): SessionPosition {
  const [createdAt, id, ...rest] = decode(field, cursor, 's', binding);
  if (rest.length > 0 || !isCanonicalTime(createdAt) || !isStorableText(id, LIMITS.idLength)) refuse(field);
  return { createdAt, id };
}

/** The opaque `nextCursor` of a search page of the listing `binding` names: ranked results page by position. */
export function encodeSearchCursor(binding: CursorBinding, offset: number): string {
  return encode('q', binding, [offset]);
}

/** Reads a search cursor of the listing `binding` names; `ValidationError` naming `field` when it is not one. */
export function decodeSearchCursor(field: string, cursor: string, binding: CursorBinding): number {
  const [offset, ...rest] = decode(field, cursor, 'q', binding);
  if (rest.length > 0 || !Number.isSafeInteger(offset) || (offset as number) < 0) refuse(field);
  if ((offset as number) > LIMITS.offset) refuse(field);
  return offset as number;
}
