import type { Generated } from 'kysely';

/**
 * A timestamp as a dialect stores it: SQLite keeps naive UTC ISO text with microseconds
 * (`2025-03-01T14:32:01.117364`, the original Python format); PostgreSQL a `TIMESTAMPTZ`, read as a `Date`.
 */
export type StoredTimestamp = string | Date;

/** Metadata as a dialect stores it: JSON text in SQLite, `JSONB` (read back parsed) in PostgreSQL. */
export type StoredJson = string | object;

/** The `sessions` table, with the original column names plus the columns later schema versions added. */
export interface SessionsTable {
  id: string;
  title: string | null;
  created_at: StoredTimestamp | null;
  updated_at: StoredTimestamp | null;
  metadata: StoredJson | null;
  /** Exact number of messages, kept in the same transaction as every message write (schema version 2). */
  message_count: Generated<number>;
  /** `created_at` of the latest message, or null (schema version 2). */
  last_message_at: StoredTimestamp | null;
  /** The owner (user or tenant), or null (schema version 3). */
  owner_id: string | null;
}

/** The `messages` table, with the original column names plus `seq`. */
export interface MessagesTable {
  /**
   * Insertion order, assigned by the database and increasing with every insert; it breaks ties between
   * messages that share a timestamp (schema version 2; legacy rows get their rowid order).
   */
  seq: Generated<number>;
  id: string;
  session_id: string;
  role: string;
  content: string;
  created_at: StoredTimestamp | null;
  metadata: StoredJson | null;
  /**
   * The framework's message as given, as `JSON.stringify` text (not `jsonb`: that refuses `\u0000` and reorders
   * keys), or null when none; null too in rows other writers inserted (schema version 7).
   */
  payload: string | null;
  /** A short tag naming the payload's shape, or null (schema version 7). */
  format: string | null;
  /**
   * Core's `messageDigest` of the row as written, or null when unknown (rows other writers inserted): it is then
   * computed on read (schema version 7).
   */
  digest: string | null;
}

/**
 * The `message_operations` table (schema version 7): one row per committed `operationId` of `upsertMessages`
 * or `rewriteHistory`, kept for the latest 1,000 operations of each session and deleted with the session.
 */
export interface MessageOperationsTable {
  session_id: string;
  operation_id: string;
  /** Digest of the request: a replay with another request is refused. */
  request_digest: string;
  /** The operation's result as JSON text, returned again on replay. */
  result: string;
  /** The operation's number within its session, increasing: the oldest are pruned first. */
  seq: number;
}

/** The Kysely database type every SQL backend shares. */
export interface Database {
  sessions: SessionsTable;
  messages: MessagesTable;
  message_operations: MessageOperationsTable;
}
