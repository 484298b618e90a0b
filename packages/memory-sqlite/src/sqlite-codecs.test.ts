import { dateToIsoMicros, isoMicrosToDate, parseTimestamp } from '@flux-rag/memory-core/backend';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sqliteCodecs, UNREADABLE_TIMESTAMP } from './sqlite-codecs.js';

const { encodeTimestamp, decodeTimestamp, encodeMetadata, decodeMetadata } = sqliteCodecs;

describe('sqliteCodecs timestamps', () => {
  it('encodeTimestamp - writes the Python format: naive UTC, microseconds, 26 characters', () => {
    expect(encodeTimestamp('2025-03-01T14:32:01.117364Z')).toBe('2025-03-01T14:32:01.117364');
    expect(encodeTimestamp(dateToIsoMicros(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))))).toBe(
      '2024-01-02T03:04:05.006000',
    );
  });

  it('encodeTimestamp - sorts as text in time order, like the legacy values', () => {
    const times = [
      '2025-03-01T14:32:01.117364Z',
      '2025-03-01T14:32:01.117365Z',
      '2025-03-01T14:32:10.000000Z',
      '2025-12-31T23:59:59.999999Z',
    ];
    const encoded = times.map(encodeTimestamp);
    expect([...encoded].sort()).toEqual(encoded);
  });

  it('decodeTimestamp - reads naive text as UTC and keeps microseconds', () => {
    expect(decodeTimestamp('2025-03-01T14:32:01.117364')).toBe('2025-03-01T14:32:01.117364Z');
  });

  it('decodeDate - is the Date of what decodeTimestamp reads, for canonical text, near misses and legacy forms', () => {
    const values: unknown[] = [
      '2025-03-01T14:32:01.117364',
      '2024-02-29T23:59:59.999999',
      '2025-02-29T00:00:00.000000',
      '2025-04-31T00:00:00.000000',
      '2025-04-30T00:00:00.000000',
      '2025-12-31T23:59:59.999999',
      '2025-01-01T24:00:00.000000',
      '2025-01-01T23:60:00.000000',
      '2025-13-01T00:00:00.000000',
      '2025-00-01T00:00:00.000000',
      '2025-01-00T00:00:00.000000',
      '1900-02-29T00:00:00.000000',
      '2000-02-29T00:00:00.000000',
      '0001-01-01T00:00:00.000000',
      '0000-02-29T12:00:00.500000',
      '0099-12-31T23:59:59.999999',
      '9999-12-31T23:59:59.999999',
      '2025-0a-01T00:00:00.000000',
      '2025-03-01T14:32:01.11736a',
      '2025/03/01T14:32:01.117364',
      '2025-03-01T14:32:01,117364',
      '２025-03-01T14:32:01.117364',
      '2025-03-01 14:32:01',
      '2025-03-01T14:32:01.117364+02:00',
      '2025-03-01T14:32:01.117364Z',
      '2025-03-01T14:32:01.11736',
      ' 2025-03-01T14:32:01.117364',
      'not a time',
      '',
      Buffer.from('2025-03-01T14:32:01.117364'),
      1_700_000_000,
      null,
      undefined,
    ];
    for (const value of values) {
      const expected = isoMicrosToDate(decodeTimestamp(value)).getTime();
      expect([value, sqliteCodecs.decodeDate!(value).getTime()]).toEqual([value, expected]);
    }
    // The canonical form past the 28th is checked against the month's length, not left to Date's rollover.
    expect(sqliteCodecs.decodeDate!('2025-02-29T00:00:00.000000').toISOString()).toBe(
      isoMicrosToDate(UNREADABLE_TIMESTAMP).toISOString(),
    );
  });

  it('decodeDate - reads every canonical instant as Date reads its ISO text (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('0000-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999 }),
        (date, micros) => {
          const text = `${date.toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}`;
          expect(sqliteCodecs.decodeDate!(text).getTime()).toBe(date.getTime());
        },
      ),
    );
  });

  it('decodeTimestamp - round-trips what encodeTimestamp wrote', () => {
    const value = '1999-12-31T23:59:59.000001Z';
    expect(decodeTimestamp(encodeTimestamp(value))).toBe(value);
  });

  it('decodeTimestamp - reads the other ISO 8601 forms found in legacy files', () => {
    expect(decodeTimestamp('2025-03-01 14:32:01')).toBe('2025-03-01T14:32:01.000000Z');
    expect(decodeTimestamp('2025-03-01T14:32:01Z')).toBe('2025-03-01T14:32:01.000000Z');
    expect(decodeTimestamp('2025-03-01T16:32:01.5+02:00')).toBe('2025-03-01T14:32:01.500000Z');
    expect(decodeTimestamp('2025-03-01')).toBe('2025-03-01T00:00:00.000000Z');
    expect(decodeTimestamp(Buffer.from('2025-03-01T14:32:01.117364'))).toBe('2025-03-01T14:32:01.117364Z');
  });

  it('decodeTimestamp - the canonical form is checked like any other: impossible dates are refused', () => {
    expect(decodeTimestamp('2024-02-29T23:59:59.999999')).toBe('2024-02-29T23:59:59.999999Z');
    expect(decodeTimestamp('2000-02-29T00:00:00.000000')).toBe('2000-02-29T00:00:00.000000Z');
    for (const impossible of [
      '2025-02-29T00:00:00.000000',
      '1900-02-29T00:00:00.000000',
      '2025-04-31T00:00:00.000000',
      '2025-13-01T00:00:00.000000',
      '2025-00-10T00:00:00.000000',
      '2025-01-00T00:00:00.000000',
      '2025-01-01T24:00:00.000000',
      '2025-01-01T23:60:00.000000',
      '2025-01-01T23:59:60.000000',
    ]) {
      expect(decodeTimestamp(impossible), impossible).toBe(UNREADABLE_TIMESTAMP);
    }
  });

  it('decodeTimestamp - agrees with parseTimestamp on every day of a leap and a common year', () => {
    for (const year of [2024, 2025]) {
      for (let day = 0; day < 367; day++) {
        const text = `${new Date(Date.UTC(year, 0, 1 + day, 13, 5, 9)).toISOString().slice(0, 19)}.123456`;
        expect(decodeTimestamp(text)).toBe(parseTimestamp(text));
      }
    }
  });

  it('decodeTimestamp - reads missing or unparseable values as the Unix epoch, never throwing', () => {
    expect(UNREADABLE_TIMESTAMP).toBe('1970-01-01T00:00:00.000000Z');
    for (const value of [null, undefined, '', 'yesterday', '2025-02-30T10:00:00', 1740839521, {}]) {
      expect(decodeTimestamp(value)).toBe(UNREADABLE_TIMESTAMP);
    }
  });
});

describe('sqliteCodecs metadata', () => {
  it('encodeMetadata - writes JSON text that decodes to an equal object', () => {
    const metadata = { a: 1, nested: { list: [1, 'two', null, true] }, text: 'naïve 中文 🙂' };
    const text = encodeMetadata(metadata);
    expect(typeof text).toBe('string');
    expect(decodeMetadata(text)).toEqual(metadata);
  });

  it('decodeMetadata - reads the ASCII-escaped JSON Python wrote', () => {
    expect(decodeMetadata('{"title": "na\\u00efve", "emoji": "\\ud83d\\ude42"}')).toEqual({
      title: 'naïve',
      emoji: '🙂',
    });
  });

  it('decodeMetadata - NULL and empty text are {}', () => {
    expect(decodeMetadata(null)).toEqual({});
    expect(decodeMetadata('')).toEqual({});
    expect(decodeMetadata('   ')).toEqual({});
  });

  it('decodeMetadata - text that is not a JSON object is kept whole under _raw', () => {
    expect(decodeMetadata('not json')).toEqual({ _raw: 'not json' });
    expect(decodeMetadata('[1,2]')).toEqual({ _raw: '[1,2]' });
    expect(decodeMetadata('42')).toEqual({ _raw: '42' });
    expect(decodeMetadata('"text"')).toEqual({ _raw: '"text"' });
    expect(decodeMetadata('null')).toEqual({ _raw: 'null' });
  });
});
