import type { Insertable, Selectable } from 'kysely';
import type { PortableMessage, PortableSession } from '../portable.js';
import { isoMicrosToDate } from '../timestamp.js';
import type { Message, Session, SessionSummary } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { MessagesTable, SessionsTable } from './database.js';

/** Decodes a stored timestamp to a `Date`: the codec's fast path when it has one. */
function dateOf(value: unknown, codecs: SqlCodecs): Date {
  return codecs.decodeDate ? codecs.decodeDate(value) : isoMicrosToDate(codecs.decodeTimestamp(value));
}

/** Turns a `sessions` row into a contract `Session`: its summary without the counts. */
export function toSession(row: Selectable<SessionsTable>, codecs: SqlCodecs): Session {
  const { messageCount: _count, lastMessageAt: _last, ...session } = toSessionSummary(row, codecs);
  return session;
}

/**
 * Turns a `sessions` row into a `SessionSummary`, counts read from the row itself. Written out, with
 * {@link toSession} derived from it rather than the other way round: listings decode every row they return,
 * and an intermediate object spread into the summary was a measurable share of a `getSessions` call.
 */
export function toSessionSummary(row: Selectable<SessionsTable>, codecs: SqlCodecs): SessionSummary {
  return {
    id: row.id,
    title: row.title,
    createdAt: dateOf(row.created_at, codecs),
    updatedAt: dateOf(row.updated_at ?? row.created_at, codecs),
    metadata: codecs.decodeMetadata(row.metadata),
    ownerId: row.owner_id ?? null,
    messageCount: Number(row.message_count),
    lastMessageAt: row.last_message_at === null ? null : dateOf(row.last_message_at, codecs),
  };
}

/** Turns a `messages` row into a contract `Message`. */
export function toMessage(row: Selectable<MessagesTable>, codecs: SqlCodecs): Message {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: codecs.decodeContent(row.content),
    createdAt: dateOf(row.created_at, codecs),
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
