import { MemoryClosedError, ValidationError } from '@flux-rag/memory-core';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { PostgresConversationMemory, type PostgresMemoryOptions } from './index.js';

const pg = usePostgres();

function validationErrorOf(options: unknown): ValidationError {
  try {
    new PostgresConversationMemory(options as PostgresMemoryOptions);
  } catch (error) {
    expect(ValidationError.isInstance(error)).toBe(true);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('options', () => {
  it('constructor - refuses a connection string that is not a postgres URL, without echoing its password', () => {
    for (const connectionString of ['mysql://u:hunter2@h/db', 'hunter2', 'http://u:hunter2@h/db', '', 42]) {
      const error = validationErrorOf({ connectionString });
      expect(error.field).toBe('connectionString');
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('constructor - requires exactly one of connectionString and pool', () => {
    expect(validationErrorOf({}).field).toBe('connectionString');
    expect(validationErrorOf({ connectionString: pg.url, pool: { max: 1 } }).field).toBe('connectionString');
    expect(validationErrorOf(null).field).toBe('options');
    expect(validationErrorOf({ pool: 'postgresql://h/db' }).field).toBe('pool');
  });

  it('constructor - refuses a schema that is not a plain identifier', () => {
    for (const schema of ['', '1abc', 'a-b', 'a"b', 'a b', 'pg_catalog', 'x'.repeat(64), 'é', 42, null]) {
      expect(validationErrorOf({ connectionString: pg.url, schema }).field).toBe('schema');
    }
  });

  it('constructor - refuses negative or fractional timeouts', () => {
    for (const field of ['connectionTimeoutMillis', 'queryTimeoutMillis']) {
      for (const value of [-1, 1.5, '10', Number.NaN]) {
        expect(validationErrorOf({ connectionString: pg.url, [field]: value }).field).toBe(field);
      }
    }
  });

  it('constructor - refuses a preparedStatements that is not a boolean', () => {
    expect(validationErrorOf({ connectionString: pg.url, preparedStatements: 'yes' }).field).toBe(
      'preparedStatements',
    );
  });

  it('constructor - accepts postgres:// as well as postgresql://', async () => {
    const store = await pg.store({ connectionString: pg.url.replace(/^postgresql:/, 'postgres:') });
    const id = await store.createSession();
    expect(await store.getSession(id)).not.toBeNull();
  });
});

describe('pool', () => {
  it('defaults - min 2, max 10, bounded connect and query timeouts', async () => {
    const store = await pg.store();
    expect(store.pool.options).toMatchObject({
      min: 2,
      max: 10,
      connectionTimeoutMillis: 10_000,
      query_timeout: 60_000,
    });
  });

  it('config - a PoolConfig is used and the pool is the store own: close() ends it', async () => {
    const store = await pg.store({ pool: { connectionString: pg.url, max: 3 } });
    await store.createSession();
    expect(store.pool.options.max).toBe(3);
    await store.close();
    expect(store.pool.ended).toBe(true);
  });

  it('passed in - a pg.Pool given to the store stays open after close()', async () => {
    const pool = pg.pool();
    const store = await pg.store({ pool });
    expect(store.pool).toBe(pool);
    const id = await store.createSession({ title: 'kept' });
    await store.close();
    expect(pool.ended).toBe(false);
    const { rows } = await pool.query(`SELECT title FROM "${store.schema}".sessions WHERE id = $1`, [id]);
    expect(rows).toEqual([{ title: 'kept' }]);
    await expect(store.getSessions()).rejects.toSatisfy(MemoryClosedError.isInstance);
  });

  it('passed in - two stores with different schemas share one pool and its one connection', async () => {
    // One connection: both stores' prepared statements live in the same server session.
    const pool = pg.pool({ max: 1 });
    const [a, b] = await Promise.all([pg.store({ pool }), pg.store({ pool })]);
    for (let i = 0; i < 3; i++) {
      const [inA, inB] = await Promise.all([
        a.createSession({ title: `a${i}` }),
        b.createSession({ title: `b${i}` }),
      ]);
      await Promise.all([
        a.addMessage(inA, { role: 'user', content: 'to a' }),
        b.addMessage(inB, { role: 'user', content: 'to b' }),
      ]);
    }
    const [listA, listB] = await Promise.all([a.getSessions(), b.getSessions()]);
    expect(listA.map((s) => s.title).sort()).toEqual(['a0', 'a1', 'a2']);
    expect(listB.map((s) => s.title).sort()).toEqual(['b0', 'b1', 'b2']);
    expect((await a.getHistory(listA[0]!.id)).map((m) => m.content)).toEqual(['to a']);
  });

  it('passed in - a pool with max 1 is enough (schema setup holds one connection at a time)', async () => {
    const store = await pg.store({ pool: pg.pool({ max: 1 }) });
    const id = await store.createSession();
    await store.addMessage(id, { role: 'user', content: 'one connection' });
    expect(await store.getHistory(id)).toHaveLength(1);
  });

  it('counts - message counts and check() counts are numbers, not strings', async () => {
    const store = await pg.store();
    const id = await store.createSession();
    await store.addMessage(id, { role: 'user', content: 'a' });
    await store.addMessage(id, { role: 'assistant', content: 'b' });
    const [summary] = await store.getSessions();
    expect(summary!.messageCount).toBe(2);
    const health = await store.check();
    expect(health.sessions).toBe(1);
    expect(health.messages).toBe(2);
  });
});
