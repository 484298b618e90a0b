import { Buffer } from 'node:buffer';
import {
  type CursorBinding,
  decodeHistoryCursor,
  decodeSearchCursor,
  decodeSessionCursor,
  type HistoryPosition,
  type SessionPosition,
} from './cursor.js';
import { ValidationError } from './errors.js';
import { isEmpty, isPlainObject, type JsonRules, treeJsonBound, walkJson } from './json-walk.js';
import type { ImportOptions, PortableMessage, PortableRecord, PortableSession } from './portable.js';
import { sha256Hex } from './sha256.js';
import { parseTimestamp } from './timestamp.js';
import {
  DEFAULTS,
  type HistoryOptions,
  type HistoryPageOptions,
  type JsonValue,
  LIMITS,
  type ListSessionsOptions,
  type Metadata,
  type NewMessage,
  type NewSession,
  type PurgeOptions,
  type RewriteInput,
  type SearchOptions,
  type SessionFilter,
  type SessionsPageOptions,
  type UpdateSessionInput,
  type UpsertOptions,
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

/** Validates an id: a non-empty string of at most {@link LIMITS.idLength} characters. */
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
  const bound = treeJsonBound(METADATA_RULES, value);
  if (bound >= 0 && bound <= METADATA_RULES.maxBytes) return;
  walkJson(METADATA_RULES, field, value);
}

/**
 * Validates a message payload: any JSON value, with the rules of {@link assertMetadata} except that object
 * properties set to `undefined` are allowed and left out (as `JSON.stringify` leaves them out), strings may hold
 * U+0000 and lone surrogates (the JSON text escapes them), the size limit is {@link LIMITS.payloadBytes} and the
 * nesting limit {@link LIMITS.payloadDepth}. Returns the payload's JSON text
 * (what is stored and digested), or `null` for a `null` payload.
 */
export function assertPayload(field: string, value: unknown): string | null {
  return encodePayload(value, () => field);
}

/** {@link assertPayload}, its field named only when refused (see `validateMessageAt`). */
function encodePayload(value: unknown, field: () => string): string | null {
  if (value === null) return null;
  const bound = treeJsonBound(PAYLOAD_RULES, value);
  if (bound >= 0) {
    // Valid but for the size, which the text itself tells exactly (one native pass) when the bound cannot.
    const json = JSON.stringify(value);
    if (bound <= PAYLOAD_RULES.maxBytes || Buffer.byteLength(json, 'utf8') <= PAYLOAD_RULES.maxBytes)
      return json;
  }
  walkJson(PAYLOAD_RULES, field(), value);
  return JSON.stringify(value);
}

/** Validates a message format tag: 1 to {@link LIMITS.formatLength} characters, or `null`. */
export function assertFormat(field: string, value: unknown): asserts value is string | null {
  if (value === null) return;
  assertText(field, value);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > LIMITS.formatLength) {
    throw new ValidationError(
      field,
      `must be at most ${LIMITS.formatLength} characters, got ${value.length}`,
    );
  }
}

/** Throws `assertText`'s error for a string it refuses (the walk calls it only for those). */
function refuseText(field: string, text: string): never {
  assertText(field, text);
  // assertText refuses every text isStorableText refuses; reaching here would be a bug in one of them.
  throw new Error(`refuseText: ${field} was not refused`);
}

const METADATA_RULES: JsonRules = {
  maxBytes: LIMITS.metadataBytes,
  maxDepth: LIMITS.metadataDepth,
  dropUndefined: false,
  anyText: false,
  isStorableText,
  refuseText,
  describe,
};
const PAYLOAD_RULES: JsonRules = {
  maxBytes: LIMITS.payloadBytes,
  maxDepth: LIMITS.payloadDepth,
  dropUndefined: true,
  anyText: true,
  isStorableText,
  refuseText,
  describe,
};

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

/** `addMessage` input after validation, with its defaults applied and its payload encoded. */
export interface ValidMessage {
  id: string | undefined;
  role: string;
  content: string;
  metadata: Metadata;
  /** The payload as given (`undefined` properties still in it; `payloadJson` is its JSON text), or `null`. */
  payload: JsonValue | null;
  format: string | null;
  /** The payload's JSON text, `null` when there is none. */
  payloadJson: string | null;
  /** The message's {@link messageDigest}. */
  digest: string;
}

/**
 * Validates a message (`addMessage`'s input, or one message of `upsertMessages` and `rewriteHistory`, whose
 * fields are then named `messages[i].field`: pass that prefix as `at`), and computes its payload's JSON text and
 * its digest.
 */
export function validateNewMessage(input: unknown, at = ''): ValidMessage {
  return validateMessageAt(input, () => at);
}

/**
 * {@link validateNewMessage}, the field prefix made only when an error names it: each check below is a
 * sufficient condition tried first, and the assertion (the rule, and the error) runs only where it fails, so a
 * valid message of a whole-history upsert builds no field names.
 */
function validateMessageAt(input: unknown, at: () => string): ValidMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(at() || 'message', `expected an object, got ${describe(input)}`);
  }
  const { id, role, content, metadata: given, payload = null, format = null } = input as NewMessage;
  if (id !== undefined && !isShortText(id, LIMITS.idLength)) assertId(`${at()}id`, id);
  if (!isShortText(role, LIMITS.roleLength)) assertRole(`${at()}role`, role);
  if (typeof content !== 'string' || !isStorableText(content)) assertText(`${at()}content`, content);
  // Omitted metadata, the usual case, is `{}` with nothing to look at; empty metadata is checked once here,
  // for the rule and for the digest.
  const emptyMetadata = given === undefined || (isPlainObject(given) && isEmpty(given));
  if (!emptyMetadata) assertMetadata(`${at()}metadata`, given);
  const metadata: Metadata = given ?? {};
  const payloadJson = encodePayload(payload, () => `${at()}payload`);
  if (format !== null && !isShortText(format, LIMITS.formatLength)) assertFormat(`${at()}format`, format);
  const metadataJson = emptyMetadata ? '{}' : JSON.stringify(metadata);
  const digest = digestOfJson(role, content, metadataJson, format, payloadJson);
  return { id, role, content, metadata, payload: payload as JsonValue | null, format, payloadJson, digest };
}

/** A string of 1 to `max` characters that every backend stores unchanged (what ids, roles and formats are). */
function isShortText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && isStorableText(value);
}

/**
 * The digest of a validated message: SHA-256 (lowercase hex) of the JSON text of
 * `[role, content, metadata, format, payload]`, the payload as its JSON text (`null` when none).
 */
export function digestOf(
  role: string,
  content: string,
  metadata: Metadata,
  format: string | null,
  payloadJson: string | null,
): string {
  return digestOfJson(
    role,
    content,
    isEmpty(metadata) ? '{}' : JSON.stringify(metadata),
    format,
    payloadJson,
  );
}

/** {@link digestOf} with the metadata's JSON text made by the caller, which may know it is `{}`. */
function digestOfJson(
  role: string,
  content: string,
  metadataJson: string,
  format: string | null,
  payloadJson: string | null,
): string {
  // The same text as JSON.stringify([role, content, metadata, format, payload]), without serialising the payload
  // a second time, nor an array made for the purpose (this runs for every message of every upsert).
  const formatJson = format === null ? 'null' : JSON.stringify(format);
  return sha256Hex(
    `[${JSON.stringify(role)},${JSON.stringify(content)},${metadataJson},${formatJson},${payloadJson ?? 'null'}]`,
  );
}

/**
 * The payload's JSON text and the digest of a message record whose fields were validated (what the base passes
 * to `_addMessage` as its third argument, for a caller that does not have it).
 */
export function encodeMessage(record: {
  role: string;
  content: string;
  metadata: Metadata;
  payload?: JsonValue | null;
  format?: string | null;
}): { payloadJson: string | null; digest: string } {
  const payload = record.payload ?? null;
  const payloadJson = payload === null ? null : JSON.stringify(payload);
  return {
    payloadJson,
    digest: digestOf(record.role, record.content, record.metadata, record.format ?? null, payloadJson),
  };
}

/**
 * The messages of an `upsertMessages` or `rewriteHistory` call: an array of at most {@link LIMITS.callMessages}
 * messages, each validated (`messages[i].field`), their ids distinct, their JSON text at most
 * {@link LIMITS.callBytes} bytes in all.
 */
export function validateMessageList(field: string, value: unknown): ValidMessage[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `expected an array, got ${describe(value)}`);
  if (value.length > LIMITS.callMessages) {
    throw new ValidationError(
      field,
      `must hold at most ${LIMITS.callMessages} messages, got ${value.length}`,
    );
  }
  const seen = new Map<string, number>();
  let bytes = 0;
  return value.map((item, i) => {
    const valid = validateMessageAt(item, () => `${field}[${i}].`);
    if (valid.id !== undefined) {
      const first = seen.get(valid.id);
      if (first !== undefined) {
        throw new ValidationError(`${field}[${i}].id`, `repeats the id of ${field}[${first}]`);
      }
      seen.set(valid.id, i);
    }
    bytes += (valid.payloadJson?.length ?? 4) + valid.content.length;
    if (bytes > LIMITS.callBytes) {
      throw new ValidationError(field, `are larger than ${LIMITS.callBytes} bytes in all`);
    }
    return valid;
  });
}

/** Validates an `operationId`: 1 to {@link LIMITS.operationIdLength} characters. */
export function assertOperationId(field: string, value: unknown): asserts value is string {
  assertText(field, value);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > LIMITS.operationIdLength) {
    throw new ValidationError(
      field,
      `must be at most ${LIMITS.operationIdLength} characters, got ${value.length}`,
    );
  }
}

/** Validates `upsertMessages` options. */
export function validateUpsertOptions(options: unknown): {
  operationId: string | undefined;
  ifLastId: string | null | undefined;
} {
  assertOptionsObject('options', options);
  const { operationId, ifLastId } = (options ?? {}) as UpsertOptions;
  if (operationId !== undefined) assertOperationId('operationId', operationId);
  if (ifLastId !== undefined && ifLastId !== null) assertId('ifLastId', ifLastId);
  return { operationId, ifLastId };
}

/** `rewriteHistory` input after validation. */
export interface ValidRewrite {
  after: string | null;
  expectedIds: readonly string[] | undefined;
  expectedDigests: readonly string[] | undefined;
  messages: ValidMessage[];
  operationId: string | undefined;
}

/** Validates `rewriteHistory` input. */
export function validateRewriteInput(input: unknown): ValidRewrite {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('input', `expected an object, got ${describe(input)}`);
  }
  const { after, expectedIds, expectedDigests, messages, operationId } = input as RewriteInput;
  if (after !== null) assertId('after', after);
  const ids = expectedIds === undefined ? undefined : assertStringList('expectedIds', expectedIds, assertId);
  const digests =
    expectedDigests === undefined
      ? undefined
      : assertStringList('expectedDigests', expectedDigests, assertDigest);
  if (operationId !== undefined) assertOperationId('operationId', operationId);
  return {
    after,
    expectedIds: ids,
    expectedDigests: digests,
    messages: validateMessageList('messages', messages),
    operationId,
  };
}

/** Validates the ids of `deleteMessages`: an array of at most {@link LIMITS.callMessages} ids; returns them distinct. */
export function validateIdList(field: string, value: unknown): string[] {
  return [...new Set(assertStringList(field, value, assertId))];
}

function assertStringList(
  field: string,
  value: unknown,
  assertItem: (field: string, value: unknown) => void,
): string[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `expected an array, got ${describe(value)}`);
  if (value.length > LIMITS.callMessages) {
    throw new ValidationError(field, `must hold at most ${LIMITS.callMessages} items, got ${value.length}`);
  }
  for (const [i, item] of value.entries()) assertItem(`${field}[${i}]`, item);
  return value as string[];
}

function assertDigest(field: string, value: unknown): void {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new ValidationError(field, 'expected a message digest (64 lowercase hex characters)');
  }
}

/** `updateSession` input after validation; fields left out are `undefined`. */
export interface ValidSessionUpdate {
  title: string | null | undefined;
  metadata: Metadata | undefined;
  metadataPatch: Metadata | undefined;
  ifMetadata: Metadata | undefined;
}

/** Validates `updateSession` input: known fields only, `metadata` and `metadataPatch` not both. */
export function validateUpdateSessionInput(input: unknown): ValidSessionUpdate {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('input', `expected an object, got ${describe(input)}`);
  }
  const { title, metadata, metadataPatch, ifMetadata, ...rest } = input as UpdateSessionInput &
    Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) throw new ValidationError(unknownKey, 'is not a field of updateSession');
  if (title !== undefined) assertTitle('title', title);
  if (metadata !== undefined) assertMetadata('metadata', metadata);
  if (metadataPatch !== undefined) assertMetadata('metadataPatch', metadataPatch);
  if (metadata !== undefined && metadataPatch !== undefined) {
    throw new ValidationError('metadataPatch', 'cannot be given together with metadata');
  }
  if (ifMetadata !== undefined) assertMetadata('ifMetadata', ifMetadata);
  return { title, metadata, metadataPatch, ifMetadata };
}

/** Validates `purgeSessions` options and applies their defaults. */
export function validatePurgeOptions(options: unknown): {
  inactiveBefore: Date;
  batchSize: number;
  signal: AbortSignal | undefined;
} {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('options', `expected an object, got ${describe(options)}`);
  }
  const { inactiveBefore, batchSize = DEFAULTS.purgeBatchSize, signal } = options as PurgeOptions;
  if (!(inactiveBefore instanceof Date) || Number.isNaN(inactiveBefore.getTime())) {
    throw new ValidationError('inactiveBefore', `expected a valid Date, got ${describe(inactiveBefore)}`);
  }
  assertInteger('batchSize', batchSize, 1, LIMITS.purgeBatchSize);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ValidationError('signal', `expected an AbortSignal, got ${describe(signal)}`);
  }
  return { inactiveBefore, batchSize, signal };
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

/**
 * The binding of a listing read through `view`. Its fields are named rather than spread from `view`: a spread
 * copies through a generic path that cost a sessions page more than its option checks together.
 */
function cursorBinding(view: ListingView, sessionId: string | null, filter: unknown): CursorBinding {
  return { backend: view.backend, ownerId: view.ownerId, sessionId, filter };
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
  const binding = cursorBinding(view, null, { query, sessionId: sessionId ?? null, role: role ?? null });
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
  const binding = cursorBinding(view, sessionId, null);
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
  const binding = cursorBinding(view, null, filter?.metadata ?? null);
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
 * microsecond form (a value without a zone is UTC), metadata defaulting to `{}`, a message's `payload` and
 * `format` left out when absent or `null` (format version 1 has neither).
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
    // Format version 2 fields; absent (version 1) means null.
    const payload = r.payload ?? null;
    assertPayload(`${at}.payload`, payload);
    const format = r.format ?? null;
    assertFormat(`${at}.format`, format);
    return {
      type: 'message',
      id: r.id,
      sessionId: r.sessionId,
      role,
      content,
      createdAt,
      metadata,
      // Left out when null, as an export writes them.
      ...(payload !== null && { payload: payload as JsonValue }),
      ...(format !== null && { format }),
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
