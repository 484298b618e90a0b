import {
  type CursorBinding,
  decodeHistoryCursor,
  decodeSearchCursor,
  decodeSessionCursor,
  type HistoryPosition,
  type SessionPosition,
} from './cursor.js';
import { ValidationError } from './errors.js';
import type { ImportOptions, PortableMessage, PortableRecord, PortableSession } from './portable.js';
import { parseTimestamp } from './timestamp.js';
import {
  DEFAULTS,
  type HistoryOptions,
  type HistoryPageOptions,
  LIMITS,
  type ListSessionsOptions,
  type Metadata,
  type NewMessage,
  type NewSession,
  type SearchOptions,
  type SessionFilter,
  type SessionsPageOptions,
} from './types.js';

// U+0000 cannot be stored by PostgreSQL; a lone surrogate would be replaced by U+FFFD on the way to UTF-8.
const FORBIDDEN_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when every backend stores `text` unchanged: it holds no U+0000 (PostgreSQL cannot store it) and no lone
 * UTF-16 surrogate (UTF-8 cannot carry it). The rule {@link assertText} enforces, for callers that judge rather
 * than throw (the migrator's row rules).
 */
export function isStorableText(text: string): boolean {
  return !FORBIDDEN_TEXT.test(text);
}

/** Refuses anything but a string that every backend stores unchanged. */
export function assertText(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string')
    throw new ValidationError(field, `expected a string, got ${describe(value)}`);
  if (!isStorableText(value)) {
    throw new ValidationError(field, 'contains U+0000 or a lone UTF-16 surrogate, which cannot be stored');
  }
}

/** Validates an id: a non-empty string of at most 36 characters. */
export function assertId(field: string, value: unknown): asserts value is string {
  assertText(field, value);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > LIMITS.idLength) {
    throw new ValidationError(field, `must be at most ${LIMITS.idLength} characters, got ${value.length}`);
  }
}

function assertInteger(field: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError(field, `expected an integer, got ${describe(value)}`);
  }
  if (value < min || value > max)
    throw new ValidationError(field, `must be between ${min} and ${max}, got ${value}`);
}

function assertOptionsObject(
  field: string,
  value: unknown,
): asserts value is Record<string, unknown> | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ValidationError(field, `expected an object, got ${describe(value)}`);
  }
}

/** Validates a title (`null` clears it). */
export function assertTitle(field: string, value: unknown): asserts value is string | null {
  if (value === null) return;
  assertText(field, value);
  if (value.length > LIMITS.titleLength) {
    throw new ValidationError(field, `must be at most ${LIMITS.titleLength} characters, got ${value.length}`);
  }
}

/**
 * Validates metadata: a plain object whose every value survives `JSON.stringify` then `JSON.parse` unchanged.
 * Refuses functions, symbols, `undefined`, `BigInt`, non-finite numbers, class instances (`Date`, `Map`, ...),
 * cycles, nesting deeper than {@link LIMITS.metadataDepth}, keys or strings with U+0000 or lone surrogates, and
 * values whose JSON text would exceed {@link LIMITS.metadataBytes} bytes.
 *
 * The cost is linear in the number of distinct objects and values, whatever the value expands to: an object
 * reached by several references (`v = [v, v]` repeated) is checked once and counts at its expanded size each
 * time, so a value that would expand past the limits is refused without being expanded.
 */
export function assertMetadata(field: string, value: unknown): asserts value is Metadata {
  if (!isPlainObject(value))
    throw new ValidationError(field, `expected a plain JSON object, got ${describe(value)}`);
  const walk: JsonWalk = { field, bytes: 0, done: new Map(), open: new Set() };
  assertJson(walk, field, value, 0);
}

/** What a validated object adds wherever it appears: its JSON size in bytes and its nesting height. */
interface Measured {
  bytes: number;
  height: number;
}

/** State of one `assertMetadata` walk. */
interface JsonWalk {
  /** The top-level field, which a size error names. */
  field: string;
  /** Bytes of JSON text counted so far, shared references at their expanded size. */
  bytes: number;
  /** Objects already validated, with their expanded size and height. */
  done: Map<object, Measured>;
  /** Objects on the current path: meeting one again is a cycle. */
  open: Set<object>;
}

/** Adds `bytes` to the walk's total and refuses the value as soon as the total passes the limit. */
function count(walk: JsonWalk, bytes: number): void {
  walk.bytes += bytes;
  if (walk.bytes > LIMITS.metadataBytes) {
    throw new ValidationError(
      walk.field,
      `is larger than ${LIMITS.metadataBytes} bytes as JSON (shared references count at their expanded size)`,
    );
  }
}

/** Validates `value` at `depth`; returns its JSON size in bytes and its nesting height (0 for a scalar). */
function assertJson(walk: JsonWalk, path: string, value: unknown, depth: number): Measured {
  switch (typeof value) {
    case 'string': {
      assertText(path, value);
      const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
      count(walk, bytes);
      return { bytes, height: 0 };
    }
    case 'boolean': {
      const bytes = value ? 4 : 5;
      count(walk, bytes);
      return { bytes, height: 0 };
    }
    case 'number': {
      if (!Number.isFinite(value)) throw new ValidationError(path, `${value} is not representable in JSON`);
      const bytes = JSON.stringify(value).length;
      count(walk, bytes);
      return { bytes, height: 0 };
    }
    case 'object': {
      if (value === null) {
        count(walk, 4);
        return { bytes: 4, height: 0 };
      }
      if (depth >= LIMITS.metadataDepth) {
        throw new ValidationError(path, `nesting deeper than ${LIMITS.metadataDepth} levels`);
      }
      if (walk.open.has(value)) throw new ValidationError(path, 'contains a cycle');
      const known = walk.done.get(value);
      if (known !== undefined) {
        // Seen through another reference: valid, but it counts again at its full size and height.
        if (depth + known.height > LIMITS.metadataDepth) {
          throw new ValidationError(path, `nesting deeper than ${LIMITS.metadataDepth} levels`);
        }
        count(walk, known.bytes);
        return known;
      }
      walk.open.add(value);
      let bytes = 2;
      let height = 0;
      if (Array.isArray(value)) {
        count(walk, 2 + Math.max(0, value.length - 1));
        bytes += Math.max(0, value.length - 1);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new ValidationError(`${path}[${i}]`, 'sparse array holes are not JSON');
          const item = assertJson(walk, `${path}[${i}]`, value[i], depth + 1);
          bytes += item.bytes;
          height = Math.max(height, item.height);
        }
      } else if (isPlainObject(value)) {
        if (Object.getOwnPropertySymbols(value).length > 0)
          throw new ValidationError(path, 'has symbol keys');
        const entries = Object.entries(value);
        count(walk, 2 + Math.max(0, entries.length - 1));
        bytes += Math.max(0, entries.length - 1);
        for (const [key, item] of entries) {
          assertText(`${path} key ${JSON.stringify(key.slice(0, 40))}`, key);
          const keyBytes = Buffer.byteLength(JSON.stringify(key), 'utf8') + 1;
          count(walk, keyBytes);
          const measured = assertJson(walk, `${path}.${key}`, item, depth + 1);
          bytes += keyBytes + measured.bytes;
          height = Math.max(height, measured.height);
        }
      } else {
        throw new ValidationError(path, `expected a JSON value, got ${describe(value)}`);
      }
      walk.open.delete(value);
      const measured = { bytes, height: height + 1 };
      walk.done.set(value, measured);
      return measured;
    }
    default:
      throw new ValidationError(path, `expected a JSON value, got ${describe(value)}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

/** `createSession` input after validation, with its defaults applied. */
export interface ValidSession {
  id: string | undefined;
  title: string | null;
  metadata: Metadata;
  ownerId: string | null;
}

/** Validates `createSession` input. */
export function validateNewSession(input: unknown): ValidSession {
  assertOptionsObject('session', input);
  const { id, title = null, metadata = {}, ownerId = null } = (input ?? {}) as NewSession;
  if (id !== undefined) assertId('id', id);
  assertTitle('title', title);
  assertMetadata('metadata', metadata);
  if (ownerId !== null) assertId('ownerId', ownerId);
  return { id, title, metadata, ownerId };
}

/** Validates a role: a non-empty string of at most {@link LIMITS.roleLength} characters. */
function assertRole(field: string, value: unknown): asserts value is string {
  assertText(field, value);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > LIMITS.roleLength) {
    throw new ValidationError(field, `must be at most ${LIMITS.roleLength} characters, got ${value.length}`);
  }
}

/** `addMessage` input after validation, with its defaults applied. */
export interface ValidMessage {
  id: string | undefined;
  role: string;
  content: string;
  metadata: Metadata;
}

/** Validates `addMessage` input. */
export function validateNewMessage(input: unknown): ValidMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('message', `expected an object, got ${describe(input)}`);
  }
  const { id, role, content, metadata = {} } = input as NewMessage;
  if (id !== undefined) assertId('id', id);
  assertRole('role', role);
  assertText('content', content);
  assertMetadata('metadata', metadata);
  return { id, role, content, metadata };
}

/** Validates `getHistory` options; `limit` is `undefined` for the whole history. */
export function validateHistoryOptions(options: unknown): { limit: number | undefined } {
  assertOptionsObject('options', options);
  const { limit } = (options ?? {}) as HistoryOptions;
  if (limit !== undefined) assertInteger('limit', limit, 1, LIMITS.historyLimit);
  return { limit };
}

/** Validates a `where` filter; `undefined` when there is none (or it is empty). */
export function validateSessionFilter(where: unknown): SessionFilter | undefined {
  if (where === undefined) return undefined;
  assertOptionsObject('where', where);
  const { metadata, ...rest } = where as SessionFilter & Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new ValidationError(`where.${unknownKey}`, 'is not a known filter');
  if (metadata === undefined) return undefined;
  assertMetadata('where.metadata', metadata);
  return Object.keys(metadata).length === 0 ? undefined : { metadata };
}

/** The view a listing is read through: which backend, which owner (`null` for the unscoped store). */
export interface ListingView {
  /** The backend's name, as `check().backend` reports it (`'sqlite'`, `'postgres'`, `'memory'`). */
  backend: string;
  /** The owner of the view (`forOwner(id)`), or `null` for the unscoped store. */
  ownerId: string | null;
}

/**
 * Validates `searchMessages` options and applies their defaults; `cursor` is decoded to an offset, and must be
 * one of the listing of `query` with these `sessionId` and `role` in `view` (see {@link CursorBinding}).
 * Returns that listing's `binding`, for the next cursor.
 */
export function validateSearchOptions(
  options: unknown,
  view: ListingView,
  query: string,
): {
  sessionId: string | undefined;
  role: string | undefined;
  limit: number;
  offset: number;
  binding: CursorBinding;
} {
  assertOptionsObject('options', options);
  const { sessionId, role, limit = DEFAULTS.searchLimit, cursor = null } = (options ?? {}) as SearchOptions;
  if (sessionId !== undefined) assertId('sessionId', sessionId);
  if (role !== undefined) assertRole('role', role);
  assertInteger('limit', limit, 1, LIMITS.searchLimit);
  if (cursor !== null) assertText('cursor', cursor);
  const binding: CursorBinding = {
    ...view,
    sessionId: null,
    filter: { query, sessionId: sessionId ?? null, role: role ?? null },
  };
  const offset = cursor === null ? 0 : decodeSearchCursor('cursor', cursor, binding);
  return { sessionId, role, limit, offset, binding };
}

/**
 * Validates `getHistoryPage` options of session `sessionId` in `view` and applies their defaults; `before` must
 * be a cursor of that listing. Returns the listing's `binding`, for the next cursor.
 */
export function validateHistoryPageOptions(
  options: unknown,
  view: ListingView,
  sessionId: string,
): {
  limit: number;
  before: HistoryPosition | null;
  binding: CursorBinding;
} {
  assertOptionsObject('options', options);
  const { limit = DEFAULTS.pageLimit, before = null } = (options ?? {}) as HistoryPageOptions;
  assertInteger('limit', limit, 1, LIMITS.historyLimit);
  if (before !== null) assertText('before', before);
  const binding: CursorBinding = { ...view, sessionId, filter: null };
  return {
    limit,
    before: before === null ? null : decodeHistoryCursor('before', before, binding),
    binding,
  };
}

/**
 * Validates `getSessionsPage` options in `view` and applies their defaults; `cursor` must be a cursor of the
 * listing with the same metadata filter. Returns the listing's `binding`, for the next cursor.
 */
export function validateSessionsPageOptions(
  options: unknown,
  view: ListingView,
): {
  limit: number;
  cursor: SessionPosition | null;
  where: SessionFilter | undefined;
  binding: CursorBinding;
} {
  assertOptionsObject('options', options);
  const { limit = DEFAULTS.sessionsLimit, cursor = null, where } = (options ?? {}) as SessionsPageOptions;
  assertInteger('limit', limit, 1, LIMITS.sessionsLimit);
  if (cursor !== null) assertText('cursor', cursor);
  const filter = validateSessionFilter(where);
  const binding: CursorBinding = { ...view, sessionId: null, filter: filter?.metadata ?? null };
  return {
    limit,
    cursor: cursor === null ? null : decodeSessionCursor('cursor', cursor, binding),
    where: filter,
    binding,
  };
}

/** Validates `getSessions` options and applies their defaults. */
export function validateListSessionsOptions(options: unknown): {
  limit: number;
  offset: number;
  where: SessionFilter | undefined;
} {
  assertOptionsObject('options', options);
  const { limit = DEFAULTS.sessionsLimit, offset = 0, where } = (options ?? {}) as ListSessionsOptions;
  assertInteger('limit', limit, 1, LIMITS.sessionsLimit);
  assertInteger('offset', offset, 0, LIMITS.offset);
  return { limit, offset, where: validateSessionFilter(where) };
}

function assertTimestamp(field: string, value: unknown): string {
  assertText(field, value);
  const parsed = parseTimestamp(value);
  if (parsed === null)
    throw new ValidationError(field, `expected an ISO 8601 timestamp, got ${JSON.stringify(value)}`);
  return parsed;
}

/**
 * Validates one portable record (`records[index]`) and returns it normalised: timestamps in canonical UTC
 * microsecond form (a value without a zone is UTC), metadata defaulting to `{}`.
 */
export function validatePortableRecord(record: unknown, index: number): PortableRecord {
  const at = `records[${index}]`;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new ValidationError(at, `expected an object, got ${describe(record)}`);
  }
  const r = record as Record<string, unknown>;
  assertId(`${at}.id`, r.id);
  const metadata = r.metadata ?? {};
  assertMetadata(`${at}.metadata`, metadata);
  const createdAt = assertTimestamp(`${at}.createdAt`, r.createdAt);
  if (r.type === 'session') {
    const title = r.title ?? null;
    assertTitle(`${at}.title`, title);
    const updatedAt = r.updatedAt === undefined ? createdAt : assertTimestamp(`${at}.updatedAt`, r.updatedAt);
    const ownerId = r.ownerId ?? null;
    if (ownerId !== null) assertId(`${at}.ownerId`, ownerId);
    return {
      type: 'session',
      id: r.id,
      title,
      createdAt,
      updatedAt,
      metadata,
      ownerId,
    } satisfies PortableSession;
  }
  if (r.type === 'message') {
    assertId(`${at}.sessionId`, r.sessionId);
    // Named as records[i].role / .content, as the contract promises, not as addMessage's bare fields.
    assertRole(`${at}.role`, r.role);
    assertText(`${at}.content`, r.content);
    const { role, content } = r;
    return {
      type: 'message',
      id: r.id,
      sessionId: r.sessionId,
      role,
      content,
      createdAt,
      metadata,
    } satisfies PortableMessage;
  }
  throw new ValidationError(`${at}.type`, `expected "session" or "message", got ${JSON.stringify(r.type)}`);
}

/** Validates `importRecords` options and applies their defaults. */
export function validateImportOptions(options: unknown): { batchSize: number } {
  assertOptionsObject('options', options);
  const { batchSize = 500 } = (options ?? {}) as ImportOptions;
  assertInteger('batchSize', batchSize, 1, 10_000);
  return { batchSize };
}

/** Validates `exportRecords` options. */
export function validateExportOptions(options: unknown): { sessionIds: readonly string[] | undefined } {
  assertOptionsObject('options', options);
  const { sessionIds } = (options ?? {}) as { sessionIds?: unknown };
  if (sessionIds === undefined) return { sessionIds };
  if (!Array.isArray(sessionIds))
    throw new ValidationError('sessionIds', `expected an array, got ${describe(sessionIds)}`);
  for (const [i, id] of sessionIds.entries()) assertId(`sessionIds[${i}]`, id);
  return { sessionIds: sessionIds as string[] };
}
