import type { IsoMicros, Metadata } from '@flux-rag/memory-core';
import { dateToIsoMicros, parseTimestamp } from '@flux-rag/memory-core/backend';
import { decodeMetadataText, type SqlCodecs } from '@flux-rag/memory-core/sql';
import pg from 'pg';

/** OID of `TIMESTAMPTZ`. */
export const TIMESTAMPTZ_OID = 1184;
/** OID of `TIMESTAMP` (without time zone): the original schema's columns, before schema version 2. */
export const TIMESTAMP_OID = 1114;

/** PostgreSQL's text for a TIMESTAMPTZ in a UTC session, years 1000 to 9999; the server only sends valid ones. */
const SERVER_UTC = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

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
      return parseTimestamp(value) ?? UNKNOWN_TIME;
    }
    return UNKNOWN_TIME;
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
