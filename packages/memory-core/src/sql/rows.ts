import type { Selectable } from 'kysely';
import type { PortableMessage, PortableSession } from '../portable.js';
import { isoMicrosToDate } from '../timestamp.js';
import type { JsonValue, Message, Session, SessionSummary } from '../types.js';
import { digestOf } from '../validation.js';
import type { SqlCodecs } from './codecs.js';
import type { MessagesTable, SessionsTable } from './database.js';

/** Turns a `sessions` row into a contract `Session`. */
export function toSession(row: Selectable<SessionsTable>, codecs: SqlCodecs): Session {
  return {
    id: row.id,
    title: row.title,
    createdAt: isoMicrosToDate(codecs.decodeTimestamp(row.created_at)),
    updatedAt: isoMicrosToDate(codecs.decodeTimestamp(row.updated_at ?? row.created_at)),
    metadata: codecs.decodeMetadata(row.metadata),
    ownerId: row.owner_id ?? null,
  };
}

/** Turns a `sessions` row into a `SessionSummary`, counts read from the row itself. */
export function toSessionSummary(row: Selectable<SessionsTable>, codecs: SqlCodecs): SessionSummary {
  return {
    ...toSession(row, codecs),
    messageCount: Number(row.message_count),
    lastMessageAt:
      row.last_message_at === null ? null : isoMicrosToDate(codecs.decodeTimestamp(row.last_message_at)),
  };
}

/** Turns a `messages` row into a contract `Message`. Legacy content stored as a number or blob becomes text. */
export function toMessage(row: Selectable<MessagesTable>, codecs: SqlCodecs): Message {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: contentText(row.content),
    createdAt: isoMicrosToDate(codecs.decodeTimestamp(row.created_at)),
    metadata: codecs.decodeMetadata(row.metadata),
    payload: decodePayload(row.payload),
    format: row.format ?? null,
  };
}

/**
 * A stored payload as a fresh JSON value: `NULL` (no payload, or a row another writer inserted) reads as `null`,
 * and so does text that is not JSON (only a hand-edited row can hold it), rather than failing the whole read.
 */
export function decodePayload(text: string | null | undefined): JsonValue | null {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return null;
  }
}

/**
 * The digest of a stored message: the one written with it, or, for a row without one (the Python app and
 * older versions of this library write none), the digest computed from its columns.
 */
export function storedDigest(
  row: Pick<Selectable<MessagesTable>, 'role' | 'content' | 'metadata' | 'format' | 'payload' | 'digest'>,
  codecs: SqlCodecs,
): string {
  if (row.digest !== null && row.digest !== undefined) return row.digest;
  return digestOf(
    row.role,
    contentText(row.content),
    codecs.decodeMetadata(row.metadata),
    row.format ?? null,
    row.payload ?? null,
  );
}

/** Turns a `sessions` row into a portable record, timestamps at full stored precision. */
export function toPortableSession(row: Selectable<SessionsTable>, codecs: SqlCodecs): PortableSession {
  return {
    type: 'session',
    id: row.id,
    title: row.title,
    createdAt: codecs.decodeTimestamp(row.created_at),
    updatedAt: codecs.decodeTimestamp(row.updated_at ?? row.created_at),
    metadata: codecs.decodeMetadata(row.metadata),
    ownerId: row.owner_id ?? null,
  };
}

/** Turns a `messages` row into a portable record, timestamps at full stored precision. */
export function toPortableMessage(row: Selectable<MessagesTable>, codecs: SqlCodecs): PortableMessage {
  return {
    type: 'message',
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: contentText(row.content),
    createdAt: codecs.decodeTimestamp(row.created_at),
    metadata: codecs.decodeMetadata(row.metadata),
    // Only when set: a message without them exports exactly as in format version 1.
    ...(row.payload === null || row.payload === undefined ? {} : { payload: decodePayload(row.payload) }),
    ...(row.format === null || row.format === undefined ? {} : { format: row.format }),
  };
}

/** Legacy SQLite files may hold content stored as a number or a blob: it reads back as text. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Buffer.isBuffer(content)) return content.toString('utf8');
  return String(content ?? '');
}
