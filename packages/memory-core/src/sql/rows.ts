import type { Selectable } from 'kysely';
import type { PortableMessage, PortableSession } from '../portable.js';
import { isoMicrosToDate } from '../timestamp.js';
import type { Message, Session, SessionSummary } from '../types.js';
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
    // Contract 1.1 fields, until the schema stores them.
    payload: null,
    format: null,
  };
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
  };
}

/** Legacy SQLite files may hold content stored as a number or a blob: it reads back as text. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Buffer.isBuffer(content)) return content.toString('utf8');
  return String(content ?? '');
}
