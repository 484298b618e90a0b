import type { RawMessage, RawSession } from './row-rules.js';

/** How pages of source rows are bounded. */
export interface PageLimits {
  /** Rows per page. */
  rows: number;
  /** Approximate bytes per page (content and metadata); a single larger row still makes a page of its own. */
  bytes: number;
}

/**
 * A database rows are migrated from. Reads happen in one snapshot (a read transaction held from `open` to
 * `close`), page by page, so that the scan and the copy see the same rows and memory stays bounded.
 */
export interface MigrationSource {
  /** `sqlite` or `postgres`. */
  readonly backend: 'sqlite' | 'postgres';
  /** Where it is, without credentials. */
  readonly location: string;
  /** Its schema version: 1 for the original Python schema, 2 for `0002_insertion_order_and_counts`. */
  readonly schemaVersion: number;
  /** Row counts, for progress. */
  count(): Promise<{ sessions: number; messages: number }>;
  /** Every session row, in the source's storage order. */
  sessions(limits: PageLimits): AsyncIterable<RawSession[]>;
  /** Every message row, in insertion order when the source keeps one. */
  messages(limits: PageLimits): AsyncIterable<RawMessage[]>;
  /** Ends the snapshot and releases the connection. Idempotent. */
  close(): Promise<void>;
}
