import type { IsoMicros } from '../timestamp.js';
import type { Metadata } from '../types.js';
import type { StoredJson, StoredTimestamp } from './database.js';

/** How a dialect stores timestamps, metadata and content: the per-dialect part of reading and writing a row. */
export interface SqlCodecs {
  /** Encodes a canonical UTC timestamp (microseconds kept) for a parameter. */
  encodeTimestamp(value: IsoMicros): StoredTimestamp;
  /**
   * Decodes a stored timestamp to canonical text, microseconds kept; never throws (what an unreadable legacy
   * value decodes to is the backend's documented choice).
   */
  decodeTimestamp(value: unknown): IsoMicros;
  /** Encodes metadata for a parameter. */
  encodeMetadata(value: Metadata): StoredJson;
  /** Decodes stored metadata; never throws (see {@link decodeMetadataText} for legacy values). */
  decodeMetadata(value: unknown): Metadata;
  /**
   * Decodes a message's stored content to text; never throws (a dialect whose column may hold other types, as
   * legacy SQLite files do, says how they read).
   */
  decodeContent(value: unknown): string;
}

/**
 * Reads metadata stored as JSON text, forgiving what legacy files hold: `NULL` or an empty string is `{}`;
 * anything that is not JSON, or JSON that is not an object, is kept whole as `{ _raw: <the stored text> }`, so
 * a read never fails and nothing is lost. The migrator's `repair` rule produces the same shape.
 */
export function decodeMetadataText(value: unknown): Metadata {
  if (value === null || value === undefined) return {};
  const text =
    typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Metadata;
  } catch {
    // not JSON: kept under _raw below
  }
  return { _raw: text };
}
