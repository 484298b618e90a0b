import type { IsoMicros } from './timestamp.js';
import type { JsonValue, Metadata } from './types.js';

/**
 * Version of the portable record format (`exportRecords`, `importRecords`, the CLI's JSON Lines files) that this
 * package writes. Version 2 (contract 1.1) added messages' optional `payload` and `format`; a message without them
 * is written exactly as version 1 wrote it. A reader accepts every version in
 * {@link READABLE_PORTABLE_FORMAT_VERSIONS} and refuses any other.
 */
export const PORTABLE_FORMAT_VERSION = 2;

/** The portable format versions this package reads: 1 (no payloads) and 2. */
export const READABLE_PORTABLE_FORMAT_VERSIONS: readonly number[] = Object.freeze([1, 2]);

/** A session as exported: every stored field, timestamps as UTC ISO text with microseconds. */
export interface PortableSession {
  readonly type: 'session';
  readonly id: string;
  readonly title: string | null;
  readonly createdAt: IsoMicros;
  readonly updatedAt: IsoMicros;
  readonly metadata: Metadata;
  /** The owner, or `null`; absent in files written before owners existed (read as `null`). */
  readonly ownerId: string | null;
}

/** A message as exported; in an export it follows its session, in history order. */
export interface PortableMessage {
  readonly type: 'message';
  readonly id: string;
  readonly sessionId: string;
  readonly role: string;
  readonly content: string;
  readonly createdAt: IsoMicros;
  readonly metadata: Metadata;
  /** The structured message (format version 2); absent or `null` when it has none. */
  readonly payload?: JsonValue | null;
  /** The payload's format tag (format version 2); absent or `null` when it has none. */
  readonly format?: string | null;
}

/** One record of an export. */
export type PortableRecord = PortableSession | PortableMessage;

/** Options of `exportRecords`. */
export interface ExportOptions {
  /** Export only these sessions (ids that do not exist are ignored); default every session. */
  sessionIds?: readonly string[];
}

/** Options of `importRecords`. */
export interface ImportOptions {
  /** Records written per transaction, 1 to 10,000; default 500. */
  batchSize?: number;
}

/** What `importRecords` did. Records whose id was already present are skipped, not overwritten. */
export interface ImportResult {
  sessions: { written: number; skipped: number };
  messages: { written: number; skipped: number };
}

/** What `check()` found; never contains a password. */
export interface StoreHealth {
  /** `sqlite`, `postgres`, `memory`, or a third-party backend's name. */
  backend: string;
  /** Where the store points: a file path or a DSN with its password masked. */
  location: string;
  /** Whether the database answered. */
  reachable: boolean;
  /** The database server or library version, when reachable. */
  serverVersion?: string;
  /** The schema version the database is at, when it has one. */
  schemaVersion?: number;
  /** Row counts, when reachable. */
  sessions?: number;
  messages?: number;
  /**
   * Messages whose session is gone, when reachable (counted in `messages` too); reported by the SQL backends,
   * absent where none can exist (the in-memory backend). Only legacy SQLite files can hold them; they are kept, readable by `getHistory(theirSessionId)`, never listed, searched, exported,
   * deleted or adopted by a new session of that id.
   */
  orphanMessages?: number;
  /** Why it is not reachable or not healthy (masked). */
  error?: string;
}
