import { type IsoMicros, ValidationError } from '@flux-rag/memory-core';
import { parseTimestamp } from '@flux-rag/memory-core/backend';

/** What a stored timestamp text reads as, and whether it was in the form the original code wrote. */
export interface ReadTimestamp {
  /** Canonical UTC text with microseconds. */
  value: IsoMicros;
  /**
   * `python` for Python's naive `datetime.isoformat()` (`2025-03-01T14:32:01.117364`, or without the
   * fraction when the microseconds are 0) and for the canonical UTC form itself; `other` for any other
   * ISO 8601 form `parseTimestamp` accepts (space separator, a zone, fewer fraction digits, a bare date).
   */
  form: 'python' | 'other';
}

/** Reads one stored timestamp text; `null` when it is not a timestamp at all. */
export type TimestampReader = (text: string) => ReadTimestamp | null;

const PYTHON_NAIVE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{6})?$/;
const CANONICAL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const FIXED_OFFSET = /^[+-]\d{2}(:?\d{2})?$/;
const DAY_MS = 86_400_000;

/**
 * Checks a source time zone: `UTC`, a fixed offset (`+02:00`, `-0530`, `+09`) or an IANA name
 * (`Europe/Paris`). Throws `ValidationError` naming `field` otherwise.
 */
export function assertSourceTimezone(field: string, zone: unknown): asserts zone is string {
  if (typeof zone !== 'string' || zone.trim() === '') {
    throw new ValidationError(field, 'expected UTC, a fixed offset such as +02:00, or an IANA zone name');
  }
  if (isUtc(zone) || FIXED_OFFSET.test(zone)) {
    if (!isUtc(zone) && parseTimestamp('2000-01-01T00:00:00', zone) === null) {
      throw new ValidationError(field, `offset out of range: ${JSON.stringify(zone)}`);
    }
    return;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ValidationError(field, `unknown time zone ${JSON.stringify(zone)}`);
  }
}

function isUtc(zone: string): boolean {
  return /^(utc|z|gmt|etc\/utc|etc\/gmt)$/i.test(zone.trim());
}

/**
 * A reader of stored timestamps for a source whose naive values are local time in `zone` (default UTC, as
 * the original Python code ran). Values that carry their own zone are read in it. For an IANA zone, a local
 * time that occurs twice (the hour repeated when clocks go back) or never (skipped when they go forward) is
 * read with the offset in force just before the change, as Python's `fold=0` does.
 */
export function createTimestampReader(zone = 'UTC'): TimestampReader {
  assertSourceTimezone('sourceTimezone', zone);
  const validDays = new Map<string, boolean>();
  const utc = isUtc(zone);
  const fixed = !utc && FIXED_OFFSET.test(zone);
  const toUtc = utc || fixed ? undefined : ianaToUtc(zone);

  // The original code's own form is read without the general parser: it is nearly every row of a legacy
  // file, and a migration reads each timestamp twice (scan, then copy).
  const fastPython = (text: string): IsoMicros | null => {
    const m = PYTHON_NAIVE.exec(text);
    if (!m) return null;
    const day = text.slice(0, 10);
    let ok = validDays.get(day);
    if (ok === undefined) {
      ok = parseTimestamp(`${day}T00:00:00`) !== null;
      if (validDays.size > 50_000) validDays.clear();
      validDays.set(day, ok);
    }
    if (!ok || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return null;
    return m[7] === undefined ? `${text}.000000Z` : `${text}Z`;
  };

  return (text) => {
    if (utc) {
      const value = fastPython(text);
      if (value !== null) return { value, form: 'python' };
    }
    if (CANONICAL_UTC.test(text)) {
      const value = parseTimestamp(text);
      return value === null ? null : { value, form: 'python' };
    }
    const naive = PYTHON_NAIVE.test(text);
    if (toUtc) {
      const local = parseTimestamp(text, 'UTC');
      if (local === null) return null;
      // A value that names its own zone reads the same whatever zone naive values are read in.
      const zoned = parseTimestamp(text, '+01:00') === local;
      return { value: zoned ? local : toUtc(local), form: naive ? 'python' : 'other' };
    }
    const value = parseTimestamp(text, utc ? 'UTC' : zone);
    return value === null ? null : { value, form: naive ? 'python' : 'other' };
  };
}

/** Converts a local wall time, given as if it were UTC, into the real UTC instant in an IANA zone. */
function ianaToUtc(zone: string): (localAsUtc: IsoMicros) => IsoMicros {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const offsetAt = (utcMs: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(utcMs))) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      parts.year!,
      parts.month! - 1,
      parts.day!,
      parts.hour!,
      parts.minute!,
      parts.second!,
    );
    return wall - Math.floor(utcMs / 1000) * 1000;
  };
  // Offsets change only on whole minutes: one answer per local minute.
  const byMinute = new Map<number, number>();
  return (localAsUtc) => {
    const localMs = Date.parse(`${localAsUtc.slice(0, 23)}Z`);
    const minute = Math.floor(localMs / 60_000);
    let offset = byMinute.get(minute);
    if (offset === undefined) {
      const minuteMs = minute * 60_000;
      // The offsets in force half a day either side; zones never change twice within a day.
      const before = offsetAt(minuteMs - DAY_MS / 2);
      const after = offsetAt(minuteMs + DAY_MS / 2);
      const fits = (o: number) => offsetAt(minuteMs - o) === o;
      if (fits(before)) offset = before;
      else if (fits(after)) offset = after;
      else offset = before;
      if (byMinute.size > 100_000) byMinute.clear();
      byMinute.set(minute, offset);
    }
    const utc = new Date(localMs - offset);
    return `${utc.toISOString().slice(0, 23)}${localAsUtc.slice(23, 26)}Z`;
  };
}
