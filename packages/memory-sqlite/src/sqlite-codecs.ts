import type { IsoMicros } from '@flux-rag/memory-core';
import { isoMicrosToDate, isoMicrosToNaive, parseTimestamp } from '@flux-rag/memory-core/backend';
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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
/** What `2025-03-01T14:32:01.117364` has at each position: a separator's code, or 0 for a digit. */
const CANONICAL_SHAPE = Array.from('0000-00-00T00:00:00.000000', (c) => (c === '0' ? 0 : c.charCodeAt(0)));

/**
 * The instant (milliseconds since the epoch) of text of the form this package and the Python code write,
 * `2025-03-01T14:32:01.117364`, each field in its range and the date one that exists; `null` for any other text.
 * Read field by field rather than by a regular expression and `Date`'s parser: nearly every stored value has
 * this form, it is read for every row a listing returns, and `parseTimestamp` (every ISO 8601 variant) or the
 * regular expression plus `new Date(text)` cost twice as much per value.
 */
function canonicalNaiveTime(text: string): number | null {
  if (text.length !== CANONICAL_SHAPE.length) return null;
  for (let i = 0; i < CANONICAL_SHAPE.length; i++) {
    const code = text.charCodeAt(i);
    const shape = CANONICAL_SHAPE[i]!;
    if (shape === 0 ? code < 48 || code > 57 : code !== shape) return null;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  if (day > 28) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  }
  const millis = digits(text, 20, 3);
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC reads years 0 to 99 as 1900 to 1999; setUTCFullYear takes the year as given.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.setUTCHours(hour, minute, second, millis);
}

/** True for the canonical form naming a real instant (see {@link canonicalNaiveTime}). */
function isCanonicalNaive(text: string): boolean {
  return canonicalNaiveTime(text) !== null;
}

/** The number written by the `count` digits of `text` from `at`. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}
