import { ValidationError } from '@flux-rag/memory-core';
import { matchContent, parseSearchQuery } from '@flux-rag/memory-core/backend';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { prng, queryPlan, recordReads } from '../test/support.js';
import { SqliteConversationMemory } from './sqlite-memory.js';
import { planSearch, searchError } from './sqlite-search.js';

const opened: { store: SqliteConversationMemory; raw: Database.Database }[] = [];

afterEach(async () => {
  for (const { store, raw } of opened.splice(0)) {
    await store.close();
    raw.close();
  }
});

async function open(raw = new Database(':memory:')) {
  const store = new SqliteConversationMemory({ database: raw });
  await store.init();
  opened.push({ store, raw });
  return { store, raw };
}

/** Ids of every hit, best first. */
async function search(store: SqliteConversationMemory, query: string, options = {}): Promise<string[]> {
  return (await store.searchMessages(query, { limit: 100, ...options })).items.map((hit) => hit.message.id);
}

/** Rows in the word index and in the trigram index. */
function indexed(raw: Database.Database): { words: number; trigrams: number } {
  const count = (table: string) => raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return { words: count('messages_fts_docsize'), trigrams: count('messages_fts_trigram_docsize') };
}

describe('planSearch', () => {
  it('quotes every word, so that FTS5 syntax in a query is text', () => {
    expect(planSearch(parseSearchQuery('OR AND NOT NEAR content:x pass* "reset password"'))).toEqual({
      words: '"OR" "AND" "NOT" "NEAR" "content" "x" "pass"* "reset password"',
      trigrams: null,
      substrings: [],
    });
    expect(planSearch([{ kind: 'word', words: ['a"b'] }]).words).toBe('"a""b"');
  });

  it('sends unspaced-script terms to the trigram index (3+ characters) or to substring checks', () => {
    expect(planSearch(parseSearchQuery('こんにちは "東京 Tower" 晴れ'))).toEqual({
      words: null,
      trigrams: '"こんにちは" "東京 Tower"',
      substrings: ['晴れ'],
    });
    // With words present, they drive the search and every unspaced term is a substring check (ASCII folded).
    expect(planSearch(parseSearchQuery('weather 東京ABC'))).toEqual({
      words: '"weather"',
      trigrams: null,
      substrings: ['東京abc'],
    });
  });
});

describe('searchError', () => {
  it('turns a real FTS5 syntax error into a ValidationError on query, and leaves other errors alone', () => {
    const raw = new Database(':memory:');
    raw.exec('CREATE VIRTUAL TABLE t USING fts5(x)');
    const ftsError = (() => {
      try {
        raw.prepare('SELECT * FROM t WHERE t MATCH ?').all('NEAR(');
      } catch (error) {
        return error;
      }
    })();
    raw.close();
    const mapped = searchError(ftsError);
    expect(ValidationError.isInstance(mapped)).toBe(true);
    expect(mapped).toMatchObject({ code: 'VALIDATION_FAILED', field: 'query', cause: ftsError });
    const other = new Error('disk I/O error');
    expect(searchError(other)).toBe(other);
  });
});

describe('the word tokenizer', () => {
  it('splits words exactly where core does: every letter, number and mark is part of a word, nothing else is', async () => {
    const { raw } = await open();
    raw.exec(`CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab('main', 'messages_fts', 'row')`);
    raw.exec(`INSERT INTO sessions (id) VALUES ('s')`);
    const insert = raw.prepare(
      `INSERT INTO messages (id, session_id, role, content) VALUES (?, 's', 'user', ?)`,
    );
    const word = /[\p{L}\p{N}\p{M}]/u;
    const words: string[] = [];
    const others: string[] = [];
    for (let code = 0x80; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (word.test(char)) words.push(char);
      else if (/\p{Assigned}/u.test(char) && !/\p{Co}/u.test(char)) others.push(char);
    }
    const terms = (chars: string[]) => {
      raw.exec('DELETE FROM messages');
      raw.transaction(() => {
        for (let i = 0; i < chars.length; i += 1000) {
          insert.run(
            `m${i}`,
            chars
              .slice(i, i + 1000)
              .map((char) => `q${char}q`)
              .join(' '),
          );
        }
      })();
      return raw.prepare('SELECT term FROM temp.vocabulary').pluck().all() as string[];
    };
    // Every "q<non-word>q" is the word q twice, emoji added after FTS5's Unicode 6.1 tables included (🙂, 🫠).
    expect(terms(others)).toEqual(['q']);
    // Every "q<letter>q" is one word (case folded: some letters fold to another one).
    const letters = terms(words);
    expect(letters).not.toContain('q');
    expect(letters.length).toBeGreaterThan(words.length * 0.9);
  });
});

describe('searchMessages on SQLite', () => {
  it('ranks by bm25 (more occurrences, shorter messages first), ties newest first; snippets mark every kind of term', async () => {
    const { store } = await open();
    await store.createSession({ id: 's' });
    await store.addMessage('s', {
      id: 'once',
      role: 'user',
      content: 'a quasar far away, and more words here',
    });
    await store.addMessage('s', { id: 'twice', role: 'user', content: 'quasar quasar' });
    await store.addMessage('s', { id: 'tie-old', role: 'user', content: 'pulsar' });
    await store.addMessage('s', { id: 'tie-new', role: 'user', content: 'pulsar' });
    await store.addMessage('s', { id: 'ja', role: 'user', content: 'Quasar は東京の空に見えます' });
    // bm25: more occurrences first; at one occurrence each, the shorter message (two words) first.
    expect(await search(store, 'quasar')).toEqual(['twice', 'ja', 'once']);
    expect(await search(store, 'pulsar')).toEqual(['tie-new', 'tie-old']);
    const [hit] = (await store.searchMessages('quas* 東京')).items;
    expect(hit?.message.id).toBe('ja');
    expect(hit?.snippet).toBe('<mark>Quasar</mark> は<mark>東京</mark>の空に見えます');
  });

  it('unspaced scripts - substrings of Japanese, Chinese, Korean and Thai, through the trigram index or a scan', async () => {
    const { store, raw } = await open();
    await store.createSession({ id: 's' });
    const add = (id: string, content: string) => store.addMessage('s', { id, role: 'user', content });
    await add('ja', '東京の天気は晴れです');
    await add('zh', '今天北京天气很好');
    await add('ko', '서울의 날씨는 맑습니다');
    await add('th', 'วันนี้อากาศดีมาก');
    await add('en', 'the weather in Lisbon');
    // Only the four unspaced messages went to the trigram index; every message to the word index.
    expect(indexed(raw)).toEqual({ words: 5, trigrams: 4 });
    expect(await search(store, '天気は晴れ')).toEqual(['ja']);
    expect(await search(store, '北京天气')).toEqual(['zh']);
    expect(await search(store, '날씨는')).toEqual(['ko']);
    expect(await search(store, 'อากาศ')).toEqual(['th']);
    // One or two characters: no trigram; the messages in scope are scanned.
    expect(await search(store, '天')).toEqual(['zh', 'ja']);
    expect(await search(store, '東京')).toEqual(['ja']);
    expect(await search(store, '東京 weather')).toEqual([]);
    expect(await search(store, '"晴れ です"')).toEqual([]);
  });

  it('Russian is case-folded, accents are kept, emoji separate words', async () => {
    const { store } = await open();
    await store.createSession({ id: 's' });
    await store.addMessage('s', { id: 'ru', role: 'user', content: 'ПОГОДА отличная🚀сегодня' });
    await store.addMessage('s', { id: 'fr', role: 'user', content: 'un café noir' });
    await store.addMessage('s', { id: 'emoji', role: 'user', content: 'thanks🙂see you🫠tomorrow' });
    expect(await search(store, 'погода')).toEqual(['ru']);
    expect(await search(store, 'сегодня')).toEqual(['ru']);
    expect(await search(store, 'café')).toEqual(['fr']);
    expect(await search(store, 'cafe')).toEqual([]);
    expect(await search(store, 'thanks')).toEqual(['emoji']);
    expect(await search(store, '"thanks see you tomorrow"')).toEqual(['emoji']);
  });

  it('returns what core matchContent accepts, on 300 random messages and 200 queries', async () => {
    const { store } = await open();
    const random = prng(11);
    const words = [
      'alpha',
      'beta',
      'Gamma',
      'delta',
      'ünï',
      'Привет',
      'мир',
      '東京',
      '天気',
      'x1',
      'OR',
      'NEAR',
    ];
    const contents = new Map<string, string>();
    await store.createSession({ id: 's' });
    for (let i = 0; i < 300; i++) {
      const length = 1 + Math.floor(random() * 8);
      const separator = [' ', ', ', '🙂', '🫠 '][Math.floor(random() * 4)]!;
      const content = Array.from({ length }, () => words[Math.floor(random() * words.length)]).join(
        separator,
      );
      contents.set(`m${i}`, content);
      await store.addMessage('s', { id: `m${i}`, role: 'user', content });
    }
    for (let i = 0; i < 200; i++) {
      const pick = () => words[Math.floor(random() * words.length)]!;
      const roll = random();
      const query =
        roll < 0.4
          ? pick()
          : roll < 0.6
            ? `${pick()} ${pick()}`
            : roll < 0.8
              ? `"${pick()} ${pick()}"`
              : `${pick().slice(0, 2)}*`;
      const terms = parseSearchQuery(query);
      const expected = [...contents]
        .filter(([, content]) => matchContent(content, terms) > 0)
        .map(([id]) => id);
      const found: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof store.searchMessages>> = await store.searchMessages(query, {
          limit: 100,
          cursor,
        });
        found.push(...page.items.map((hit) => hit.message.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(found.sort(), query).toEqual(expected.sort());
    }
  });

  it('the index is written in the same transaction: a refused write leaves no entry, an upgrade indexes old rows', async () => {
    const { store, raw } = await open();
    await store.createSession({ id: 's' });
    await store.addMessage('s', { id: 'm', role: 'user', content: 'nebula' });
    await expect(store.addMessage('s', { id: 'm', role: 'user', content: 'comet' })).rejects.toThrow();
    await expect(
      store.importRecords([
        {
          type: 'message',
          id: 'x',
          sessionId: 'missing',
          role: 'user',
          content: 'comet',
          createdAt: '2025-01-01T00:00:00.000000Z',
          metadata: {},
        },
      ]),
    ).rejects.toThrow();
    expect(indexed(raw).words).toBe(1);
    expect(await search(store, 'comet')).toEqual([]);
    expect(await search(store, 'nebula')).toEqual(['m']);
  });

  it('orphan messages (legacy rows whose session is gone) are not found; blob and number content is', async () => {
    const { store, raw } = await open();
    await store.createSession({ id: 's' });
    raw.pragma('foreign_keys = OFF');
    const insert = raw.prepare(
      "INSERT INTO messages (id, session_id, role, content, created_at) VALUES (?, ?, 'user', ?, '2025-01-01T00:00:00.000000')",
    );
    insert.run('orphan', 'gone', 'meteor shower');
    insert.run('blob', 's', Buffer.from('meteor as bytes'));
    insert.run('number', 's', 4242);
    raw.pragma('foreign_keys = ON');
    expect(await search(store, 'meteor')).toEqual(['blob']);
    expect(await search(store, '4242')).toEqual(['number']);
  });

  it('a selective word is served by the FTS5 index', async () => {
    const raw = new Database(':memory:');
    const ran = recordReads(raw);
    const { store } = await open(raw);
    await store.createSession({ id: 's' });
    await store.addMessage('s', { role: 'user', content: 'supernova' });
    ran.length = 0;
    await store.searchMessages('supernova', { role: 'user' });
    const statement = ran.find((s) => /MATCH/.test(s.sql));
    if (!statement) throw new Error('no search statement ran');
    const plan = queryPlan(raw, statement);
    expect(plan[0]).toMatch(/^SCAN messages_fts VIRTUAL TABLE INDEX \d+:M/);
    expect(plan).toContain('SEARCH m USING INTEGER PRIMARY KEY (rowid=?)');
  });
});
