import { describe, expect, it } from 'vitest';
import { assertSourceTimezone, createTimestampReader } from './source-timezone.js';

describe('createTimestampReader', () => {
  it("UTC - reads the original code's form (with and without microseconds) as UTC", () => {
    const read = createTimestampReader();
    expect(read('2025-03-01T14:32:01.117364')).toEqual({
      value: '2025-03-01T14:32:01.117364Z',
      form: 'python',
    });
    expect(read('2025-03-01T14:32:01')).toEqual({ value: '2025-03-01T14:32:01.000000Z', form: 'python' });
    expect(read('2025-03-01T14:32:01.117364Z')).toEqual({
      value: '2025-03-01T14:32:01.117364Z',
      form: 'python',
    });
  });

  it('UTC - other ISO forms are read, and told apart; impossible dates and text are not timestamps', () => {
    const read = createTimestampReader();
    expect(read('2025-03-01 14:32:01.5+02:00')).toEqual({
      value: '2025-03-01T12:32:01.500000Z',
      form: 'other',
    });
    expect(read('2025-03-01')).toEqual({ value: '2025-03-01T00:00:00.000000Z', form: 'other' });
    expect(read('2025-02-30T10:00:00.000000')).toBeNull();
    expect(read('2025-03-01T24:00:00.000000')).toBeNull();
    expect(read('yesterday')).toBeNull();
  });

  it('fixed offset - naive values are local to it; values with a zone keep theirs', () => {
    const read = createTimestampReader('+02:00');
    expect(read('2025-03-01T14:32:01.117364')?.value).toBe('2025-03-01T12:32:01.117364Z');
    expect(read('2025-03-01T14:32:01Z')?.value).toBe('2025-03-01T14:32:01.000000Z');
  });

  it('IANA zone - follows daylight saving time; a repeated hour takes its first occurrence, a skipped hour the old offset', () => {
    const read = createTimestampReader('Europe/Paris');
    expect(read('2025-01-15T12:00:00.000001')?.value).toBe('2025-01-15T11:00:00.000001Z');
    expect(read('2025-07-15T12:00:00.123456')?.value).toBe('2025-07-15T10:00:00.123456Z');
    // 2025-10-26 02:30 happens twice in Paris (CEST then CET): fold=0 is the first, 00:30Z.
    expect(read('2025-10-26T02:30:00')?.value).toBe('2025-10-26T00:30:00.000000Z');
    // 2025-03-30 02:30 never happens: read with the offset before the change (+01:00).
    expect(read('2025-03-30T02:30:00')?.value).toBe('2025-03-30T01:30:00.000000Z');
    expect(read('2025-07-15T12:00:00+00:00')?.value).toBe('2025-07-15T12:00:00.000000Z');
  });

  it('assertSourceTimezone - refuses unknown zones and offsets out of range, naming the field', () => {
    expect(() => assertSourceTimezone('sourceTimezone', 'Mars/Olympus')).toThrow(
      /sourceTimezone.*unknown time zone/,
    );
    expect(() => assertSourceTimezone('sourceTimezone', '+25:00')).toThrow(/sourceTimezone/);
    expect(() => assertSourceTimezone('sourceTimezone', '')).toThrow(/sourceTimezone/);
    expect(() => assertSourceTimezone('sourceTimezone', 'UTC')).not.toThrow();
  });
});
