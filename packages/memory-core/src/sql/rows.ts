import type { Insertable, Selectable } from 'kysely';
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

/** Turns a `messages` row into a contract `Message`. */
export function toMessage(row: Selectable<MessagesTable>, codecs: SqlCodecs): Message {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: codecs.decodeContent(row.content),
    createdAt: isoMicrosToDate(codecs.decodeTimestamp(row.created_at)),
    metadata: codecs.decodeMetadata(row.metadata),
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
    content: codecs.decodeContent(row.content),
    createdAt: codecs.decodeTimestamp(row.created_at),
    metadata: codecs.decodeMetadata(row.metadata),
  };
}

/** A session to write: a portable record's fields (the type tag aside). */
export type SessionToWrite = Omit<PortableSession, 'type'>;

/** Turns a session into a `sessions` row to insert, timestamps and metadata encoded by the dialect. */
export function sessionRow(session: SessionToWrite, codecs: SqlCodecs): Insertable<SessionsTable> {
  return {
    id: session.id,
    title: session.title,
    created_at: codecs.encodeTimestamp(session.createdAt),
    updated_at: codecs.encodeTimestamp(session.updatedAt),
    metadata: codecs.encodeMetadata(session.metadata),
    // Only named when set, so the statement stays the same as the original schema's for unowned sessions.
    ...(session.ownerId === null ? {} : { owner_id: session.ownerId }),
  };
}

/** Turns a portable message into a `messages` row to insert, timestamp and metadata encoded by the dialect. */
export function messageRow(message: PortableMessage, codecs: SqlCodecs): Insertable<MessagesTable> {
  return {
    id: message.id,
    session_id: message.sessionId,
    role: message.role,
    content: message.content,
    created_at: codecs.encodeTimestamp(message.createdAt),
    metadata: codecs.encodeMetadata(message.metadata),
  };
}
