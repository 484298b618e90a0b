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
    // The canonical form is the ISO text of its instant but for the zone: `Date` reads its milliseconds directly.
    if (typeof value === 'string' && isCanonicalNaive(value)) return new Date(`${value.slice(0, 23)}Z`);
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
/** The form of `2025-03-01T14:32:01.117364`, each field in its range (days up to 31 in any month). */
const CANONICAL_NAIVE =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}$/;

/**
 * True for the form this package and the Python code write, naming a real instant. A regular expression and,
 * past the 28th, the length of the month, because nearly every stored value has this form and
 * `parseTimestamp`, which accepts every ISO 8601 variant, costs about as much per row as reading the row.
 */
function isCanonicalNaive(text: string): boolean {
  if (!CANONICAL_NAIVE.test(text)) return false;
  const day = digits(text, 8, 2);
  if (day <= 28) return true;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/** The number written by the `count` digits of `text` from `at`. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}
