import { type ConversationMemory, ValidationError } from '@flux-rag/memory-core';
import type { Database } from '@flux-rag/memory-core/sql';
import { migrateToLatest, SqlConversationMemory } from '@flux-rag/memory-core/sql';
import { uniqueName, withClient } from '@flux-rag/test-postgres';
import { type Expression, type ExpressionBuilder, Kysely, type SqlBool, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresConversationMemory, postgresMigrations, SchemaScopedPostgresDialect } from '../src/index.js';
import { filterError } from '../src/postgres-metadata-filter.js';
import { searchError } from '../src/postgres-search.js';
import { postgresDialect } from '../src/postgres-sql-dialect.js';
import { usePostgres } from './support.js';

const pgt = usePostgres();

const run = (sql: string, values: unknown[] = [], url = pgt.url) =>
  withClient(url, async (client) => (await client.query(sql, values)).rows);

/** What the store sent to the server: statement texts and their parameters. */
interface Sent {
  text: string;
  values: unknown[];
}

/**
 * A store on a pool that records every parameterised statement its clients run, so that tests can ask the
 * server for the plan of exactly the query the store sent.
 */
async function recordingStore(schema: string) {
  const sent: Sent[] = [];
  const pool = pgt.pool({ max: 2 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const [config, values] = args as [unknown, unknown];
      if (typeof config === 'object' && config !== null && 'text' in config) {
        const { text, values: bound } = config as { text: string; values?: unknown[] };
        sent.push({ text, values: bound ?? [] });
      } else if (typeof config === 'string' && Array.isArray(values)) {
        sent.push({ text: config, values });
      }
      return query(...args);
    };
  });
  const store = await pgt.store({ pool, schema });
  await store.init();
  /** The statements `work` sent, matching `pattern`. */
  const during = async (work: () => Promise<unknown>, pattern: RegExp): Promise<Sent[]> => {
    sent.length = 0;
    await work();
    return sent.filter((s) => pattern.test(s.text));
  };
  return { store, during };
}

/** Index names of the plan of `statement`, planned for its values (custom) or for any values (generic). */
async function indexesOf(statement: Sent, mode: 'custom' | 'generic'): Promise<string[]> {
  return withClient(pgt.url, async (client) => {
    await client.query(`SET plan_cache_mode = force_${mode}_plan`);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
    const names: string[] = [];
    const visit = (node: Record<string, unknown>) => {
      if (typeof node['Index Name'] === 'string') names.push(node['Index Name']);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) visit(child);
    };
    visit((rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
    return names;
  });
}

async function plan(statement: Sent, mode: 'custom' | 'generic'): Promise<string> {
  return withClient(pgt.url, async (client) => {
    await client.query(`SET plan_cache_mode = force_${mode}_plan`);
    const { rows } = await client.query(`EXPLAIN ${statement.text}`, statement.values);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

/**
 * VACUUM ANALYZE, as autovacuum would after a bulk insert: it also moves the rows waiting in a GIN index's
 * pending list into the index proper, without which the planner prices the index scan too high.
 */
const vacuumAnalyze = (table: string) => run(`VACUUM ANALYZE ${table}`);

/** The statement's text, for checks that user input never reached it. */
const statement = (sent: Sent) => sent.text;

const hitIds = async (store: ConversationMemory, query: string) =>
  (await store.searchMessages(query, { limit: 100 })).items.map((hit) => hit.message.id).sort();

describe('indexes', () => {
  it('getSessions - a selective where.metadata reads the GIN index on metadata', async () => {
    const schema = await pgt.schema(false);
    const { store, during } = await recordingStore(schema);
    await run(`
      INSERT INTO "${schema}".sessions (id, created_at, updated_at, metadata)
      SELECT 's' || i, now(), now() + make_interval(secs => i),
             jsonb_build_object('tenant', 't' || (i % 1000), 'n', i, 'tags', jsonb_build_array('a', 'b'))
      FROM generate_series(1, 20000) AS i`);
    await vacuumAnalyze(`"${schema}".sessions`);
    const where = { metadata: { tenant: 't7' } };
    const [listing] = await during(() => store.getSessions({ where, limit: 50 }), /@>/);
    const [page] = await during(() => store.getSessionsPage({ where, limit: 50 }), /@>/);
    for (const statement of [listing!, page!]) {
      expect(await indexesOf(statement, 'custom')).toContain('idx_sessions_metadata');
      expect(await indexesOf(statement, 'generic')).toContain('idx_sessions_metadata');
    }
    expect(statement(listing!)).not.toContain('t7');
    expect((await store.getSessions({ where, limit: 50 })).map((s) => s.id).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `s${7 + i * 1000}`).sort(),
    );
  });

  it('searchMessages - words, prefixes and phrases read the GIN index on the messages', async () => {
    const schema = await pgt.schema(false);
    const { store, during } = await recordingStore(schema);
    await run(`
      INSERT INTO "${schema}".sessions (id, created_at, updated_at) VALUES ('s', now(), now());
      INSERT INTO "${schema}".messages (id, session_id, role, content, created_at)
      SELECT 'm' || i, 's', 'user',
             'common words of message ' || i || CASE WHEN i % 5000 = 0 THEN ' with a rare quasar inside' ELSE '' END,
             now() + make_interval(secs => i)
      FROM generate_series(1, 20000) AS i`);
    await vacuumAnalyze(`"${schema}".messages`);
    for (const query of ['quasar', 'quas*', '"rare quasar"', 'QUASAR rare']) {
      const [search] = await during(() => store.searchMessages(query), /@@/);
      expect(await indexesOf(search!, 'custom'), query).toContain('idx_messages_search');
      expect(await indexesOf(search!, 'generic'), query).toContain('idx_messages_search');
      expect(statement(search!)).not.toMatch(/quas/i);
      expect(await hitIds(store, query)).toEqual(['m10000', 'm15000', 'm20000', 'm5000']);
    }
  });

  it('getSessionsPage - a cursor starts an index range, unscoped and for one owner', async () => {
    const schema = await pgt.schema(false);
    const { store, during } = await recordingStore(schema);
    await run(`
      INSERT INTO "${schema}".sessions (id, created_at, updated_at, owner_id)
      SELECT 's' || lpad(i::text, 5, '0'), timestamptz '2025-01-01' + make_interval(secs => i / 2),
             timestamptz '2025-01-01', CASE WHEN i % 2 = 0 THEN 'alice' ELSE 'bob' END
      FROM generate_series(1, 10000) AS i;
      ANALYZE "${schema}".sessions`);
    for (const [view, index] of [
      [store, 'idx_sessions_created'],
      [store.forOwner('alice'), 'idx_sessions_owner_created'],
    ] as const) {
      const first = await view.getSessionsPage({ limit: 50 });
      const [next] = await during(
        () => view.getSessionsPage({ limit: 50, cursor: first.nextCursor }),
        /"?created_at"?, "?id"?\) </,
      );
      for (const mode of ['custom', 'generic'] as const) {
        const text = await plan(next!, mode);
        expect(text).toContain(`Index Scan using ${index}`);
        expect(text).toMatch(/Index Cond: .*ROW\(created_at, \(?id\)?(::text)?\) < ROW/);
      }
    }
  });
});

describe('schema version 4', () => {
  it('init - upgrading a version 3 schema indexes the messages and sessions already there', async () => {
    const schema = await pgt.schema(false);
    const pool = pgt.pool();
    const db = new Kysely({ dialect: new SchemaScopedPostgresDialect({ pool }, schema) });
    await run(`CREATE SCHEMA "${schema}"`);
    const {
      '0004_search_and_filters': _,
      '0005_shared_writers': __,
      '0006_timestamp_order': ___,
      '0007_structured_messages': ____,
      ...version3
    } = postgresMigrations(schema);
    await migrateToLatest(db, version3, { migrationTableSchema: schema, location: 'test' });
    await run(`
      INSERT INTO "${schema}".sessions (id, created_at, updated_at, metadata, owner_id) VALUES
        ('old', now(), now(), '{"topic": "travel", "tags": ["x"]}', NULL),
        ('legacy', now(), now(), NULL, NULL),
        ('owned', now(), now(), '{"topic": "travel"}', 'alice');
      INSERT INTO "${schema}".messages (id, session_id, role, content, created_at) VALUES
        ('m1', 'old', 'user', 'Lisbon weather, tomorrow?', now()),
        ('m2', 'old', 'user', 'みなさん、こんにちは世界', now()),
        ('m3', 'old', 'user', 'Погода отличная', now()),
        ('m4', 'owned', 'user', 'weather in Porto', now())`);
    expect((await run(`SELECT max(name) AS name FROM "${schema}".kysely_migration`))[0].name).toBe(
      '0003_owner_scope',
    );
    const store = await pgt.store({ schema });
    expect((await store.check()).schemaVersion).toBe(7);
    expect(await hitIds(store, 'weather')).toEqual(['m1', 'm4']);
    expect(await hitIds(store, 'こんにちは')).toEqual(['m2']);
    expect(await hitIds(store, 'Погода')).toEqual(['m3']);
    expect(await hitIds(store.forOwner('alice'), 'weather')).toEqual(['m4']);
    const travel = await store.getSessions({ where: { metadata: { topic: 'travel' } } });
    expect(travel.map((s) => s.id).sort()).toEqual(['old', 'owned']);
    // A NULL metadata reads as {}: {} contains it, anything more does not.
    expect((await store.getSessions({ where: { metadata: {} } })).map((s) => s.id).sort()).toEqual([
      'legacy',
      'old',
      'owned',
    ]);
    const indexes = await run('SELECT indexname FROM pg_indexes WHERE schemaname = $1', [schema]);
    expect(indexes.map((row) => row.indexname)).toEqual(
      expect.arrayContaining([
        'idx_messages_search',
        'idx_sessions_metadata',
        'idx_sessions_created',
        'idx_sessions_owner_created',
      ]),
    );
    await db.destroy();
  });

  it('addMessage - a message too long for a tsvector is stored; its first 100,000 characters are searchable', async () => {
    const store = await pgt.store();
    const session = await store.createSession();
    // About 1.5 MB of distinct words: to_tsvector of the whole of it fails ("string is too long for tsvector").
    const words = Array.from({ length: 100_000 }, (_, i) => `w${i.toString(36)}x${(i * 7919).toString(36)}`);
    const content = `needle ${words.join(' ')} haystackend`;
    expect(content.length).toBeGreaterThan(1_000_000);
    const id = await store.addMessage(session, { role: 'user', content });
    expect((await store.getHistory(session))[0]!.content).toBe(content);
    expect(await hitIds(store, 'needle')).toEqual([id]);
    expect(await hitIds(store, words[1000]!)).toEqual([id]);
    // Past the indexed part: documented in the README.
    expect(await hitIds(store, 'haystackend')).toEqual([]);
  });
});

describe('textSearchConfig', () => {
  it('constructor - a name that is not an identifier is a ValidationError on textSearchConfig', () => {
    for (const bad of ['', 'english; DROP TABLE x', "simple'", 'a.b.c', 42, '1abc']) {
      let error: unknown;
      try {
        new PostgresConversationMemory({ connectionString: pgt.url, textSearchConfig: bad as string });
      } catch (e) {
        error = e;
      }
      expect(ValidationError.isInstance(error), String(bad)).toBe(true);
      expect((error as ValidationError).field).toBe('textSearchConfig');
    }
  });

  it('init - a configuration the database lacks is a ValidationError on textSearchConfig, nothing created', async () => {
    const schema = await pgt.schema(false);
    const store = await pgt.store({ schema, textSearchConfig: 'klingon' });
    const error = await store.createSession().catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('textSearchConfig');
    expect((error as Error).message).toContain('klingon');
    // Schema setup is one transaction, rolled back whole: not even the schema or Kysely's bookkeeping was left.
    expect(await run('SELECT to_regnamespace($1) AS s', [`"${schema}"`])).toEqual([{ s: null }]);
    const fixed = await pgt.store({ schema, textSearchConfig: 'simple' });
    expect((await fixed.check()).schemaVersion).toBe(7);
  });

  it('searchMessages - english stems words, and a schema keeps the configuration it was built with', async () => {
    const schema = await pgt.schema(false);
    const english = await pgt.store({ schema, textSearchConfig: 'english' });
    const session = await english.createSession();
    const id = await english.addMessage(session, { role: 'user', content: 'She runs every morning.' });
    expect(await hitIds(english, 'running')).toEqual([id]);
    expect(await hitIds(english, 'run*')).toEqual([id]);
    const [hit] = (await english.searchMessages('running')).items;
    expect(hit!.snippet).toBe('She <mark>runs</mark> every morning.');
    // Without the option, a store uses the schema's configuration; asking for another is refused.
    expect(await hitIds(await pgt.store({ schema }), 'running')).toEqual([id]);
    const simple = await pgt.store({ schema, textSearchConfig: 'simple' });
    const error = await simple.searchMessages('running').catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('textSearchConfig');
    expect((error as Error).message).toMatch(/english/);
    expect(await hitIds(await pgt.store({ schema, textSearchConfig: 'pg_catalog.english' }), 'runs')).toEqual(
      [id],
    );
  });
});

describe('words and snippets', () => {
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases) await run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  const CONTENT = {
    m1: 'Write to foo@bar.com or see https://example.org/docs/v2.5',
    m2: '«Привет»—как дела? Погода: отличная',
    m3: 'Tokyo、Japan and hello🚀world',
    m4: 'Build for x86_64 with <b>bold</b> flags; version 24.5',
  };

  async function wordsAreCoreWords(store: PostgresConversationMemory) {
    await store.createSession({ id: 's' });
    for (const [id, content] of Object.entries(CONTENT))
      await store.addMessage('s', { id, role: 'user', content });
    for (const [query, expected] of [
      ['bar', ['m1']],
      ['example org', ['m1']],
      ['"docs v2"', ['m1']],
      ['Привет', ['m2']],
      ['как', ['m2']],
      ['Japan', ['m3']],
      ['hello world', ['m3']],
      ['"hello world"', ['m3']],
      ['x86', ['m4']],
      ['bold', ['m4']],
      ['5', ['m1', 'm4']],
      ['24', ['m4']],
    ] as const) {
      expect(await hitIds(store, query), query).toEqual(expected);
    }
    // ts_headline reads `foo@bar.com` as one token: core's snippet marks the word instead.
    const [hit] = (await store.searchMessages('bar')).items;
    expect(hit!.snippet).toBe('Write to foo@<mark>bar</mark>.com or see https://example.org/docs/v2.5');
  }

  it('searchMessages - words are what core calls words, punctuation and emoji separating them', async () => {
    await wordsAreCoreWords(await pgt.store());
  });

  it('searchMessages - the same words in a database whose LC_CTYPE is C', async () => {
    const name = uniqueName('c_locale_');
    databases.push(name);
    await run(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
    const url = new URL(pgt.url);
    url.pathname = `/${name}`;
    const store = await pgt.store({ connectionString: url.toString() });
    await wordsAreCoreWords(store);
    // Under C, PostgreSQL folds ASCII only: Cyrillic matches in the case it was written.
    expect(await hitIds(store, 'привет')).toEqual([]);
  });

  it('searchMessages - the snippet is an excerpt around the match, with … where the content was cut', async () => {
    const store = await pgt.store();
    const session = await store.createSession();
    const filler = (word: string) => Array.from({ length: 60 }, () => word).join(' ');
    await store.addMessage(session, {
      role: 'user',
      content: `${filler('alpha')} the needle is here ${filler('omega')}`,
    });
    const [hit] = (await store.searchMessages('needle')).items;
    expect(hit!.snippet).toMatch(/^…(alpha )+the <mark>needle<\/mark> is here( omega)+…$/);
    expect(hit!.snippet.split(' ').length).toBeLessThan(40);
    await store.addMessage(session, { role: 'user', content: '東京の天気は晴れです。明日も晴れ' });
    const [japanese] = (await store.searchMessages('晴れ')).items;
    expect(japanese!.snippet).toBe('東京の天気は<mark>晴れ</mark>です。明日も<mark>晴れ</mark>');
  });

  it('searchMessages - a query mixing words and Japanese needs both; ranks count every occurrence', async () => {
    const store = await pgt.store();
    const session = await store.createSession();
    const a = await store.addMessage(session, { role: 'user', content: 'Tokyo: 東京 東京 東京' });
    const b = await store.addMessage(session, { role: 'user', content: 'Tokyo: 東京' });
    await store.addMessage(session, { role: 'user', content: '東京 only' });
    expect(await hitIds(store, 'tokyo 東京')).toEqual([a, b].sort());
    const ranked = (await store.searchMessages('東京')).items;
    expect(ranked.map((hit) => hit.rank)).toEqual([3, 1, 1]);
    expect(ranked[0]!.message.id).toBe(a);
  });
});

describe('errors', () => {
  const failing = async (text: string) =>
    withClient(pgt.url, (client) =>
      client.query(text).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );

  it('searchError - a tsquery the server cannot parse is a ValidationError on query; other errors pass', async () => {
    const syntax = await failing("SELECT to_tsquery('simple', 'a & (')");
    expect((syntax as { code?: string }).code).toBe('42601');
    const mapped = searchError(syntax);
    expect(ValidationError.isInstance(mapped)).toBe(true);
    expect((mapped as ValidationError).field).toBe('query');
    expect((mapped as Error).cause).toBe(syntax);
    const missing = await failing('SELECT * FROM no_such_table_here');
    expect(searchError(missing)).toBe(missing);
  });

  it('filterError - JSON the server refuses is a ValidationError on where.metadata; other errors pass', async () => {
    const invalid = await failing(`SELECT '{"a": "\\u0000"}'::jsonb`);
    const mapped = filterError(invalid);
    expect(ValidationError.isInstance(mapped)).toBe(true);
    expect((mapped as ValidationError).field).toBe('where.metadata');
    const missing = await failing('SELECT * FROM no_such_table_here');
    expect(filterError(missing)).toBe(missing);
  });

  it('listings - a filter the server refuses rejects getSessions and getSessionsPage with a ValidationError', async () => {
    // A filter condition whose JSON the server refuses, as validation should never let through: the dialect's
    // own mapping (filterError, in its `filter` phase) must still name where.metadata. The store is core's,
    // built from the PostgreSQL dialect with that one condition replaced.
    const schema = await pgt.schema(false);
    // biome-ignore lint/suspicious/noExplicitAny: schema setup queries tables outside Database
    const root: Kysely<any> = new Kysely({
      dialect: new SchemaScopedPostgresDialect({ pool: pgt.pool({ max: 2 }) }, schema),
    });
    const dialect = postgresDialect({ root, schema, location: 'test', textSearchConfig: undefined });
    const refused = (eb: ExpressionBuilder<Database, 'sessions'>): Expression<SqlBool> =>
      sql<SqlBool>`${eb.ref('metadata')} @> ${'{"a": "\\u0000"}'}::jsonb`;
    const store = new SqlConversationMemory({
      dialect: { ...dialect, metadataFilter: { where: refused } },
      db: root.withSchema(schema),
    });
    try {
      await store.createSession({ metadata: { a: 'x' } });
      // One call at a time: a second call started before the first settles would reject with no handler yet.
      for (const listing of [
        () => store.getSessions({ where: { metadata: { a: 'x' } } }),
        () => store.getSessionsPage({ where: { metadata: { a: 'x' } } }),
      ]) {
        const error = await listing().then(
          () => null,
          (e: unknown) => e,
        );
        expect(ValidationError.isInstance(error)).toBe(true);
        expect((error as ValidationError).field).toBe('where.metadata');
      }
      expect(await store.getSessions()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('searchMessages - a prefix longer than a lexeme may be is no error, and finds nothing', async () => {
    const store = await pgt.store();
    await store.createSession({ id: 's' });
    await store.addMessage('s', { role: 'user', content: 'short words' });
    // 700 Devanagari letters are 2,100 bytes, past PostgreSQL's 2,047-byte lexemes.
    expect((await store.searchMessages(`${'अ'.repeat(700)}*`)).items).toEqual([]);
    expect((await store.searchMessages('अ'.repeat(700))).items).toEqual([]);
  });
});
