import type { IsoMicros } from '@flux-rag/memory-core';
import {
  dateTimeFieldsToMillis,
  fractionDigitsToMillis,
  isoMicrosToDate,
  isoMicrosToNaive,
  parseTimestamp,
} from '@flux-rag/memory-core/backend';
import { decodeMetadataText, type SqlCodecs, UNREADABLE_TIMESTAMP } from '@flux-rag/memory-core/sql';

// Re-exported where it always was: core's one definition (the migrator's `repair` uses the same value).
export { UNREADABLE_TIMESTAMP };

/**
 * The SQLite codecs. Timestamps are stored as naive UTC text with microseconds (`2025-03-01T14:32:01.117364`),
 * the form the original Python code wrote, so that old and new rows sort together as text; they are read with
 * `parseTimestamp` (naive = UTC, other ISO 8601 forms accepted, anything else is {@link UNREADABLE_TIMESTAMP}).
 * Metadata is JSON text, read with `decodeMetadataText` (`NULL` or empty is `{}`, text that is not a JSON
 * object is `{ _raw: text }`). Content is text; legacy files may hold content stored as a number or a blob (the
 * original schema did not constrain its type), which reads back as text, and `NULL`, which reads as `''`.
 */
export const sqliteCodecs: SqlCodecs = {
  encodeTimestamp: (value: IsoMicros): string => isoMicrosToNaive(value),
  decodeTimestamp(value: unknown): IsoMicros {
    if (typeof value === 'string' && isCanonicalNaive(value)) return `${value}Z`;
    const text =
      typeof value === 'string'
        ? value
        : Buffer.isBuffer(value)
          ? value.toString('utf8')
          : typeof value === 'number' || typeof value === 'bigint'
            ? String(value)
            : null;
    return (text === null ? null : parseTimestamp(text)) ?? UNREADABLE_TIMESTAMP;
  },
  decodeDate(value: unknown): Date {
    // The canonical form names its instant field by field: its milliseconds are read directly.
    const time = typeof value === 'string' ? canonicalNaiveTime(value) : null;
    if (time !== null) return new Date(time);
    return isoMicrosToDate(sqliteCodecs.decodeTimestamp(value));
  },
  encodeMetadata: (value) => JSON.stringify(value),
  decodeMetadata: (value) => decodeMetadataText(value),
  decodeContent(value: unknown): string {
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return String(value ?? '');
  },
};

/**
 * The instant (milliseconds since the epoch) of text of the form this package and the Python code write,
 * `2025-03-01T14:32:01.117364`, each field in its range and the date one that exists; `null` for any other text.
 * Read field by field (core's `dateTimeFieldsToMillis`): nearly every stored value has this form, and it is read
 * for every row a listing returns.
 */
function canonicalNaiveTime(text: string): number | null {
  if (text.length !== 26 || text.charCodeAt(19) !== 46) return null;
  const millis = fractionDigitsToMillis(text, 20, 26);
  const time = Number.isNaN(millis) ? Number.NaN : dateTimeFieldsToMillis(text, 'T', millis);
  return Number.isNaN(time) ? null : time;
}

/** True for the canonical form naming a real instant (see {@link canonicalNaiveTime}). */
function isCanonicalNaive(text: string): boolean {
  return canonicalNaiveTime(text) !== null;
}
