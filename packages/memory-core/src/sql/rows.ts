import type { Selectable } from 'kysely';
import type { Message, Session, SessionSummary } from '../types.js';
import type { SqlCodecs } from './codecs.js';
import type { MessagesTable, SessionsTable } from './database.js';

/** Turns a `sessions` row into a contract `Session`. */
export function toSession(row: Selectable<SessionsTable>, codecs: SqlCodecs): Session {
  return {
    id: row.id,
    title: row.title,
    createdAt: codecs.decodeTimestamp(row.created_at),
    updatedAt: codecs.decodeTimestamp(row.updated_at ?? row.created_at),
    metadata: codecs.decodeMetadata(row.metadata),
  };
}

/** Turns a `sessions` row into a `SessionSummary`, counts read from the row itself. */
export function toSessionSummary(row: Selectable<SessionsTable>, codecs: SqlCodecs): SessionSummary {
  return {
    ...toSession(row, codecs),
    messageCount: Number(row.message_count),
    lastMessageAt: row.last_message_at === null ? null : codecs.decodeTimestamp(row.last_message_at),
  };
}

/** Turns a `messages` row into a contract `Message`. Legacy content stored as a number or blob becomes text. */
export function toMessage(row: Selectable<MessagesTable>, codecs: SqlCodecs): Message {
  const content: unknown = row.content;
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content:
      typeof content === 'string'
        ? content
        : Buffer.isBuffer(content)
          ? content.toString('utf8')
          : String(content ?? ''),
    createdAt: codecs.decodeTimestamp(row.created_at),
    metadata: codecs.decodeMetadata(row.metadata),
  };
}
