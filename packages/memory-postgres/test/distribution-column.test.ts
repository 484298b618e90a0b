import { type ConversationMemory, UnsupportedCapabilityError } from '@flux-rag/memory-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';
import { usePostgres } from './support.js';

// The sharding path (README, "Sharding: Citus"): sessions, messages and message_operations are distributed by
// the session id, so an operation on one session must reach one shard. This test runs every operation of the
// contract against a real server, records each statement the store sends, and checks that every statement
// touching those tables names the session: `"id" = $n` on sessions, `"session_id" = $n` elsewhere, with `$n`
// bound to the session's id (or, for an INSERT, the session id in the row's `session_id`).

const pgServer = usePostgres();

/** Tables distributed by the session id, and the column holding it. */
const DISTRIBUTED: Readonly<Record<string, string>> = {
  sessions: 'id',
  messages: 'session_id',
  message_operations: 'session_id',
};

type Operation = (store: ConversationMemory, sessionId: string) => Promise<unknown>;

/**
 * Every single-session operation of the contract, as one call on the session `sessionId` (which holds two
 * messages, `m1` and `m2`). A new operation on one session is covered by adding it here.
 */
const SINGLE_SESSION: Readonly<Record<string, Operation>> = {
  addMessage: (store, id) => store.addMessage(id, { role: 'user', content: 'three' }),
  upsertMessages: (store, id) =>
    store.upsertMessages(id, [{ id: 'm3', role: 'user', content: 'three' }], { operationId: 'op-1' }),
  rewriteHistory: (store, id) =>
    store.rewriteHistory(id, {
      after: 'm1',
      expectedIds: ['m2'],
      messages: [{ role: 'assistant', content: 'again' }],
      operationId: 'op-2',
    }),
  deleteMessages: (store, id) => store.deleteMessages(id, ['m2']),
  popMessage: (store, id) => store.popMessage(id),
  getHistoryDigests: (store, id) => store.getHistoryDigests(id),
  getHistory: (store, id) => Promise.all([store.getHistory(id), store.getHistory(id, { limit: 1 })]),
  getHistoryPage: async (store, id) => {
    const first = await store.getHistoryPage(id, { limit: 1 });
    return store.getHistoryPage(id, { limit: 1, before: first.nextCursor });
  },
  getSession: (store, id) => store.getSession(id),
  updateSessionTitle: (store, id) => store.updateSessionTitle(id, 'renamed'),
  updateSession: (store, id) => store.updateSession(id, { title: 'renamed', metadataPatch: { k: 1 } }),
  deleteSession: (store, id) => store.deleteSession(id),
  searchMessages: (store, id) => store.searchMessages('one', { sessionId: id }),
};

/**
 * The contract's other members, with the reason they are not single-session: every method of a store must be
 * in one list or the other, so that a method added to the contract fails this test until it is classified.
 */
const NOT_SINGLE_SESSION: Readonly<Record<string, string>> = {
  createSession: 'inserts a new session: routed by the id it chooses, one shard, nothing to filter',
  getSessions: 'a listing: fans out to every shard (by owner: every shard, filtered by owner_id)',
  getSessionsPage: 'a listing: fans out as getSessions',
  searchMessages: 'fans out without sessionId; with it, single-session (listed above too)',
  purgeSessions: 'by age over every session: fans out',
  clearAll: 'every session: fans out',
  exportRecords: 'every session: fans out',
  importRecords: 'many sessions per batch: each row routed by its session id',
  check: 'counts every row: fans out',
  forOwner: 'a view; its calls are the ones listed',
  close: 'no statement',
  init: 'schema setup, DDL (see the README for Citus)',
};

/** A pg pool that records the text and values of every statement its clients run. */
function recordingPool(url: string) {
  const statements: Array<{ text: string; values: readonly unknown[] }> = [];
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const [first, second] = args;
      if (typeof first === 'string') statements.push({ text: first, values: (second as unknown[]) ?? [] });
      else if (first && typeof first === 'object' && 'text' in first) {
        const { text, values } = first as { text: string; values?: unknown[] };
        statements.push({ text, values: values ?? [] });
      }
      return query(...args);
    };
  });
  return { pool, statements };
}

/** The distributed tables a statement reads or writes, by name as Kysely quotes them: `"schema"."table"`. */
function tablesOf(text: string, schema: string): string[] {
  return Object.keys(DISTRIBUTED).filter((table) => text.includes(`"${schema}"."${table}"`));
}

/**
 * Whether `text` filters (or, for an INSERT, writes) the distribution column of `table` to `sessionId`, as the
 * value of a parameter. Kysely writes `"<table>"."<column>" = $n`, or `"<column>" = $n` when one table is in
 * scope, and hand-written SQL an alias (`m.session_id = $n`); an INSERT lists its columns and binds the values
 * in order.
 */
function namesSession(text: string, values: readonly unknown[], table: string, sessionId: string): boolean {
  const column = DISTRIBUTED[table]!;
  const filters = new RegExp(`(?<![\\w"])(?:"?\\w+"?\\.)?"?${column}"? = \\$(\\d+)`, 'g');
  for (const match of text.matchAll(filters)) {
    if (values[Number(match[1]) - 1] === sessionId) return true;
  }
  const insert = new RegExp(`insert into "[^"]+"\\."${table}" \\(([^)]*)\\) values \\(([^)]*)\\)`, 'i').exec(
    text,
  );
  if (insert) {
    const columns = insert[1]!.split(',').map((c) => c.trim().replaceAll('"', ''));
    const params = insert[2]!.split(',').map((v) => v.trim());
    const at = columns.indexOf(column);
    const param = /^\$(\d+)$/.exec(params[at] ?? '');
    if (param && values[Number(param[1]) - 1] === sessionId) return true;
  }
  return false;
}

describe('distribution column (sharding by session id)', () => {
  it('every method of the contract is classified as single-session or not', async () => {
    // An owner view implements exactly the contract's methods (a store has protected ones beside them).
    const view = (await pgServer.store()).forOwner('o');
    const methods = new Set<string>();
    for (let proto = Object.getPrototypeOf(view); proto && proto !== Object.prototype; ) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const descriptor = Object.getOwnPropertyDescriptor(proto, name);
        if (name !== 'constructor' && !name.startsWith('_') && typeof descriptor?.value === 'function') {
          methods.add(name);
        }
      }
      proto = Object.getPrototypeOf(proto);
    }
    const unclassified = [...methods].filter((m) => !(m in SINGLE_SESSION) && !(m in NOT_SINGLE_SESSION));
    expect(unclassified).toEqual([]);
  });

  for (const [name, operation] of Object.entries(SINGLE_SESSION)) {
    it(`${name} - every statement on sessions, messages or message_operations names the session`, async (context) => {
      const schema = await pgServer.schema(false);
      const { pool, statements } = recordingPool(pgServer.url);
      const store = new PostgresConversationMemory({ pool, schema });
      try {
        const sessionId = await store.createSession({ title: 'one' });
        await store.addMessage(sessionId, { id: 'm1', role: 'user', content: 'one' });
        await store.addMessage(sessionId, { id: 'm2', role: 'assistant', content: 'two' });
        // Another session, so that a statement without the filter would have something else to touch.
        await store.addMessage(await store.createSession({ title: 'other' }), {
          role: 'user',
          content: 'one',
        });
        statements.length = 0;
        try {
          await operation(store, sessionId);
        } catch (error) {
          // Not implemented by this backend yet (capabilities say so): nothing to check, and said so.
          if (UnsupportedCapabilityError.isInstance(error)) return context.skip(error.message);
          throw error;
        }
        const touching = statements.filter((s) => tablesOf(s.text, schema).length > 0);
        expect(touching.length, 'the operation sent no statement on the tables').toBeGreaterThan(0);
        const unfiltered = touching.filter((s) =>
          tablesOf(s.text, schema).some((table) => !namesSession(s.text, s.values, table, sessionId)),
        );
        expect(unfiltered.map((s) => s.text)).toEqual([]);
      } finally {
        await store.close();
        await pool.end();
      }
    });
  }

  it('the check itself fails on a statement without the session filter', () => {
    const text = 'select * from "s"."messages" where "role" = $1 and "session_id" = $2';
    expect(namesSession(text, ['user', 'abc'], 'messages', 'abc')).toBe(true);
    expect(namesSession(text, ['abc', 'other'], 'messages', 'abc')).toBe(false);
    const aliased = 'select 1 from "s"."messages" as m where m.session_id = $1';
    expect(namesSession(aliased, ['abc'], 'messages', 'abc')).toBe(true);
    const byOwner = 'select 1 from "s"."sessions" where "owner_id" = $1';
    expect(namesSession(byOwner, ['abc'], 'sessions', 'abc')).toBe(false);
    expect(namesSession('delete from "s"."messages" where "id" = $1', ['abc'], 'messages', 'abc')).toBe(
      false,
    );
    expect(
      namesSession(
        'insert into "s"."messages" ("id", "session_id") values ($1, $2)',
        ['x', 'abc'],
        'messages',
        'abc',
      ),
    ).toBe(true);
  });
});
