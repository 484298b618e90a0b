import type { PortableRecord } from '@flux-rag/memory-core';
import { isoMicrosToDate } from '@flux-rag/memory-core/backend';
import { createTestDatabase, uniqueName, withClient } from '@flux-rag/test-postgres';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { postgresCodecs } from './postgres-codecs.js';

const pg = usePostgres();

const session = (createdAt: string): PortableRecord => ({
  type: 'session',
  id: 's1',
  title: null,
  createdAt,
  updatedAt: createdAt,
  metadata: {},
  ownerId: null,
});

async function exported(store: AsyncIterable<PortableRecord>) {
  const records: PortableRecord[] = [];
  for await (const record of store) records.push(record);
  return records;
}

describe('postgresCodecs', () => {
  it('decodeDate - reads the server text of every instant, fraction of 0 to 6 digits, as the slow path does (fast-check)', () => {
    const slow = (text: string) => isoMicrosToDate(postgresCodecs.decodeTimestamp(text)).getTime();
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1000-01-01T00:00:00.000Z'),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 6 }),
        (date, micros, digits) => {
          const fraction = `${date.toISOString().slice(20, 23)}${String(micros).padStart(3, '0')}`.slice(
            0,
            digits,
          );
          const text = `${date.toISOString().slice(0, 10)} ${date.toISOString().slice(11, 19)}${digits ? `.${fraction}` : ''}+00`;
          expect(postgresCodecs.decodeDate!(text).getTime(), text).toBe(slow(text));
        },
      ),
    );
  });

  it('decodeDate - near misses take the slow path and read as it reads them', () => {
    for (const text of [
      '2025-03-01 14:32:01.1173645+00',
      '2025-03-01 14:32:01.+00',
      '2025-03-01 14:32:01.117364+02',
      '2025-03-01 14:32:01.117364+05:30',
      '2025-03-01T14:32:01.117364+00',
      '2025-02-29 14:32:01+00',
      '2025-03-01 24:00:00+00',
      '2025-03-01 14:32:0x+00',
      '0099-03-01 14:32:01+00 BC',
      '12025-03-01 14:32:01+00',
      '2025-03-01 14:32:01',
    ]) {
      const fast = postgresCodecs.decodeDate!(text).getTime();
      expect(fast, text).toBe(isoMicrosToDate(postgresCodecs.decodeTimestamp(text)).getTime());
    }
    expect(postgresCodecs.decodeDate!('2025-03-01 14:32:01.117364+02').toISOString()).toBe(
      '2025-03-01T12:32:01.117Z',
    );
    expect(postgresCodecs.decodeDate!('2025-03-01 14:32:01.5+00').toISOString()).toBe(
      '2025-03-01T14:32:01.500Z',
    );
  });

  it('decodeTimestamp - reads server text in any offset as UTC with microseconds', () => {
    expect(postgresCodecs.decodeTimestamp('2025-03-01 14:32:01.117364+00')).toBe(
      '2025-03-01T14:32:01.117364Z',
    );
    expect(postgresCodecs.decodeTimestamp('2025-03-01 14:32:01+00')).toBe('2025-03-01T14:32:01.000000Z');
    expect(postgresCodecs.decodeTimestamp('2025-03-01 14:32:01.5+00')).toBe('2025-03-01T14:32:01.500000Z');
    expect(postgresCodecs.decodeTimestamp('2025-03-01 20:02:01.5+05:30')).toBe('2025-03-01T14:32:01.500000Z');
    expect(postgresCodecs.decodeTimestamp('0099-03-01 14:32:01+00:00 BC')).toBe(
      '1970-01-01T00:00:00.000000Z',
    );
    // TIMESTAMP without zone (the original schema): naive values are UTC.
    expect(postgresCodecs.decodeTimestamp('2025-03-01 14:32:01.117364')).toBe('2025-03-01T14:32:01.117364Z');
  });

  it('decodeTimestamp - reads any offset the server TimeZone gives, minutes and seconds included', () => {
    expect(postgresCodecs.decodeTimestamp('2025-03-02 04:32:01.117364+14')).toBe(
      '2025-03-01T14:32:01.117364Z',
    );
    expect(postgresCodecs.decodeTimestamp('2025-03-01 11:02:01.000001-03:30')).toBe(
      '2025-03-01T14:32:01.000001Z',
    );
    expect(postgresCodecs.decodeTimestamp('2025-01-01 00:30:00-01')).toBe('2025-01-01T01:30:00.000000Z');
    // Local mean time before 1900: Asia/Kolkata was +05:53:28.
    expect(postgresCodecs.decodeTimestamp('1000-01-01 05:53:28.000001+05:53:28')).toBe(
      '1000-01-01T00:00:00.000001Z',
    );
    expect(postgresCodecs.decodeTimestamp('1000-01-01 00:00:00+00:53:28')).toBe(
      '0999-12-31T23:06:32.000000Z',
    );
  });

  it('decodeTimestamp - reads a Date at millisecond precision and never throws on what it cannot read', () => {
    expect(postgresCodecs.decodeTimestamp(new Date('2025-03-01T14:32:01.117Z'))).toBe(
      '2025-03-01T14:32:01.117000Z',
    );
    for (const unreadable of [null, undefined, 'infinity', 'garbage', new Date(Number.NaN), 42]) {
      expect(postgresCodecs.decodeTimestamp(unreadable)).toBe('1970-01-01T00:00:00.000000Z');
    }
  });

  it('decodeMetadata - keeps objects, forgives legacy text, arrays and scalars', () => {
    expect(postgresCodecs.decodeMetadata({ a: 1 })).toEqual({ a: 1 });
    expect(postgresCodecs.decodeMetadata(null)).toEqual({});
    expect(postgresCodecs.decodeMetadata('{"a":1}')).toEqual({ a: 1 });
    expect(postgresCodecs.decodeMetadata('not json')).toEqual({ _raw: 'not json' });
    expect(postgresCodecs.decodeMetadata([1, 2])).toEqual({ _raw: '[1,2]' });
    expect(postgresCodecs.decodeMetadata(7)).toEqual({ _raw: '7' });
  });

  it('round trip - the store own pool keeps microseconds', async () => {
    const store = await pg.store();
    await store.importRecords([session('2025-03-01T14:32:01.117364Z')]);
    const [record] = await exported(store.exportRecords());
    expect(record).toMatchObject({
      createdAt: '2025-03-01T14:32:01.117364Z',
      updatedAt: '2025-03-01T14:32:01.117364Z',
    });
    expect((await store.getSession('s1'))!.createdAt.toISOString()).toBe('2025-03-01T14:32:01.117Z');
  });

  it('round trip - a passed pool with pg default parsers gives Dates: milliseconds kept, microseconds lost', async () => {
    const store = await pg.store({ pool: pg.pool() });
    await store.importRecords([session('2025-03-01T14:32:01.117364Z')]);
    const [record] = await exported(store.exportRecords());
    expect(record).toMatchObject({ createdAt: '2025-03-01T14:32:01.117000Z' });
  });

  it('round trip - a passed pool reading text in another TimeZone still yields UTC', async () => {
    const pool = pg.pool({
      options: '-c TimeZone=Asia/Kolkata',
      types: { getTypeParser: () => (value: string) => value },
    });
    const store = await pg.store({ pool });
    await store.importRecords([session('2025-03-01T23:59:59.999999Z')]);
    const [record] = await exported(store.exportRecords());
    expect(record).toMatchObject({ createdAt: '2025-03-01T23:59:59.999999Z' });
  });

  it('round trip - the store own pool gives UTC whatever the server TimeZone, to the microsecond', async () => {
    // The store sets no TimeZone of its own (a transaction pooler keeps no session setting): the server's
    // decides how timestamps are rendered, here a database whose default is far from UTC, old dates included.
    const database = await createTestDatabase(pg.url, { prefix: 't_zone_' });
    try {
      for (const zone of ['Pacific/Kiritimati', 'America/St_Johns', 'Asia/Kolkata']) {
        await withClient(database.url, (client) =>
          client.query(`ALTER DATABASE "${database.name}" SET timezone TO '${zone}'`),
        );
        const store = await pg.store({ connectionString: database.url, schema: uniqueName() });
        const instants = [
          '2025-03-01T23:59:59.999999Z',
          '1000-01-01T00:00:00.000001Z',
          '9999-12-31T23:59:59.999999Z',
        ];
        await store.importRecords(instants.map((at, i) => ({ ...session(at), id: `s${i}` })));
        const records = await exported(store.exportRecords());
        expect(records.map((record) => (record as { createdAt: string }).createdAt)).toEqual(instants);
        const shown = await withClient(database.url, (client) =>
          client.query<{ z: string }>("SELECT current_setting('TimeZone') AS z"),
        );
        expect(shown.rows[0]!.z).toBe(zone);
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('round trip - metadata comes back equal and is a fresh copy each read', async () => {
    const store = await pg.store();
    const metadata = {
      text: 'naïve 日本語 🎉 "q" \\ \n',
      nested: { list: [1, 2.5, -0.125, true, null, { k: 'v' }] },
      '': 0,
    };
    const id = await store.createSession({ metadata });
    const first = await store.getSession(id);
    expect(first!.metadata).toEqual(metadata);
    (first!.metadata.nested as { list: unknown[] }).list.push('mutated');
    expect((await store.getSession(id))!.metadata).toEqual(metadata);
  });
});
