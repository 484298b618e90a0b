import type { IsoMicros, Metadata } from '@flux-rag/memory-core';
import {
  dateTimeFieldsToMillis,
  dateToIsoMicros,
  fractionDigitsToMillis,
  isoMicrosToDate,
  parseTimestamp,
} from '@flux-rag/memory-core/backend';
import { decodeMetadataText, type SqlCodecs } from '@flux-rag/memory-core/sql';
import pg from 'pg';

/** OID of `TIMESTAMPTZ`. */
export const TIMESTAMPTZ_OID = 1184;
/** OID of `TIMESTAMP` (without time zone): the original schema's columns, before schema version 2. */
export const TIMESTAMP_OID = 1114;

/** PostgreSQL's text for a TIMESTAMPTZ in a UTC session, years 1000 to 9999; the server only sends valid ones. */
const SERVER_UTC = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/**
 * The same in any other TimeZone (ISO DateStyle, PostgreSQL's default): the offset in hours, then minutes
 * and seconds when not whole (`+05:30`, and the local mean times of old dates such as `+00:53:28`). The
 * year may have five digits: 9999-12-31T23:59:59Z is in year 10000 east of UTC.
 */
const SERVER_ZONED =
  /^(\d{4,5})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$/;

/** What an unreadable or missing legacy timestamp decodes to: the epoch, so it sorts first and reads as absurd. */
const UNKNOWN_TIME: IsoMicros = '1970-01-01T00:00:00.000000Z';

/**
 * Type parsers for the pools the store creates: timestamps come back as the server's text, which keeps the
 * microseconds a `Date` would drop; every other type as `base` parses it (pg's defaults unless the caller's
 * `PoolConfig.types` said otherwise). Scoped to those pools, never installed globally in `pg.types`.
 */
export function timestampsAsText(base: Pick<typeof pg.types, 'getTypeParser'> = pg.types) {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID
        ? (value: string) => value
        : base.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
}

/**
 * A TIMESTAMPTZ the server rendered in a TimeZone other than UTC, as UTC {@link IsoMicros}: the store sets no
 * TimeZone of its own (no session state survives a transaction pooler), so the server's or database's
 * setting, whatever it is, decides the offset, and the instant is the same.
 */
function fromZoned(value: string): IsoMicros | undefined {
  const m = SERVER_ZONED.exec(value);
  if (!m) return undefined;
  const offset =
    (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * (m[8] === '-' ? -1 : 1);
  const local = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
  );
  const instant = new Date(local - offset * 1000);
  // Years below 100 and beyond 9999 never reach here: the contract's range is 1000 to 9999.
  return `${instant.toISOString().slice(0, 19)}.${(m[7] ?? '').padEnd(6, '0')}Z`;
}

/**
 * PostgreSQL codecs. Timestamps are sent as ISO text with microseconds and `Z`, and read back from text (the
 * store's own pools) or from a `Date` (a pool passed in with pg's default parsers, which keeps milliseconds
 * only). Metadata is sent as JSON text into `JSONB` and read back as the object pg parsed for this row. Content
 * is `TEXT`; a `NULL` a legacy table may hold reads as `''`.
 */
export const postgresCodecs: SqlCodecs = {
  encodeTimestamp: (value) => value,
  decodeTimestamp(value) {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? UNKNOWN_TIME : dateToIsoMicros(value);
    if (typeof value === 'string') {
      // The store's own connections render TIMESTAMPTZ in UTC (`2025-03-01 14:32:01.117364+00`); that form is
      // rewritten with string operations, a few times faster than the general parser, which reads the rest.
      const utc = SERVER_UTC.exec(value);
      if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(6, '0')}Z`;
      return fromZoned(value) ?? parseTimestamp(value) ?? UNKNOWN_TIME;
    }
    return UNKNOWN_TIME;
  },
  decodeDate(value) {
    if (typeof value === 'string') {
      const time = serverUtcMillis(value);
      if (!Number.isNaN(time)) return new Date(time);
    }
    return isoMicrosToDate(postgresCodecs.decodeTimestamp(value));
  },
  encodeMetadata: (value) => JSON.stringify(value),
  decodeMetadata(value) {
    // pg parses JSONB into a fresh object per row, so handing it out cannot alias anything stored.
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Metadata;
    if (value === null || value === undefined || typeof value === 'string') return decodeMetadataText(value);
    // A legacy JSONB array or scalar: kept whole, as decodeMetadataText keeps any JSON that is not an object.
    return { _raw: JSON.stringify(value) };
  },
  decodeContent: (value) => (typeof value === 'string' ? value : String(value ?? '')),
};

/**
 * The instant, in milliseconds, of the text the store's own connections read TIMESTAMPTZ as
 * (`2025-03-01 14:32:01.117364+00`, the fraction 0 to 6 digits), read field by field; `NaN` for any other text,
 * which `decodeTimestamp` reads. Every row a listing returns has two or three timestamps: reading them this way
 * rather than rewriting them to ISO text for `Date`'s parser took a sessions page from 1.1x raw pg (whose own
 * parser builds the `Date` from the fields) to below it.
 */
function serverUtcMillis(text: string): number {
  const end = text.length - 3;
  if (
    end < 19 ||
    text.charCodeAt(end) !== 43 ||
    text.charCodeAt(end + 1) !== 48 ||
    text.charCodeAt(end + 2) !== 48
  ) {
    return Number.NaN;
  }
  let millis = 0;
  if (end > 19) {
    // A fraction: a dot and 1 to 6 digits.
    if (text.charCodeAt(19) !== 46 || end - 20 < 1 || end - 20 > 6) return Number.NaN;
    millis = fractionDigitsToMillis(text, 20, end);
    if (Number.isNaN(millis)) return Number.NaN;
  }
  return dateTimeFieldsToMillis(text, ' ', millis);
}
