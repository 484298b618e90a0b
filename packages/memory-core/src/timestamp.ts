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

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
/** What `2025-03-01T14:32:01` has at each position: a separator's code, 0 for a digit, -1 for the date-time separator. */
const DATE_TIME_SHAPE = Array.from('0000-00-00?00:00:00', (c) =>
  c === '0' ? 0 : c === '?' ? -1 : c.charCodeAt(0),
);

/**
 * The instant (milliseconds since the epoch) of `YYYY-MM-DD?HH:MM:SS` at the start of `text`, where `?` is the
 * character `separator` (`T` or a space), each field in its range and the date one that exists, plus `millis`;
 * `NaN` when those 19 characters are anything else. What follows them (a fraction, a zone) is the caller's to
 * check. Read field by field rather than by a regular expression and `Date`'s parser, which cost two to four
 * times as much: the backends read every timestamp of every row a listing returns through this.
 */
export function dateTimeFieldsToMillis(text: string, separator: string, millis: number): number {
  if (text.length < 19 || text.charCodeAt(10) !== separator.charCodeAt(0)) return Number.NaN;
  for (let i = 0; i < 19; i++) {
    const code = text.charCodeAt(i);
    const shape = DATE_TIME_SHAPE[i]!;
    if (shape === 0 ? code < 48 || code > 57 : shape !== -1 && code !== shape) return Number.NaN;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  if (day > 28) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return Number.NaN;
  }
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC reads years 0 to 99 as 1900 to 1999; setUTCFullYear takes the year as given.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.setUTCHours(hour, minute, second, millis);
}

/**
 * The milliseconds of the fraction of a second written by the digits of `text` from `start` to `end` (`.5` is
 * 500, `.117364` is 117: cut, as `Date`'s are); `NaN` when any of them is not a digit. The caller checks where
 * the fraction starts and how many digits its form allows.
 */
export function fractionDigitsToMillis(text: string, start: number, end: number): number {
  let millis = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return Number.NaN;
    if (i < start + 3) millis += (code - 48) * 10 ** (start + 2 - i);
  }
  return millis;
}

/** The number written by the `count` digits of `text` from `at` (the caller checked they are digits). */
function digitsAt(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}
