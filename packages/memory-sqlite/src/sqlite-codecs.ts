import { type IsoMicros, isoMicrosToNaive, parseTimestamp } from '@flux-rag/memory-core';
import { decodeMetadataText, type SqlCodecs } from '@flux-rag/memory-core/sql';

/**
 * What a timestamp that is missing (`NULL`) or not ISO 8601 reads as: the Unix epoch. Legacy files may hold
 * such values; a read must not fail on them, and a date in 1970 stands out to anyone looking at the data
 * instead of passing for a real time.
 */
export const UNREADABLE_TIMESTAMP: IsoMicros = '1970-01-01T00:00:00.000000Z';

/**
 * The SQLite codecs. Timestamps are stored as naive UTC text with microseconds (`2025-03-01T14:32:01.117364`),
 * the form the original Python code wrote, so that old and new rows sort together as text; they are read with
 * `parseTimestamp` (naive = UTC, other ISO 8601 forms accepted, anything else is {@link UNREADABLE_TIMESTAMP}).
 * Metadata is JSON text, read with `decodeMetadataText` (`NULL` or empty is `{}`, text that is not a JSON
 * object is `{ _raw: text }`).
 */
export const sqliteCodecs: SqlCodecs = {
  encodeTimestamp: (value: IsoMicros): string => isoMicrosToNaive(value),
  decodeTimestamp(value: unknown): IsoMicros {
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
};
