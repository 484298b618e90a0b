import {
  ConflictError,
  type MemoryError,
  type PortableRecord,
  SessionNotFoundError,
} from '@flux-rag/memory-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteConversationMemory } from '../src/index.js';
import { legacyFile, openPlain, tempDir } from './support.js';

/*
 * Rows that real legacy files hold although the contract forbids them (see the README's "Legacy files"
 * table). Each is written with the Python DDL and foreign keys off, as the original did, then read through
 * the store: no read throws, and nothing is dropped.
 */

const dir = tempDir();
const stores: SqliteConversationMemory[] = [];
const EPOCH = new Date(0);
const T = '2025-03-01T10:00:00.000000';

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function open(path: string): SqliteConversationMemory {
  const store = new SqliteConversationMemory({ filename: path });
  stores.push(store);
  return store;
}

describe('legacy rows: orphan messages (their session is gone)', () => {
  const file = () =>
    legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('alive', 'a', T, T, '{}');
      const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
      message.run('m1', 'alive', 'user', 'kept', T, '{}');
      message.run('o1', 'gone', 'user', 'orphan one', T, '{}');
      message.run('o2', 'gone', 'assistant', 'orphan two', '2025-03-01T10:00:01.000000', '{}');
    });

  it('are kept by the upgrade and readable with getHistory(sessionId)', async () => {
    const path = file();
    const store = open(path);
    const history = await store.getHistory('gone');
    expect(history.map((m) => [m.id, m.sessionId, m.content])).toEqual([
      ['o1', 'gone', 'orphan one'],
      ['o2', 'gone', 'orphan two'],
    ]);
    expect((await store.check()).messages).toBe(3);
  });

  it('are not listed: getSessions shows existing sessions only, getSession is null', async () => {
    const store = open(file());
    expect((await store.getSessions()).map((s) => [s.id, s.messageCount])).toEqual([['alive', 1]]);
    expect(await store.getSession('gone')).toBeNull();
  });

  it('cannot be appended to: addMessage is SessionNotFoundError, nothing written', async () => {
    const store = open(file());
    const error = await store.addMessage('gone', { role: 'user', content: 'x' }).catch((e: unknown) => e);
    expect(SessionNotFoundError.isInstance(error)).toBe(true);
    expect(await store.getHistory('gone')).toHaveLength(2);
  });

  it('are not deleted by deleteSession(id), which answers not found (false); clearAll removes them', async () => {
    const store = open(file());
    expect(await store.deleteSession('gone')).toBe(false);
    expect((await store.getHistory('gone')).map((m) => m.id)).toEqual(['o1', 'o2']);
    expect(await store.getHistory('alive')).toHaveLength(1);
    expect(await store.forOwner('alice').deleteSession('gone')).toBe(false);
    expect(await store.getHistory('gone')).toHaveLength(2);
    await store.clearAll();
    expect((await store.check()).messages).toBe(0);
  });

  it('are not adopted: createSession with their session id is a ConflictError, for the store and any owner', async () => {
    const store = open(file());
    for (const target of [store, store.forOwner('alice')]) {
      const error = await target.createSession({ id: 'gone' }).catch((e: unknown) => e);
      expect(ConflictError.isInstance(error)).toBe(true);
      expect((error as ConflictError).id).toBe('gone');
      expect((error as Error).message).toMatch(/orphan messages/);
    }
    expect(await store.getSession('gone')).toBeNull();
    expect(await store.forOwner('alice').getHistory('gone')).toEqual([]);
    // An import naming that session is refused the same way, writing nothing.
    const error = await store
      .importRecords([
        {
          type: 'session',
          id: 'gone',
          title: null,
          createdAt: T,
          updatedAt: T,
          metadata: {},
          ownerId: null,
        } as PortableRecord,
      ])
      .catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect(await store.getSession('gone')).toBeNull();
  });

  it('are counted by check(): orphanMessages', async () => {
    const store = open(file());
    expect(await store.check()).toMatchObject({ sessions: 1, messages: 3, orphanMessages: 2 });
  });

  it('do not break writes to other sessions now that foreign keys are on', async () => {
    const store = open(file());
    await store.addMessage('alive', { role: 'assistant', content: 'new' });
    await store.deleteSession('alive');
    expect(await store.getHistory('gone')).toHaveLength(2);
  });
});

describe('legacy rows: metadata', () => {
  const cases: [string, string | null, object][] = [
    ['not JSON', '{broken', { _raw: '{broken' }],
    ['a JSON array', '[1, 2]', { _raw: '[1, 2]' }],
    ['a JSON number', '42', { _raw: '42' }],
    ['a JSON string', '"text"', { _raw: '"text"' }],
    ['JSON null', 'null', { _raw: 'null' }],
    ['empty', '', {}],
    ['NULL', null, {}],
    ['ASCII-escaped JSON', '{"q": "na\\u00efve \\"x\\""}', { q: 'naïve "x"' }],
  ];

  it.each(cases)('session metadata %s - reads back as documented', async (_name, stored, expected) => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, stored);
    });
    const store = open(path);
    expect((await store.getSession('s'))!.metadata).toEqual(expected);
    expect((await store.getSessions())[0]!.metadata).toEqual(expected);
  });

  it.each(cases)('message metadata %s - reads back as documented', async (_name, stored, expected) => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run('m', 's', 'tool', 'c', T, stored);
    });
    const store = open(path);
    expect((await store.getHistory('s'))[0]!.metadata).toEqual(expected);
    const plain = openPlain(path);
    // The stored text is left as it was.
    expect(plain.prepare('SELECT metadata FROM messages').pluck().get()).toBe(stored);
    plain.close();
  });
});

describe('legacy rows: timestamps', () => {
  const forms: [string, string | null, Date][] = [
    ['missing (NULL)', null, EPOCH],
    ['not a date', 'yesterday', EPOCH],
    ['an impossible date', '2025-02-30T10:00:00', EPOCH],
    ['with a space', '2025-03-01 14:32:01', new Date('2025-03-01T14:32:01Z')],
    ['with Z', '2025-03-01T14:32:01.5Z', new Date('2025-03-01T14:32:01.500Z')],
    ['with an offset', '2025-03-01T16:32:01+02:00', new Date('2025-03-01T14:32:01Z')],
    ['a bare date', '2025-03-01', new Date('2025-03-01T00:00:00Z')],
    ['nanoseconds', '2025-03-01T14:32:01.123456789', new Date('2025-03-01T14:32:01.123Z')],
  ];

  it.each(forms)('message created_at %s - reads as documented', async (_name, stored, expected) => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run('m', 's', 'user', 'c', stored, '{}');
    });
    const store = open(path);
    expect((await store.getHistory('s'))[0]!.createdAt).toEqual(expected);
  });

  it.each(forms)('session created_at %s - reads as documented', async (_name, stored, expected) => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, stored, stored, '{}');
    });
    const store = open(path);
    const session = (await store.getSession('s'))!;
    expect([session.createdAt, session.updatedAt]).toEqual([expected, expected]);
  });

  it('session updated_at NULL - reads as created_at; the session is listed after every dated one', async () => {
    const path = legacyFile(dir, (db) => {
      const session = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)');
      session.run('undated', null, '2025-03-02T00:00:00.000000', null, '{}');
      session.run('dated', null, T, T, '{}');
    });
    const store = open(path);
    const listed = await store.getSessions();
    expect(listed.map((s) => s.id)).toEqual(['dated', 'undated']);
    expect(listed[1]!.updatedAt).toEqual(new Date('2025-03-02T00:00:00Z'));
  });

  it('history order - by decoded instant: NULL and unreadable first (as the epoch), ties by insertion; pages agree', async () => {
    // Changed with issue 12: this used to follow the stored text ('spaced' before 'canonical', 'garbage' last),
    // which made cursor pages, ordered by the decoded instant, loop or skip rows.
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
      message.run('canonical', 's', 'user', '1', '2025-03-01T10:00:00.000000', '{}');
      message.run('null', 's', 'user', '2', null, '{}');
      message.run('garbage', 's', 'user', '3', 'yesterday', '{}');
      message.run('spaced', 's', 'user', '4', '2025-03-01 11:00:00', '{}');
      message.run('tokyo', 's', 'user', '5', '2025-03-01T18:30:00+09:00', '{}');
      message.run('no-fraction', 's', 'user', '6', '2025-03-01T10:00:00', '{}');
    });
    const store = open(path);
    // 18:30+09:00 is 09:30 UTC; the no-fraction form is the same instant as 'canonical', inserted later.
    const expected = ['null', 'garbage', 'tokyo', 'canonical', 'no-fraction', 'spaced'];
    expect((await store.getHistory('s')).map((m) => m.id)).toEqual(expected);
    expect((await store.getHistory('s', { limit: 3 })).map((m) => m.id)).toEqual(expected.slice(3));
    const walked: string[] = [];
    let before: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await store.getHistoryPage('s', {
        limit: 1,
        before,
      });
      walked.unshift(...page.items.map((m) => m.id));
      before = page.nextCursor;
    } while (before !== null && walked.length <= expected.length);
    expect(walked).toEqual(expected);
  });
});

describe('legacy rows: sessions pages', () => {
  it('getSessionsPage - walks list every session getSessions lists, NULL and unreadable created_at included (last, as the epoch)', async () => {
    const stored: [string, string | null][] = [
      ['canonical', '2025-03-01T10:00:00.000000'],
      ['null', null],
      ['tokyo', '2025-03-01T18:30:00+09:00'],
      ['garbage', 'yesterday'],
      ['spaced', '2025-03-01 11:00:00'],
      ['no-fraction', '2025-03-01T10:00:00'],
    ];
    const path = legacyFile(dir, (db) => {
      const session = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)');
      for (const [id, at] of stored) session.run(id, null, at, at, '{}');
    });
    const store = open(path);
    // Newest first by instant, ties by id descending: 'no-fraction' and 'canonical' are one instant, as are
    // the two epochs.
    const expected = ['spaced', 'no-fraction', 'canonical', 'tokyo', 'null', 'garbage'];
    expect((await store.getSessions()).map((s) => s.id).sort()).toEqual([...expected].sort());
    for (const limit of [1, 2, 3, 4, 5, 6, 7]) {
      const walked: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await store.getSessionsPage({
          limit,
          cursor,
        });
        walked.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor;
      } while (cursor !== null && walked.length <= expected.length);
      expect(walked, `limit ${limit}`).toEqual(expected);
    }
  });
});

describe('legacy rows: content, titles and roles', () => {
  it('content stored as a number, a real, or a blob - reads back as text', async () => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      const message = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)');
      message.run('int', 's', 'user', 42n, '2025-03-01T10:00:01.000000', '{}');
      message.run('real', 's', 'user', 3.5, '2025-03-01T10:00:02.000000', '{}');
      message.run('blob', 's', 'user', Buffer.from('héllo 中文', 'utf8'), '2025-03-01T10:00:03.000000', '{}');
      message.run(
        'bad-utf8',
        's',
        'user',
        Buffer.from([0x61, 0xff, 0x62]),
        '2025-03-01T10:00:04.000000',
        '{}',
      );
    });
    const store = open(path);
    expect((await store.getHistory('s')).map((m) => m.content)).toEqual([
      '42',
      '3.5',
      'héllo 中文',
      'a\uFFFDb',
    ]);
  });

  it('content with U+0000 - reads back whole (new writes refuse it)', async () => {
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run('m', 's', 'user', 'a\u0000b', T, '{}');
    });
    const store = open(path);
    expect((await store.getHistory('s'))[0]!.content).toBe('a\u0000b');
    const error = await store.addMessage('s', { role: 'user', content: 'a\u0000b' }).catch((e: unknown) => e);
    expect((error as MemoryError).code).toBe('VALIDATION_FAILED');
  });

  it('very large content (20 MB) - reads back whole', async () => {
    const huge = `${'x'.repeat(20 * 1024 * 1024 - 3)}中`;
    const path = legacyFile(dir, (db) => {
      db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)').run('s', null, T, T, '{}');
      db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run('m', 's', 'user', huge, T, '{}');
    });
    const store = open(path);
    const [message] = await store.getHistory('s');
    expect(message!.content.length).toBe(huge.length);
    expect(message!.content === huge).toBe(true);
    // Opening upgrades the file (the search index, then schema 7's copy of every row): seconds for 20 MB alone,
    // over 30 s with the whole test run beside it on 2 cores.
  }, 120_000);

  it('NULL and empty titles, unusual roles - read back as stored', async () => {
    const path = legacyFile(dir, (db) => {
      const session = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?, ?)');
      session.run('null-title', null, T, T, '{}');
      session.run('empty-title', '', T, '2025-03-01T10:00:01.000000', '{}');
      db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)').run(
        'm',
        'null-title',
        'function',
        'c',
        T,
        '{}',
      );
    });
    const store = open(path);
    expect((await store.getSessions()).map((s) => [s.id, s.title])).toEqual([
      ['empty-title', ''],
      ['null-title', null],
    ]);
    expect((await store.getHistory('null-title'))[0]!.role).toBe('function');
  });
});
