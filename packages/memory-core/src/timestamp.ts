/**
 * Timestamps outside the contract's `Date`s (export files, migration, SQLite text) are canonical UTC ISO 8601
 * text with microseconds, `2025-03-01T14:32:01.117364Z`: the precision Python and PostgreSQL keep, which a
 * `Date` would cut to milliseconds.
 */
export type IsoMicros = string;

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses the ISO 8601 forms found in the wild (`T` or space, 0 to 9 fraction digits, `Z`, `+HH`, `+HH:MM`,
 * `+HHMM`, a bare date) into canonical {@link IsoMicros}. A value without a zone is read in `naiveZone`:
 * `'UTC'` (the default, as the original Python code ran) or a fixed offset such as `+02:00`. Returns `null`
 * for anything else, including impossible dates such as February 30th.
 */
export function parseTimestamp(text: string, naiveZone = 'UTC'): IsoMicros | null {
  const match = ISO.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone] = match;
  const offsetMinutes = zoneOffsetMinutes(zone ?? naiveZone);
  if (offsetMinutes === null) return null;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const local = Date.UTC(...fields);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== fields[0] ||
    check.getUTCMonth() !== fields[1] ||
    check.getUTCDate() !== fields[2] ||
    check.getUTCHours() !== fields[3] ||
    check.getUTCMinutes() !== fields[4] ||
    check.getUTCSeconds() !== fields[5]
  ) {
    return null;
  }
  const utc = new Date(local - offsetMinutes * 60_000);
  return `${utc.toISOString().slice(0, 19)}.${fraction.padEnd(6, '0').slice(0, 6)}Z`;
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone === 'Z' || zone === 'z' || zone.toUpperCase() === 'UTC') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!match) return null;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  if (minutes > 18 * 60) return null;
  return match[1] === '-' ? -minutes : minutes;
}

/** A `Date` as canonical {@link IsoMicros} (its microseconds are `000`). */
export function dateToIsoMicros(date: Date): IsoMicros {
  return `${date.toISOString().slice(0, 23)}000Z`;
}

/** Canonical {@link IsoMicros} as a `Date`, cut to milliseconds. */
export function isoMicrosToDate(value: IsoMicros): Date {
  return new Date(`${value.slice(0, 23)}Z`);
}

/**
 * The naive UTC text the original Python code wrote to SQLite (`2025-03-01T14:32:01.117364`, no zone), which
 * sorts as text in time order. `@flux-rag/memory-sqlite` keeps writing this form so old and new rows sort together.
 */
export function isoMicrosToNaive(value: IsoMicros): string {
  return value.slice(0, 26);
}
