import { describe, expect, test } from 'vitest';
import { dateToIsoMicros, isoMicrosToDate, isoMicrosToNaive, parseTimestamp } from '../src/timestamp.js';

describe('parseTimestamp', () => {
  test.each([
    ['2025-03-01T14:32:01.117364Z', '2025-03-01T14:32:01.117364Z'],
    ['2025-03-01T14:32:01.117364', '2025-03-01T14:32:01.117364Z'],
    ['2025-03-01 14:32:01.117364', '2025-03-01T14:32:01.117364Z'],
    ['2025-03-01T14:32:01Z', '2025-03-01T14:32:01.000000Z'],
    ['2025-03-01T14:32:01.5z', '2025-03-01T14:32:01.500000Z'],
    ['2025-03-01T14:32:01,25Z', '2025-03-01T14:32:01.250000Z'],
    ['2025-03-01T14:32Z', '2025-03-01T14:32:00.000000Z'],
    ['2025-03-01', '2025-03-01T00:00:00.000000Z'],
    ['2025-03-01T14:32:01+02:00', '2025-03-01T12:32:01.000000Z'],
    ['2025-03-01T14:32:01+0200', '2025-03-01T12:32:01.000000Z'],
    ['2025-03-01T14:32:01+02', '2025-03-01T12:32:01.000000Z'],
    ['2025-03-01T14:32:01-05:30', '2025-03-01T20:02:01.000000Z'],
    ['2025-03-01T01:00:00+14:00', '2025-02-28T11:00:00.000000Z'],
    ['2024-02-29T23:59:59.999999Z', '2024-02-29T23:59:59.999999Z'],
    ['  2025-03-01T14:32:01Z\n', '2025-03-01T14:32:01.000000Z'],
    ['2025-03-01 14:32:01.117364 +00:00', '2025-03-01T14:32:01.117364Z'],
  ])('%j is %s', (text, expected) => {
    expect(parseTimestamp(text)).toBe(expected);
  });

  test('keeps six fraction digits, cutting (not rounding) longer ones', () => {
    expect(parseTimestamp('2025-03-01T14:32:01.123456789Z')).toBe('2025-03-01T14:32:01.123456Z');
    expect(parseTimestamp('2025-03-01T23:59:59.9999999Z')).toBe('2025-03-01T23:59:59.999999Z');
  });

  test('reads a value without a zone in naiveZone', () => {
    expect(parseTimestamp('2025-03-01T14:32:01', '+02:00')).toBe('2025-03-01T12:32:01.000000Z');
    expect(parseTimestamp('2025-03-01T14:32:01', 'UTC')).toBe('2025-03-01T14:32:01.000000Z');
    expect(parseTimestamp('2025-03-01T14:32:01Z', '+02:00')).toBe('2025-03-01T14:32:01.000000Z');
    expect(parseTimestamp('2025-03-01T14:32:01', 'Europe/Paris')).toBeNull();
  });

  test.each([
    'yesterday',
    '',
    '2025-02-30T00:00:00Z',
    '2023-02-29',
    '2025-13-01',
    '2025-03-01T24:00:00Z',
    '2025-03-01T23:60:00Z',
    '2025-03-01T23:59:60Z',
    '2025-03-01t14:32:01Z',
    '2025-03-01T14:32:01.1234567891Z',
    '2025-03-01T14:32:01+19:00',
    '2025-03-01T14:32:01 PST',
    '1700000000000',
    '25-03-01',
  ])('%j is not a timestamp', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });
});

describe('canonical micro-second text', () => {
  test('a Date becomes text with six digits, and back, cut to milliseconds', () => {
    const date = new Date(Date.UTC(2025, 2, 1, 14, 32, 1, 117));
    expect(dateToIsoMicros(date)).toBe('2025-03-01T14:32:01.117000Z');
    expect(isoMicrosToDate('2025-03-01T14:32:01.117999Z').getTime()).toBe(date.getTime());
    expect(isoMicrosToDate(dateToIsoMicros(date)).getTime()).toBe(date.getTime());
  });

  test('naive form drops the zone and keeps the microseconds, and sorts as time', () => {
    expect(isoMicrosToNaive('2025-03-01T14:32:01.117364Z')).toBe('2025-03-01T14:32:01.117364');
    const texts = [
      '2025-03-01T14:32:01.117364Z',
      '2025-03-01T14:32:01.117365Z',
      '2025-03-02T00:00:00.000000Z',
    ];
    expect(texts.map(isoMicrosToNaive)).toEqual([...texts.map(isoMicrosToNaive)].sort());
  });

  test('does not depend on the process time zone', () => {
    const previous = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      expect(parseTimestamp('2025-03-01T14:32:01')).toBe('2025-03-01T14:32:01.000000Z');
      expect(dateToIsoMicros(new Date(Date.UTC(2025, 0, 1)))).toBe('2025-01-01T00:00:00.000000Z');
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});
