import { BackendUnavailableError, MemoryError, SessionNotFoundError } from '@flux-rag/memory-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';
import { isUnavailable, mapPostgresError } from './postgres-errors.js';

const pgServer = usePostgres();

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('mapPostgresError', () => {
  it('isUnavailable - connection failures, shutdowns, resource limits and timeouts; not data errors', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'ENOTFOUND',
      '08006',
      '08001',
      '57P01',
      '57P03',
      '53300',
      '57014',
    ]) {
      expect(isUnavailable(withCode(code)), code).toBe(true);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Query read timeout',
      'Cannot use a pool after calling end on the pool',
    ]) {
      expect(isUnavailable(new Error(message)), message).toBe(true);
    }
    expect(isUnavailable(new AggregateError([withCode('ECONNREFUSED')], ''))).toBe(true);
    expect(isUnavailable(new Error('wrapped', { cause: withCode('ECONNRESET') }))).toBe(true);
    for (const code of ['23505', '42P01', '28P01', '3D000', '22P02'])
      expect(isUnavailable(withCode(code)), code).toBe(false);
    expect(isUnavailable('a string')).toBe(false);
  });

  it('maps - unavailable to BackendUnavailableError, others to MemoryError, contract errors unchanged, masked', () => {
    const location = 'postgresql://u:***@h:5432/db';
    const down = mapPostgresError(
      withCode('ECONNREFUSED', 'connect ECONNREFUSED postgresql://u:pw@h'),
      location,
    );
    expect(BackendUnavailableError.isInstance(down)).toBe(true);
    expect(down.message).toContain(location);
    expect(down.message).not.toContain(':pw@');
    const other = mapPostgresError(withCode('42P01', 'relation "x" does not exist'), location);
    expect(other.code).toBe('MEMORY_ERROR');
    expect(other.message).toContain('42P01');
    const contract = new SessionNotFoundError('s');
    expect(mapPostgresError(contract, location)).toBe(contract);
    expect(MemoryError.isInstance(mapPostgresError('text', location))).toBe(true);
  });

  it('pool ended - a pg.Pool ended by its owner makes calls reject with BackendUnavailableError', async () => {
    const pool = new pg.Pool({ connectionString: pgServer.url, max: 1 });
    const store = await pgServer.store({ pool });
    await store.createSession();
    await pool.end();
    const error = await store.getSessions().catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(error), String(error)).toBe(true);
  });
});
