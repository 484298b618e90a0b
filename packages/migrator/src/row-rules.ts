import { isUtf8 } from 'node:buffer';
import { type IsoMicros, type Metadata, ValidationError } from '@flux-rag/memory-core';
import { assertId, isStorableText } from '@flux-rag/memory-core/backend';
import { UNREADABLE_TIMESTAMP } from '@flux-rag/memory-core/sql';
import type { TimestampReader } from './source-timezone.js';

/** What to do with rows that break the target's rules; see the package README for every rule. */
export type OnInvalid = 'fail' | 'skip' | 'repair';

/**
 * Why a source row is not a clean row. Codes are stable; the README lists, for each, what `repair` does.
 * - `id_invalid`: the row's id is missing, not text, empty, longer than 36 characters or holds U+0000.
 * - `session_id_invalid`: a message's session id is missing, not text, empty, too long or holds U+0000.
 * - `owner_id_invalid`: a session's owner id (schema version 3) is not text, empty, too long or holds U+0000.
 * - `session_missing`: a message whose session does not exist (an orphan).
 * - `session_rejected`: a message whose session was itself rejected.
 * - `metadata_null`, `metadata_empty`: no metadata, or empty text.
 * - `metadata_not_json`, `metadata_not_object`: text that is not JSON, or JSON that is not an object.
 * - `metadata_unstorable`: a JSON object holding U+0000 or a lone surrogate, which JSONB refuses.
 * - `metadata_not_text`: metadata stored as a number or a blob.
 * - `text_nul`: content, title or role holding U+0000, which PostgreSQL text cannot store.
 * - `title_not_text`, `role_not_text`, `content_not_text`: stored as a number or a blob.
 * - `content_invalid_utf8`: text whose bytes are not valid UTF-8 (read with U+FFFD, as the SQLite backend does).
 * - `content_large`: content larger than the configured limit (`maxContentBytes`).
 * - `timestamp_missing`: `NULL` or empty; `timestamp_other_form`: ISO 8601 but not the form the original
 *   code wrote; `timestamp_unparseable`: not a timestamp; `timestamp_not_text`: stored as a number or blob.
 */
export type InvalidReason =
  | 'id_invalid'
  | 'session_id_invalid'
  | 'owner_id_invalid'
  | 'session_missing'
  | 'session_rejected'
  | 'metadata_null'
  | 'metadata_empty'
  | 'metadata_not_json'
  | 'metadata_not_object'
  | 'metadata_unstorable'
  | 'metadata_not_text'
  | 'text_nul'
  | 'title_not_text'
  | 'role_not_text'
  | 'content_not_text'
  | 'content_invalid_utf8'
  | 'content_large'
  | 'timestamp_missing'
  | 'timestamp_other_form'
  | 'timestamp_unparseable'
  | 'timestamp_not_text';

/** One problem of one row. */
export interface RowProblem {
  /** Stable code. */
  reason: InvalidReason;
  /** The column: `id`, `session_id`, `title`, `role`, `content`, `created_at`, `updated_at`, `metadata`. */
  field: string;
  /** What was found, short (values are cut to 80 characters). */
  detail: string;
  /** What `repair` does about it, or `null` when `repair` cannot fix it (the row is rejected). */
  repair: string | null;
}

/** What becomes of a row: written as is, written repaired, written unchanged though flagged, or not written. */
export type RowAction = 'ok' | 'repaired' | 'kept' | 'rejected';

/** A session row as the source driver returned it; nothing is assumed about types. */
export interface RawSession {
  /** Position in the source (SQLite rowid); orders reading and names the row in reports. */
  key: number;
  id: unknown;
  title: unknown;
  createdAt: unknown;
  updatedAt: unknown;
  metadata: unknown;
  /** `owner_id` (schema version 3); `null` when the source has no such column. */
  ownerId: unknown;
}

/** A message row as the source driver returned it. */
export interface RawMessage {
  /** Insertion order in the source (SQLite rowid, `seq` of schema version 2); kept as `seq` in the target. */
  key: number;
  id: unknown;
  sessionId: unknown;
  role: unknown;
  /** The content as the driver returned it; ignored when `contentUtf8` is given. */
  content: unknown;
  /**
   * The content of a TEXT value as its UTF-8 bytes, when the source can hand them over without decoding (SQLite):
   * copied to PostgreSQL byte for byte, hashed as bytes, never turned into a JavaScript string.
   */
  contentUtf8?: Buffer | undefined;
  createdAt: unknown;
  metadata: unknown;
  /** The structured message's JSON text (schema version 7), `NULL` in older sources. */
  payload?: unknown;
  /** The payload's format tag (schema version 7). */
  format?: unknown;
  /** The message digest the source stored (schema version 7), `NULL` when it stored none. */
  digest?: unknown;
  /** Whether a session row with exactly this `sessionId` exists in the source. */
  sessionFound: boolean;
}

/** A session ready to write: every value valid for both backends. */
export interface SessionRow {
  id: string;
  title: string | null;
  createdAt: IsoMicros;
  updatedAt: IsoMicros;
  /** JSON text of an object, as stored (the source's own text when it was valid, so numbers keep their digits). */
  metadataText: string;
  /** The same metadata, parsed. */
  metadata: Metadata;
  /** The owner (a user or tenant id), or `null`. */
  ownerId: string | null;
}

/** A message ready to write. */
export interface MessageRow {
  /** Insertion order: the source's rowid or `seq`. */
  seq: number;
  id: string;
  sessionId: string;
  role: string;
  /** The text, or its UTF-8 bytes (valid UTF-8, no U+0000) when the source gave bytes. */
  content: string | Buffer;
  createdAt: IsoMicros;
  metadataText: string;
  metadata: Metadata;
  /** The payload's JSON text as the source stored it, copied verbatim; `null` when none. */
  payload: string | null;
  /** The payload's format tag, or `null`. */
  format: string | null;
  /** The digest the source stored, or `null` (the store computes a missing one on read). */
  digest: string | null;
}

/** The verdict on one row. `row` is there when the row is written (and, for messages, its content was read). */
export interface Judgement<R> {
  action: RowAction;
  problems: RowProblem[];
  row?: R;
}

/** What the rules need to know besides the row. */
export interface RuleContext {
  onInvalid: OnInvalid;
  readTimestamp: TimestampReader;
  /** Content above this many bytes is `content_large`. */
  maxContentBytes: number;
  /** Ids of sessions rejected so far; their messages are rejected too. */
  rejectedSessions: ReadonlySet<string>;
}

/** Title of the session `repair` creates for messages whose session is gone. */
export const RECOVERED_TITLE = 'Recovered session';

/** Metadata of a recovered session: marks it, so the rule can be undone. */
export const RECOVERED_METADATA: Metadata = { _recovered: true };

const NUL = /\u0000/g;
const MAYBE_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])/;

/** Judges a session row under the rules. */
export function judgeSession(raw: RawSession, ctx: RuleContext): Judgement<SessionRow> {
  const problems: RowProblem[] = [];
  const id = checkId(raw.id, 'id', 'id_invalid', problems);
  const title = textOrNull(raw.title, 'title', 'title_not_text', problems);
  const created = readTime(raw.createdAt, 'created_at', ctx, UNREADABLE_TIMESTAMP, problems);
  const updated =
    raw.updatedAt === null || raw.updatedAt === undefined
      ? missingUpdatedAt(created, problems)
      : readTime(raw.updatedAt, 'updated_at', ctx, UNREADABLE_TIMESTAMP, problems);
  const metadata = readMetadata(raw.metadata, problems);
  const ownerId =
    raw.ownerId === null || raw.ownerId === undefined
      ? null
      : checkId(raw.ownerId, 'owner_id', 'owner_id_invalid', problems);
  const action = decide(problems, ctx.onInvalid);
  if (action === 'rejected' || id === null) return { action: 'rejected', problems };
  return {
    action,
    problems,
    row: {
      id,
      title,
      createdAt: created,
      updatedAt: updated,
      metadataText: metadata.text,
      metadata: metadata.value,
      ownerId,
    },
  };
}

/** Judges a message row under the rules. */
export function judgeMessage(raw: RawMessage, ctx: RuleContext): Judgement<MessageRow> {
  const problems: RowProblem[] = [];
  const id = checkId(raw.id, 'id', 'id_invalid', problems);
  const sessionId = checkId(raw.sessionId, 'session_id', 'session_id_invalid', problems);
  if (sessionId !== null) {
    if (ctx.rejectedSessions.has(sessionId)) {
      problems.push({
        reason: 'session_rejected',
        field: 'session_id',
        detail: `session ${JSON.stringify(sessionId)} was rejected`,
        repair: null,
      });
    } else if (!raw.sessionFound) {
      problems.push({
        reason: 'session_missing',
        field: 'session_id',
        detail: `no session ${JSON.stringify(sessionId)}`,
        repair: `a session ${JSON.stringify(RECOVERED_TITLE)} with metadata {"_recovered":true} is created`,
      });
    }
  }
  const role = textOrNull(raw.role, 'role', 'role_not_text', problems) ?? '';
  const content = judgeContent(raw, ctx, problems);
  const created = readTime(raw.createdAt, 'created_at', ctx, UNREADABLE_TIMESTAMP, problems);
  const metadata = readMetadata(raw.metadata, problems);
  const action = decide(problems, ctx.onInvalid);
  if (action === 'rejected' || id === null || sessionId === null) return { action: 'rejected', problems };
  return {
    action,
    problems,
    row: {
      seq: raw.key,
      id,
      sessionId,
      role,
      content,
      createdAt: created,
      metadataText: metadata.text,
      metadata: metadata.value,
      payload: optionalText(raw.payload),
      format: optionalText(raw.format),
      digest: optionalText(raw.digest),
    },
  };
}

/**
 * A column of schema version 7 (`payload`, `format`, `digest`) as text: only this library writes them, always as
 * text; a value some other client stored as a blob reads as its UTF-8 text, as `content` does.
 */
function optionalText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : asText(value);
}

function decide(problems: readonly RowProblem[], onInvalid: OnInvalid): RowAction {
  if (problems.length === 0) return 'ok';
  if (onInvalid !== 'repair' || problems.some((p) => p.repair === null)) return 'rejected';
  return problems.every((p) => p.reason === 'content_large') ? 'kept' : 'repaired';
}

function checkId(
  value: unknown,
  field: string,
  reason: InvalidReason,
  problems: RowProblem[],
): string | null {
  if (value === null || value === undefined) {
    problems.push({ reason, field, detail: `${field} is missing`, repair: null });
    return null;
  }
  // The contract's own id rule (text, 1 to 36 characters, storable everywhere): a row the store would refuse
  // through its API is refused here too, with the contract's words.
  try {
    assertId(field, value);
    return value;
  } catch (error) {
    if (!ValidationError.isInstance(error)) throw error;
    problems.push({ reason, field, detail: error.message, repair: null });
    return null;
  }
}

/** Text of a title or role; numbers and blobs become text as the SQLite backend would show them. */
function textOrNull(
  value: unknown,
  field: string,
  reason: InvalidReason,
  problems: RowProblem[],
): string | null {
  if (value === null || value === undefined) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    text = asText(value);
    problems.push({
      reason,
      field,
      detail: `${field} stored as a ${kind(value)}`,
      repair: `stored as the text ${preview(text)}`,
    });
  }
  return stripNul(text, field, problems);
}

function judgeContent(raw: RawMessage, ctx: RuleContext, problems: RowProblem[]): string | Buffer {
  const bytes = raw.contentUtf8;
  if (bytes) {
    if (!isUtf8(bytes)) {
      problems.push({
        reason: 'content_invalid_utf8',
        field: 'content',
        detail: 'content is not valid UTF-8',
        repair: 'invalid bytes read as U+FFFD, as the SQLite backend reads them',
      });
      return judgeText(bytes.toString('utf8'), ctx, problems);
    }
    if (bytes.length > ctx.maxContentBytes) problems.push(largeProblem(bytes.length, ctx));
    // In UTF-8 a 0x00 byte is U+0000 and nothing else.
    if (bytes.indexOf(0) === -1) return bytes;
    const kept = bytes.filter((b) => b !== 0);
    problems.push(nulProblem('content', bytes.length - kept.length));
    return Buffer.from(kept.buffer, kept.byteOffset, kept.length);
  }
  const value = raw.content;
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    text = asText(value);
    const what = value === null || value === undefined ? 'NULL' : `a ${kind(value)}`;
    problems.push({
      reason: 'content_not_text',
      field: 'content',
      detail: `content stored as ${what}`,
      repair: kind(value) === 'blob' ? 'decoded as UTF-8 text' : `stored as the text ${preview(text)}`,
    });
  }
  return judgeText(text, ctx, problems);
}

function judgeText(text: string, ctx: RuleContext, problems: RowProblem[]): string {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact size is needed only near the limit.
  if (text.length * 3 > ctx.maxContentBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > ctx.maxContentBytes) problems.push(largeProblem(bytes, ctx));
  }
  return stripNul(text, 'content', problems);
}

function largeProblem(bytes: number, ctx: RuleContext): RowProblem {
  return {
    reason: 'content_large',
    field: 'content',
    detail: `content of ${bytes} bytes, more than ${ctx.maxContentBytes}`,
    repair: 'kept whole',
  };
}

function stripNul(text: string, field: string, problems: RowProblem[]): string {
  if (!text.includes('\u0000')) return text;
  const stripped = text.replace(NUL, '');
  problems.push(nulProblem(field, text.length - stripped.length));
  return stripped;
}

function nulProblem(field: string, count: number): RowProblem {
  return {
    reason: 'text_nul',
    field,
    detail: `${field} holds U+0000 (${count})`,
    repair: 'U+0000 characters removed',
  };
}

function missingUpdatedAt(created: IsoMicros, problems: RowProblem[]): IsoMicros {
  problems.push({
    reason: 'timestamp_missing',
    field: 'updated_at',
    detail: 'updated_at is NULL',
    repair: 'set to created_at, as it reads',
  });
  return created;
}

function readTime(
  value: unknown,
  field: string,
  ctx: RuleContext,
  fallback: IsoMicros,
  problems: RowProblem[],
): IsoMicros {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
    problems.push({
      reason: 'timestamp_missing',
      field,
      detail: `${field} is ${value === null || value === undefined ? 'NULL' : 'empty'}`,
      repair: `set to ${fallback}`,
    });
    return fallback;
  }
  const text = typeof value === 'string' ? value : asText(value);
  const read = ctx.readTimestamp(text);
  if (typeof value !== 'string') {
    problems.push({
      reason: 'timestamp_not_text',
      field,
      detail: `${field} stored as a ${kind(value)}: ${preview(text)}`,
      repair: `read as ${read ? read.value : fallback}`,
    });
    return read ? read.value : fallback;
  }
  if (read === null) {
    problems.push({
      reason: 'timestamp_unparseable',
      field,
      detail: `${field} ${preview(text)} is not a timestamp`,
      repair: `set to ${fallback}`,
    });
    return fallback;
  }
  if (read.form === 'other') {
    problems.push({
      reason: 'timestamp_other_form',
      field,
      detail: `${field} ${preview(text)}`,
      repair: `read as ${read.value}`,
    });
  }
  return read.value;
}

/** Metadata as stored text and parsed value; the same shapes as core's `decodeMetadataText` reads. */
function readMetadata(value: unknown, problems: RowProblem[]): { text: string; value: Metadata } {
  if (value === null || value === undefined) {
    problems.push({
      reason: 'metadata_null',
      field: 'metadata',
      detail: 'metadata is NULL',
      repair: 'set to {}',
    });
    return EMPTY;
  }
  // What most legacy rows hold: json.dumps({}).
  if (value === EMPTY_TEXT) return EMPTY;
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    text = asText(value);
    problems.push({
      reason: 'metadata_not_text',
      field: 'metadata',
      detail: `metadata stored as a ${kind(value)}`,
      repair: 'read as its text',
    });
  }
  if (text.trim() === '') {
    problems.push({
      reason: 'metadata_empty',
      field: 'metadata',
      detail: 'metadata is empty text',
      repair: 'set to {}',
    });
    return EMPTY;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push({
      reason: 'metadata_not_json',
      field: 'metadata',
      detail: `metadata ${preview(text)} is not JSON`,
      repair: 'kept whole as {"_raw": <the text>}',
    });
    return raw(text, problems);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({
      reason: 'metadata_not_object',
      field: 'metadata',
      detail: `metadata is JSON ${Array.isArray(parsed) ? 'array' : parsed === null ? 'null' : typeof parsed}`,
      repair: 'kept whole as {"_raw": <the text>}',
    });
    return raw(text, problems);
  }
  // Parsed strings can hold U+0000 or a lone surrogate only through an escape (or a raw NUL, which JSON
  // refuses): most texts are cleared without walking the value.
  if (MAYBE_UNSTORABLE.test(text) && hasUnstorableText(parsed)) {
    problems.push({
      reason: 'metadata_unstorable',
      field: 'metadata',
      detail: 'metadata holds U+0000 or a lone surrogate, which JSONB cannot store',
      repair: 'kept whole as {"_raw": <the text>}',
    });
    return raw(text, problems);
  }
  return { text, value: parsed as Metadata };
}

const EMPTY_TEXT = '{}';
const EMPTY = {
  text: EMPTY_TEXT,
  get value(): Metadata {
    return {};
  },
};

function raw(text: string, problems: RowProblem[]): { text: string; value: Metadata } {
  const kept = stripNul(text, 'metadata', problems);
  const value = { _raw: kept };
  return { text: JSON.stringify(value), value };
}

/** Whether any key or string inside holds U+0000 or a lone surrogate (iterative: nesting depth is unbounded). */
function hasUnstorableText(root: object): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (!isStorableText(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        if (!isStorableText(key)) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** A non-text stored value as the SQLite backend reads it: numbers as their text, blobs as UTF-8. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value === null || value === undefined ? '' : String(value);
}

function kind(value: unknown): string {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 'blob';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  return typeof value;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
