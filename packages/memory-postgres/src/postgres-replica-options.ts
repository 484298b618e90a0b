import { ValidationError } from '@flux-rag/memory-core';
import type pg from 'pg';
import { type OpenedPool, openPool, type PostgresConnectionOptions } from './postgres-pool.js';
import { ReadRouter } from './postgres-read-routing.js';
import { ReplicaServer } from './postgres-replica.js';

/** Read replicas of a store; see `PostgresMemoryOptions`. */
export interface PostgresReplicaOptions {
  /**
   * Streaming replicas (hot standbys) of the primary, each a `postgres://` URL, a pg `PoolConfig` (the store
   * creates and owns a pool for either, with the primary's timeouts and statement settings) or a `pg.Pool`
   * (used as it is, left open on `close()`). Reads go to them unless one may not have this store's writes yet:
   * a read of a session this store wrote, and every listing and search after any write of this store, goes to
   * the primary until a replica has replayed that write's commit. A replica that is down, not a standby, or
   * further behind than `maxReplicaLagMs` is skipped, and a read that fails on one is retried on the primary.
   * Default: none, every statement on the primary.
   */
  replicas?: ReadonlyArray<string | pg.PoolConfig | pg.Pool>;
  /**
   * A replica further behind than this (its replay lag plus the age of that measure), in ms, is skipped until it
   * catches up; default 5,000.
   */
  maxReplicaLagMs?: number;
  /** How long a replica that failed is skipped before it is checked again, in ms; default 1,000. */
  replicaRetryMillis?: number;
}

/** The defaults of the replica options, and how old a replica's status may be before a read checks again. */
export const REPLICA_DEFAULTS = {
  maxReplicaLagMs: 5_000,
  replicaRetryMillis: 1_000,
  statusMaxAgeMs: 100,
} as const;

/**
 * The store's read router over `primary` and the replicas of `options`, or `undefined` without replicas (the
 * store then runs on the primary's pool directly). Throws `ValidationError` naming the field, e.g.
 * `replicas[1]`, after ending the pools it had created.
 */
export function openReadRouter(
  options: PostgresReplicaOptions & PostgresConnectionOptions,
  primary: OpenedPool,
): ReadRouter | undefined {
  const { replicas } = options;
  if (replicas === undefined) return undefined;
  if (!Array.isArray(replicas)) {
    throw new ValidationError('replicas', 'expected an array of URLs, pg PoolConfigs or pg.Pools');
  }
  const timing = {
    maxLagMs: millis('maxReplicaLagMs', options.maxReplicaLagMs, REPLICA_DEFAULTS.maxReplicaLagMs),
    retryMs: millis('replicaRetryMillis', options.replicaRetryMillis, REPLICA_DEFAULTS.replicaRetryMillis),
    statusMaxAgeMs: REPLICA_DEFAULTS.statusMaxAgeMs,
  };
  if (replicas.length === 0) return undefined;
  const opened: OpenedPool[] = [];
  try {
    replicas.forEach((replica: unknown, index) => {
      const connection: PostgresConnectionOptions = {
        ...options,
        connectionString: undefined,
        pool: undefined,
      };
      if (typeof replica === 'string') connection.connectionString = replica;
      else if (typeof replica === 'object' && replica !== null && !Array.isArray(replica)) {
        connection.pool = replica as pg.PoolConfig | pg.Pool;
      } else {
        throw new ValidationError(`replicas[${index}]`, 'expected a URL, a pg PoolConfig or a pg.Pool');
      }
      try {
        opened.push(openPool(connection));
      } catch (error) {
        if (!ValidationError.isInstance(error)) throw error;
        throw new ValidationError(`replicas[${index}]`, error.message.replace(/^Invalid [^:]+: /, ''));
      }
    });
  } catch (error) {
    for (const pool of opened) void pool.dialectPool.end().catch(() => {});
    throw error;
  }
  const servers = opened.map(
    (pool) => new ReplicaServer(pool.dialectPool, pool.location, timing, () => pool.dialectPool.end()),
  );
  return new ReadRouter(primary.dialectPool, primary.location, servers);
}

function millis(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new ValidationError(field, 'expected an integer number of milliseconds, 0 or more');
  }
  return value;
}
