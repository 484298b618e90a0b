import type { IsoMicros } from '@flux-rag/memory-core';
import { isoMicrosToNaive, parseTimestamp } from '@flux-rag/memory-core/backend';
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
  encodeMetadata: (value) => JSON.stringify(value),
  decodeMetadata: (value) => decodeMetadataText(value),
  decodeContent(value: unknown): string {
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return String(value ?? '');
  },
};

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
// Positions of the separators in `2025-03-01T14:32:01.117364`; every other position holds a digit.
const SEPARATORS: Readonly<Record<number, number>> = { 4: 45, 7: 45, 10: 84, 13: 58, 16: 58, 19: 46 };

/**
 * True for the form this package and the Python code write, naming a real instant. Checked by hand, character
 * by character, because nearly every stored value has this form and `parseTimestamp`, which accepts every ISO
 * 8601 variant, costs about as much per row as reading the row.
 */
function isCanonicalNaive(text: string): boolean {
  if (text.length !== 26) return false;
  for (let i = 0; i < 26; i++) {
    const code = text.charCodeAt(i);
    const separator = SEPARATORS[i];
    if (separator === undefined ? code < 48 || code > 57 : code !== separator) return false;
  }
  const digits = (at: number, count: number) => {
    let value = 0;
    for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
    return value;
  };
  const year = digits(0, 4);
  const month = digits(5, 2);
  const day = digits(8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  return day <= days && digits(11, 2) < 24 && digits(14, 2) < 60 && digits(17, 2) < 60;
}
