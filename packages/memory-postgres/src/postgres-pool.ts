import { ValidationError } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import type { PostgresPool } from 'kysely';
import pg from 'pg';
import { timestampsAsText } from './postgres-codecs.js';
import { probeConnection } from './postgres-pooler.js';
import { PreparedStatements } from './postgres-statements.js';

/** How a store reaches PostgreSQL; see `PostgresMemoryOptions`. */
export interface PostgresConnectionOptions {
  /** `postgres://` or `postgresql://` connection string; the store creates and owns a pool for it. */
  connectionString?: string;
  /**
   * A pg `PoolConfig` (the store creates and owns a pool from it), or an existing `pg.Pool`, which the store
   * uses as it is configured and leaves open on `close()`.
   */
  pool?: pg.PoolConfig | pg.Pool;
  /** Connect timeout of a pool the store creates, in ms; default 10,000. */
  connectionTimeoutMillis?: number;
  /**
   * Client-side limit on one statement of a pool the store creates, in ms (pg's `query_timeout`); default
   * 60,000; `0` for none. It bounds how long a call waits on a server that stopped answering.
   */
  queryTimeoutMillis?: number;
  /**
   * Run statements as named prepared statements, parsed and planned once per server connection. Default
   * `'auto'`: on when the pool's first connection is a server session of its own, off behind a pooler such as
   * PgBouncer, where a named statement could land on a server connection that another client's transaction
   * uses next (see `probeConnection`). `true` forces them (a
   * pooler that keeps them per client, as PgBouncer 1.21+ with `max_prepared_statements`); `false` never
   * names a statement.
   */
  preparedStatements?: boolean | 'auto';
}

/** The defaults of a pool the store creates: the original's pool size, bounded waits. */
export const POOL_DEFAULTS = {
  min: 2,
  max: 10,
  connectionTimeoutMillis: 10_000,
  queryTimeoutMillis: 60_000,
} as const;

/** A pool ready for Kysely, whether the store owns it, and where it points (password masked). */
export interface OpenedPool {
  /** What Kysely's `PostgresDialect` uses; its `end()` ends the pg pool only when the store owns it. */
  dialectPool: PostgresPool;
  /** The pg pool itself. */
  pool: pg.Pool;
  /** True when the store created the pool (and so ends it on `close()`). */
  owned: boolean;
  /** The server and database as text without a password. */
  location: string;
}

/** Validates the connection options and opens (or adopts) the pool. Throws `ValidationError` on bad input. */
export function openPool(options: PostgresConnectionOptions): OpenedPool {
  const { connectionString, pool } = options;
  if (connectionString !== undefined && pool !== undefined) {
    throw new ValidationError('connectionString', 'give either connectionString or pool, not both');
  }
  if (connectionString === undefined && pool === undefined) {
    throw new ValidationError('connectionString', 'required (or pool: a pg PoolConfig or pg.Pool)');
  }
  const connectionTimeoutMillis = timeout('connectionTimeoutMillis', options.connectionTimeoutMillis);
  const queryTimeoutMillis = timeout('queryTimeoutMillis', options.queryTimeoutMillis);
  if (connectionString !== undefined) assertConnectionString('connectionString', connectionString);
  const { preparedStatements = 'auto' } = options;
  if (typeof preparedStatements !== 'boolean' && preparedStatements !== 'auto') {
    throw new ValidationError('preparedStatements', "expected true, false or 'auto'");
  }
  const statements = preparedStatements === false ? undefined : new PreparedStatements();
  const naming = { statements, auto: preparedStatements === 'auto' };
  if (isPool(pool)) {
    const location = describe(pool.options ?? {});
    return { pool, owned: false, dialectPool: guarded(pool, false, naming), location };
  }
  if (pool !== undefined && (typeof pool !== 'object' || pool === null || Array.isArray(pool))) {
    throw new ValidationError('pool', 'expected a pg PoolConfig object or a pg.Pool');
  }
  const config: pg.PoolConfig = { ...pool, ...(connectionString === undefined ? {} : { connectionString }) };
  if (config.connectionString !== undefined)
    assertConnectionString('pool.connectionString', config.connectionString);
  const created = new pg.Pool({
    min: POOL_DEFAULTS.min,
    max: POOL_DEFAULTS.max,
    connectionTimeoutMillis: POOL_DEFAULTS.connectionTimeoutMillis,
    query_timeout: POOL_DEFAULTS.queryTimeoutMillis,
    keepAlive: true,
    application_name: 'flux-rag-memory',
    ...config,
    ...(connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis }),
    ...(queryTimeoutMillis === undefined ? {} : { query_timeout: queryTimeoutMillis }),
    // Timestamps are read as text, so microseconds survive, in whatever TimeZone the server has: no startup
    // `options` (PgBouncer refuses them) and no session SET (a transaction pooler does not keep it).
    types: timestampsAsText(config.types),
  });
  // An idle connection dropped by a server restart is reported here; the pool replaces it on next use, so
  // the event must not crash the process.
  created.on('error', () => {});
  return {
    pool: created,
    owned: true,
    dialectPool: guarded(created, true, naming),
    location: describe(config),
  };
}

/** Whether a pool names its statements: never (no `statements`), always, or once a probe found it direct. */
interface Naming {
  statements: PreparedStatements | undefined;
  auto: boolean;
}

/**
 * Wraps a pg pool for Kysely: every client it hands out has an `error` listener (pg emits `error` on a
 * checked-out client whose server went away, and without a listener that kills the process; the failing
 * query still rejects) and runs prepared statements when asked, and `end()` ends the pool only when the store
 * owns it. With `preparedStatements: 'auto'`, the first client checked out is probed once for the pool; a
 * probe that fails (the server went away) is repeated on the next checkout, and the error stands.
 */
function guarded(pool: pg.Pool, owned: boolean, naming: Naming): PostgresPool {
  const listening = new WeakSet<pg.PoolClient>();
  const ignore = () => {};
  let statements = naming.auto ? undefined : naming.statements;
  let decided = !naming.auto;
  let probe: Promise<void> | undefined;
  const decide = async (client: pg.PoolClient) => {
    if ((await probeConnection(client)).direct) statements = naming.statements;
    decided = true;
  };
  return {
    async connect() {
      const client = await pool.connect();
      if (!listening.has(client)) {
        listening.add(client);
        client.on('error', ignore);
      }
      if (!decided) {
        probe ??= decide(client);
        try {
          await probe;
        } catch (error) {
          probe = undefined;
          client.release(true);
          throw error;
        }
      }
      return statements ? statements.wrap(client) : client;
    },
    end: owned ? () => pool.end() : async () => {},
    // Kysely opens a control connection from these to cancel a query.
    options: pool.options,
    Client: (pool as unknown as { Client?: PostgresPool['Client'] }).Client,
  };
}

function isPool(value: unknown): value is pg.Pool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as pg.Pool).connect === 'function' &&
    typeof (value as pg.Pool).query === 'function' &&
    typeof (value as pg.Pool).end === 'function'
  );
}

function timeout(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new ValidationError(field, 'expected an integer number of milliseconds, 0 or more');
  }
  return value;
}

/** Refuses anything but a `postgres://` or `postgresql://` URL, without echoing it (it may hold a password). */
function assertConnectionString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new ValidationError(field, `expected a string, got ${typeof value}`);
  if (!/^postgres(ql)?:\/\//i.test(value)) {
    throw new ValidationError(field, 'expected a postgres:// or postgresql:// URL');
  }
  try {
    new URL(value);
  } catch {
    throw new ValidationError(field, `not a valid URL: ${maskSecrets(value)}`);
  }
}

/** `postgresql://user:***@host:port/database` from a connection string or a pool's settings. */
function describe(config: pg.PoolConfig): string {
  if (config.connectionString) return maskSecrets(config.connectionString);
  const host = typeof config.host === 'string' ? config.host : (process.env.PGHOST ?? 'localhost');
  const port = config.port ?? process.env.PGPORT ?? 5432;
  const user = typeof config.user === 'string' ? config.user : (process.env.PGUSER ?? '');
  const database = config.database ?? process.env.PGDATABASE ?? user;
  const password = config.password === undefined ? '' : ':***';
  return `postgresql://${user ? `${encodeURIComponent(user)}${password}@` : ''}${host}:${port}/${database}`;
}
