import type { DigestSet } from './row-digest.js';
import type { MessageRow, SessionRow } from './row-rules.js';

/** A session row with the counters the target stores, computed from the messages written. */
export interface SessionWithCounts extends SessionRow {
  messageCount: number;
  lastMessageAt: string | null;
}

/**
 * A database rows are migrated into, created or upgraded through its backend's own migrations. Two ways in:
 * - bulk load, for an empty target: one transaction that drops the keys and indexes, loads every row, then
 *   recreates them from the definitions it read from the catalog; a run killed midway rolls back whole;
 * - merge, for a target holding rows already: one transaction per batch, rows whose id is present skipped
 *   (`ON CONFLICT DO NOTHING`), counters of the sessions touched recomputed in the same transaction; a run
 *   killed midway keeps its committed batches and a re-run skips them.
 */
export interface MigrationTarget {
  /** `postgres` or `sqlite`. */
  readonly backend: 'postgres' | 'sqlite';
  /** Where it is, without credentials. */
  readonly location: string;
  /** Schema version after setup; `null` when the tables do not exist (dry run or verification only). */
  readonly schemaVersion: number | null;
  /** Whether both tables are empty (or absent). */
  isEmpty(): Promise<boolean>;
  /** Which of these session ids the target holds. */
  presentSessions(ids: readonly string[]): Promise<Set<string>>;
  /** Which of these message ids the target holds. */
  presentMessages(ids: readonly string[]): Promise<Set<string>>;
  /** Starts a bulk load; `false` (nothing done) when the target is no longer empty once locked. */
  beginBulk(): Promise<boolean>;
  /** Loads messages in the bulk transaction. */
  bulkMessages(rows: readonly MessageRow[]): Promise<void>;
  /** Loads sessions, with their counters, in the bulk transaction. */
  bulkSessions(rows: readonly SessionWithCounts[]): Promise<void>;
  /** Recreates keys and indexes, moves the id sequence past the loaded rows, commits. */
  finishBulk(onStep?: (step: string) => void): Promise<void>;
  /** Rolls the bulk load back. */
  abortBulk(): Promise<void>;
  /** Writes sessions absent from the target in one transaction; returns how many were written. */
  mergeSessions(rows: readonly SessionRow[]): Promise<number>;
  /**
   * Writes messages absent from the target in one transaction, recounting their sessions; returns written.
   * Their `seq` is the target's (next values of its own sequence, in the order of `rows`' source seq), so rows
   * merged from several sources never share one and keep their relative order.
   */
  mergeMessages(rows: readonly MessageRow[]): Promise<number>;
  /** Moves the id sequence past the largest `seq` (a no-op where the database does it itself). */
  fixSequence(): Promise<void>;
  /** Row counts (0 when the tables do not exist). */
  count(): Promise<{ sessions: number; messages: number }>;
  /** The target's digests of these sessions and their messages, or of every session (`'all'`, one scan). */
  digests(sessionIds: readonly string[] | 'all'): Promise<DigestSet>;
  /** Releases the connection. Idempotent. */
  close(): Promise<void>;
}
