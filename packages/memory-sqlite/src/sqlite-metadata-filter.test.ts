import { type JsonValue, type Metadata, ValidationError } from '@flux-rag/memory-core';
import { jsonContains } from '@flux-rag/memory-core/backend';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { prng, queryPlan, recordReads } from '../test/support.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import {
  filterTerms,
  keyPath,
  lookupTerms,
  MAX_FILTER_ARRAY_DEPTH,
  MAX_FILTER_NODES,
  scanIsCheaper,
  termValue,
} from './sqlite-metadata-filter.js';

const opened: { store: SqliteConversationMemory; raw: Database.Database }[] = [];

afterEach(async () => {
  for (const { store, raw } of opened.splice(0)) {
    await store.close();
    raw.close();
  }
});

/** A store on a private in-memory database, and its handle for plain SQL. */
async function open(): Promise<{ store: SqliteConversationMemory; raw: Database.Database }> {
  const raw = new Database(':memory:');
  const store = new SqliteConversationMemory({ database: raw });
  await store.init();
  opened.push({ store, raw });
  return { store, raw };
}

async function matching(store: SqliteConversationMemory, metadata: Metadata): Promise<string[]> {
  return (await store.getSessions({ where: { metadata }, limit: 1000 })).map((s) => s.id).sort();
}

const KEYS = ['a', 'b', 'tags', 'a.b', '"q"', '\\', '$[0]', '名前', '', 'x y', 'items'];
const LONG = 'L'.repeat(100);
const STRINGS = ['urgent', '1', '', 'Ünï', '東京', `${LONG}x`, `${LONG}y`, 'a "quote"', '%_'];
const NUMBERS = [0, 1, -1, 1.5, 0.1, 2 ** 53 + 2, 1e21, 1383980457930926800, -7];

type Scalar = string | number | boolean | null;
const SCALARS: readonly Scalar[] = [...STRINGS, ...NUMBERS, true, false, null];

/** Random JSON of the given keys and scalars, small enough that derived filters often match other sessions. */
function randomJson(
  random: () => number,
  depth: number,
  keys: readonly string[],
  values: readonly Scalar[],
): JsonValue {
  const roll = random();
  if (depth > 0 && roll < 0.2) {
    return Array.from({ length: Math.floor(random() * 4) }, () =>
      randomJson(random, depth - 1, keys, values),
    );
  }
  if (depth > 0 && roll < 0.4) return randomObject(random, depth - 1, keys, values);
  return values[Math.floor(random() * values.length)]!;
}

function randomObject(
  random: () => number,
  depth: number,
  keys: readonly string[] = KEYS,
  values: readonly Scalar[] = SCALARS,
): Metadata {
  const object: Metadata = {};
  const count = Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    object[keys[Math.floor(random() * keys.length)]!] = randomJson(random, depth, keys, values);
  }
  return object;
}

/** A filter the given metadata contains: some of its keys, some of its array elements, recursively. */
function subFilter(random: () => number, value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.filter(() => random() < 0.6).map((item) => subFilter(random, item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(() => random() < 0.6)
        .map(([key, item]) => [key, subFilter(random, item)]),
    );
  }
  return value;
}

/** A near miss: one leaf changed to a value of another type or another value. */
function mutate(random: () => number, value: JsonValue): JsonValue {
  if (Array.isArray(value) && value.length > 0) {
    const copy = [...value];
    const at = Math.floor(random() * copy.length);
    copy[at] = mutate(random, copy[at]!);
    return copy;
  }
  if (Array.isArray(value)) return ['absent'];
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const picked = entries[Math.floor(random() * entries.length)];
    if (picked === undefined) return { a: 'absent' };
    return { ...value, [picked[0]]: mutate(random, picked[1]) };
  }
  if (typeof value === 'number') return random() < 0.5 ? String(value) : value + 1;
  if (typeof value === 'string')
    return random() < 0.5 && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : `${value}!`;
  if (typeof value === 'boolean') return random() < 0.5 ? !value : null;
  return false;
}

describe('metadata filter', () => {
  // Two corpora: varied values, where filters are mostly selective (the term index serves them), and few keys
  // and values, where many filters match most sessions (pages of two are then served by a scan in order).
  for (const [label, keys, values, seed] of [
    ['varied', KEYS, SCALARS, 8],
    ['uniform', KEYS.slice(0, 3), ['x', 1, true], 9],
  ] as const) {
    it(`getSessions(where.metadata) - returns exactly what core jsonContains accepts, 150 ${label} sessions, 300 filters`, async () => {
      const { store, raw } = await open();
      const random = prng(seed);
      const corpus: Record<string, Metadata> = {};
      for (let i = 0; i < 150; i++) {
        const metadata = randomObject(random, 3, keys, values);
        corpus[`s${i}`] = JSON.parse(JSON.stringify(metadata)) as Metadata;
        await store.createSession({ id: `s${i}`, metadata });
      }
      const ids = Object.keys(corpus);
      const listing = (await store.getSessions({ limit: 1000 })).map((s) => s.id);
      const termCount = raw
        .prepare('SELECT count(*) FROM session_metadata_terms WHERE label = ? AND value = ?')
        .pluck();
      let nonTrivial = 0;
      let scanned = 0;
      for (let i = 0; i < 300; i++) {
        const source = Object.values(corpus)[Math.floor(random() * ids.length)]!;
        let filter = subFilter(random, source) as Metadata;
        if (i % 2 === 1) filter = mutate(random, filter) as Metadata;
        const expected = ids.filter((id) => jsonContains(corpus[id]!, filter)).sort();
        if (expected.length > 0 && expected.length < ids.length) nonTrivial++;
        expect(await matching(store, filter), JSON.stringify(filter)).toEqual(expected);
        const firstTwo = listing.filter((id) => expected.includes(id)).slice(0, 2);
        const page = (await store.getSessions({ where: { metadata: filter }, limit: 2 })).map((s) => s.id);
        expect(page, JSON.stringify(filter)).toEqual(firstTwo);
        const counts = lookupTerms(filter).map((term) => termCount.get(term.label, term.value) as number);
        if (counts.length > 0 && scanIsCheaper(Math.min(...counts), 150, 2)) scanned++;
      }
      // The comparison means something only if many filters split the corpus, and both ways are exercised.
      expect(nonTrivial).toBeGreaterThan(label === 'varied' ? 80 : 30);
      if (label === 'uniform') expect(scanned).toBeGreaterThan(10);
    });
  }

  it('getSessions(where.metadata) - reads legacy metadata: ASCII-escaped JSON, 1.0, big integers; anything not a JSON object matches {} only', async () => {
    const { store, raw } = await open();
    const insert = raw.prepare(
      'INSERT INTO sessions (id, created_at, updated_at, metadata) VALUES (?, ?, ?, ?)',
    );
    const at = '2025-01-01T00:00:00.000000';
    const rows: [string, string | null][] = [
      ['python', '{"\\u540d\\u524d": "\\u6771\\u4eac", "tags": ["a", "b"], "score": 1.0}'],
      ['big', '{"big": 9007199254740993, "exp": 1E2}'],
      ['not-json', 'not json'],
      ['array', '[{"k": 1}]'],
      ['number', '42'],
      ['null', null],
      ['empty', ''],
    ];
    for (const [id, metadata] of rows) insert.run(id, at, at, metadata);
    expect(await matching(store, { 名前: '東京' })).toEqual(['python']);
    expect(await matching(store, { tags: ['b'], score: 1 })).toEqual(['python']);
    // Read by JSON.parse, 9007199254740993 is 9007199254740992: the filter compares what a caller can hold.
    expect(await matching(store, { big: 9007199254740992, exp: 100 })).toEqual(['big']);
    expect(await matching(store, { k: 1 })).toEqual([]);
    expect(await matching(store, { _raw: 'not json' })).toEqual([]);
    expect(await matching(store, {})).toEqual(rows.map(([id]) => id).sort());
  });

  it('getSessions(where.metadata) - keys are literal: quotes, backslashes, control characters, path syntax', async () => {
    const { store } = await open();
    const keys = ['a"b', 'a\\b', 'x\ny', '\\u0041', 'A', '$', '$.a', 'a"."b', '[0]', '*', "'", ''];
    for (const [i, key] of keys.entries()) await store.createSession({ id: `k${i}`, metadata: { [key]: i } });
    await store.createSession({ id: 'nested', metadata: { a: { b: 0 }, A: 'x' } });
    for (const [i, key] of keys.entries()) {
      expect(await matching(store, { [key]: i }), JSON.stringify(key)).toEqual([`k${i}`]);
    }
    expect(await matching(store, { 'a.b': 0 })).toEqual([]);
    expect(await matching(store, { a: { b: 0 } })).toEqual(['nested']);
  });

  it('getSessions(where.metadata) - served by the term index: no scan of sessions for a selective filter; a broad one scans in order', async () => {
    const raw = new Database(':memory:');
    const ran = recordReads(raw);
    const store = new SqliteConversationMemory({ database: raw });
    opened.push({ store, raw });
    await store.init();
    const insert = raw.prepare(
      'INSERT INTO sessions (id, created_at, updated_at, metadata, owner_id) VALUES (?, ?, ?, ?, ?)',
    );
    raw.transaction(() => {
      for (let i = 0; i < 2000; i++) {
        const at = `2025-01-01T00:00:00.${String(i).padStart(6, '0')}`;
        insert.run(
          `s${i}`,
          at,
          at,
          JSON.stringify({ userId: `u${i % 97}`, tags: ['x'] }),
          i % 2 ? 'o' : null,
        );
      }
    })();
    const plans = async (read: () => Promise<unknown>) => {
      ran.length = 0;
      await read();
      const statement = ran.find((s) => /from "sessions"/i.test(s.sql));
      if (!statement) throw new Error('the store read no sessions');
      return queryPlan(raw, statement);
    };
    const where = { metadata: { userId: 'u5', tags: ['x'] } };
    for (const plan of [
      await plans(() => store.getSessions({ where })),
      await plans(() => store.getSessionsPage({ where })),
    ]) {
      expect(plan).toContain('SEARCH session_metadata_terms USING PRIMARY KEY (label=? AND value=?)');
      expect(plan).toContain('SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (id=?)');
      expect(plan.filter((line) => /^SCAN sessions/.test(line))).toEqual([]);
    }
    expect(await store.getSessions({ where, limit: 1000 })).toHaveLength(21);
    // A filter every session matches is a scan in listing order that stops after the page.
    const broad = { metadata: { tags: ['x'] } };
    for (const [plan, index] of [
      [await plans(() => store.getSessions({ where: broad, limit: 10 })), 'idx_sessions_activity'],
      [await plans(() => store.getSessionsPage({ where: broad, limit: 10 })), 'idx_sessions_created'],
    ] as const) {
      expect(plan[0]).toBe(`SCAN sessions USING INDEX ${index}`);
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE|session_metadata_terms/);
    }
    expect((await store.getSessions({ where: broad, limit: 10 })).map((s) => s.id)).toEqual(
      (await store.getSessions({ limit: 10 })).map((s) => s.id),
    );
    // Deep in the listing, reading the candidates is cheaper again than scanning to the offset.
    expect(
      (
        await plans(() => store.getSessions({ where: { metadata: { userId: 'u5' } }, limit: 10, offset: 5 }))
      ).filter((line) => /^SCAN sessions/.test(line)),
    ).toEqual([]);
    // Without a filter, keyset pages read their own index in order: nothing sorted, nothing skipped.
    const page = await plans(() => store.getSessionsPage({ limit: 10 }));
    expect(page).toEqual(['SCAN sessions USING INDEX idx_sessions_created']);
    const owned = await plans(() => store.forOwner('o').getSessionsPage({ limit: 10 }));
    expect(owned).toEqual(['SEARCH sessions USING INDEX idx_sessions_owner_created (owner_id=?)']);
    // A later page seeks to its cursor in the index instead of walking it from the newest session.
    const { nextCursor } = await store.getSessionsPage({ limit: 10 });
    expect(await plans(() => store.getSessionsPage({ limit: 10, cursor: nextCursor }))).toEqual([
      'SEARCH sessions USING INDEX idx_sessions_created (<expr><?)',
    ]);
    const ownedCursor = (await store.forOwner('o').getSessionsPage({ limit: 10 })).nextCursor;
    expect(
      await plans(() => store.forOwner('o').getSessionsPage({ limit: 10, cursor: ownedCursor })),
    ).toEqual(['SEARCH sessions USING INDEX idx_sessions_owner_created (owner_id=? AND <expr><?)']);
  });

  it('getSessions(where.metadata) - the term index follows inserts, imports, updates and deletes', async () => {
    const { store, raw } = await open();
    const terms = (id: string) =>
      raw
        .prepare('SELECT label, value FROM session_metadata_terms WHERE session_id = ? ORDER BY label, value')
        .all(id);
    await store.createSession({ id: 's', metadata: { a: [1, 'x', { b: null }], c: {} } });
    expect(terms('s')).toEqual([
      { label: 'i', value: 'n1' },
      { label: 'i', value: 'o' },
      { label: 'i', value: 'sx' },
      { label: 'ka', value: 'a' },
      { label: 'kb', value: 'z' },
      { label: 'kc', value: 'o' },
    ]);
    raw.prepare(`UPDATE sessions SET metadata = '{"d": true}' WHERE id = 's'`).run();
    expect(terms('s')).toEqual([{ label: 'kd', value: 't' }]);
    expect(await matching(store, { d: true })).toEqual(['s']);
    await store.deleteSession('s');
    expect(terms('s')).toEqual([]);
    await store.importRecords([
      {
        type: 'session',
        id: 'i',
        title: null,
        createdAt: '2025-01-01T00:00:00.000000Z',
        updatedAt: '2025-01-01T00:00:00.000000Z',
        metadata: { imported: 'yes' },
        ownerId: null,
      },
    ]);
    expect(await matching(store, { imported: 'yes' })).toEqual(['i']);
    await store.clearAll();
    expect(raw.prepare('SELECT count(*) FROM session_metadata_terms').pluck().get()).toBe(0);
  });

  it('filter limits - too many keys, arrays nested too deep, or too large a statement are ValidationErrors on where.metadata, in both listings', async () => {
    const { store } = await open();
    await store.createSession({ id: 's', metadata: { a: 1 } });
    const refused = async (metadata: Metadata) => {
      for (const listing of [
        store.getSessions({ where: { metadata } }),
        store.getSessionsPage({ where: { metadata } }),
      ]) {
        const error = await listing.catch((e: unknown) => e);
        expect(ValidationError.isInstance(error), String(error)).toBe(true);
        expect((error as ValidationError).field).toBe('where.metadata');
      }
    };
    await refused(Object.fromEntries(Array.from({ length: MAX_FILTER_NODES + 1 }, (_, i) => [`k${i}`, i])));
    let nested: JsonValue = 1;
    for (let i = 0; i <= MAX_FILTER_ARRAY_DEPTH; i++) nested = [nested];
    await refused({ a: nested });
    // Within both limits, but wide objects at every level of 16 nested arrays exceed SQLite's expression depth.
    const wide = (depth: number): JsonValue =>
      depth === 0
        ? 'x'
        : [
            Object.fromEntries([
              ['n', wide(depth - 1)],
              ...Array.from({ length: 30 }, (_, i) => [`k${i}`, i]),
            ]),
          ];
    await refused({ a: wide(MAX_FILTER_ARRAY_DEPTH) });
    // The largest accepted ones run.
    let deep: JsonValue = 1;
    for (let i = 0; i < MAX_FILTER_ARRAY_DEPTH; i++) deep = [deep];
    expect(await matching(store, { a: deep })).toEqual([]);
    expect(
      await matching(
        store,
        Object.fromEntries(Array.from({ length: MAX_FILTER_NODES }, (_, i) => [`k${i}`, i])),
      ),
    ).toEqual([]);
  });
});

describe('filter terms', () => {
  it('termValue - types and canonical numbers, as the triggers write them', () => {
    expect(
      [1, -0, 1.5, 2 ** 53 - 1, 2 ** 53, 1e21, 'x', true, false, null, [], {}].map((v) => termValue(v)),
    ).toEqual(['n1', 'n0', 'n', 'n9007199254740991', 'n', 'n', 'sx', 't', 'f', 'z', 'a', 'o']);
  });

  it('filterTerms - are among the terms the triggers store for the same metadata', async () => {
    const { store, raw } = await open();
    const random = prng(3);
    const stored = raw.prepare('SELECT label, value FROM session_metadata_terms WHERE session_id = ?');
    for (let i = 0; i < 200; i++) {
      const metadata = randomObject(random, 4);
      await store.createSession({ id: `s${i}`, metadata });
      const have = new Set(
        (stored.all(`s${i}`) as { label: string; value: string }[]).map((t) => `${t.label}|${t.value}`),
      );
      for (const term of filterTerms(metadata))
        expect(have, JSON.stringify(metadata)).toContain(`${term.label}|${term.value}`);
    }
  });

  it('lookupTerms - prefers keyed strings and integers, drops repeats, keeps three', () => {
    expect(lookupTerms({ flag: true, tags: ['x', 'x'], n: 1.5, user: 'u1', age: 30, z: null })).toEqual([
      { label: 'kuser', value: 'su1' },
      { label: 'kage', value: 'n30' },
      { label: 'i', value: 'sx' },
    ]);
    expect(lookupTerms({ settings: {} })).toEqual([{ label: 'ksettings', value: 'o' }]);
    expect(lookupTerms({})).toEqual([]);
  });

  it('keyPath - quotes every key and escapes what would end or change the label', () => {
    expect(keyPath('a.b')).toBe('."a.b"');
    expect(keyPath('a"b\\c\n')).toBe('."a\\u0022b\\u005cc\\u000a"');
    expect(keyPath('名前')).toBe('."名前"');
  });
});
