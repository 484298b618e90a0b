import type { Database as BetterSqliteDatabase, Statement } from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SelectQueryNode,
} from 'kysely';
import { isBusyError } from './sqlite-errors.js';

/** Statements kept prepared per connection unless configured otherwise. */
export const DEFAULT_STATEMENT_CACHE_SIZE = 100;

// Multi-row INSERTs of a bulk import produce long, rarely repeated SQL: caching them would only push out the
// short statements that every call repeats.
const MAX_CACHED_SQL_LENGTH = 4_000;

// Waits between two tries at a locked file, in ms; the last one repeats until the busy timeout. Short, so that
// a writer that finds the lock taken gets in soon after it is released instead of sleeping through the gap.
const BUSY_DELAYS = [1, 1, 2, 2, 5, 5, 10] as const;

/** Configuration of {@link SqliteMemoryDriver}. */
export interface SqliteMemoryDriverConfig {
  /** Returns the open database; called once, when Kysely first needs a connection. */
  database: () => BetterSqliteDatabase;
  /** How long a statement that finds the file locked keeps being retried, in ms. */
  busyTimeoutMs: number;
  /** Prepared statements kept by SQL text; default {@link DEFAULT_STATEMENT_CACHE_SIZE}. */
  statementCacheSize?: number;
}

/**
 * A Kysely driver for one better-sqlite3 connection. It differs from Kysely's `SqliteDriver` in three ways:
 * - prepared statements are cached by SQL text (bounded, oldest evicted first), since preparing costs about
 *   as much as running a short query;
 * - transactions start with `BEGIN IMMEDIATE`, taking the write lock up front, so that two processes writing
 *   one file never deadlock on a read lock upgraded to a write lock (`SQLITE_BUSY_SNAPSHOT` in WAL mode);
 * - a statement that finds the file locked (`SQLITE_BUSY`) is retried asynchronously until `busyTimeoutMs`,
 *   instead of SQLite's busy handler sleeping on the thread: that sleep would block the event loop, and with
 *   it another store of the same process holding the lock, until the timeout.
 * Kysely serialises the use of the connection (the adapter says it does not support several).
 */
export class SqliteMemoryDriver implements Driver {
  readonly #config: SqliteMemoryDriverConfig;
  #connection: SqliteMemoryConnection | undefined;

  constructor(config: SqliteMemoryDriverConfig) {
    this.#config = { ...config };
  }

  async init(): Promise<void> {
    this.#connection = new SqliteMemoryConnection(
      this.#config.database(),
      this.#config.busyTimeoutMs,
      this.#config.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE,
    );
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#connection) throw new Error('The SQLite driver is not initialised');
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    _compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT ${quoteName(name)}`));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    _compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO ${quoteName(name)}`));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    _compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`RELEASE ${quoteName(name)}`));
  }

  async releaseConnection(): Promise<void> {
    // One connection, handed out under Kysely's mutex: nothing to give back.
  }

  /** Drops the cached statements; closing the database is its owner's job. */
  async destroy(): Promise<void> {
    this.#connection?.clearStatements();
    this.#connection = undefined;
  }
}

/** The one connection of {@link SqliteMemoryDriver}. */
export class SqliteMemoryConnection implements DatabaseConnection {
  readonly #db: BetterSqliteDatabase;
  readonly #busyTimeoutMs: number;
  readonly #capacity: number;
  readonly #statements = new Map<string, Statement>();

  constructor(db: BetterSqliteDatabase, busyTimeoutMs: number, capacity: number) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#capacity = capacity;
  }

  /** Number of statements currently cached. */
  get cachedStatements(): number {
    return this.#statements.size;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiledQuery;
    // Retrying is safe only where a failed try changed nothing: a statement outside a transaction (including
    // BEGIN itself), or COMMIT, which SQLite leaves pending when it reports SQLITE_BUSY.
    const retryable = !this.#db.inTransaction || sql === 'COMMIT';
    try {
      return this.#execute<R>(sql, parameters);
    } catch (error) {
      if (!retryable || !isBusyError(error)) throw error;
      return retryWhileBusy(() => this.#execute<R>(sql, parameters), this.#busyTimeoutMs);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query)) {
      throw new Error('The SQLite driver streams SELECT queries only');
    }
    const statement = this.#prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) yield { rows: [row as R] };
  }

  /** Finalises nothing by itself: better-sqlite3 finalises statements when they are collected or the database closes. */
  clearStatements(): void {
    this.#statements.clear();
  }

  #execute<R>(sql: string, parameters: readonly unknown[]): QueryResult<R> {
    const statement = this.#prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters as unknown[]) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters as unknown[]);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  #prepare(sql: string): Statement {
    const cached = this.#statements.get(sql);
    if (cached) return cached;
    const statement = this.#db.prepare(sql);
    if (sql.length <= MAX_CACHED_SQL_LENGTH && this.#capacity > 0) {
      if (this.#statements.size >= this.#capacity) {
        this.#statements.delete(this.#statements.keys().next().value as string);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * Runs `attempt` (synchronous SQLite work) and, while it fails because another connection holds the lock,
 * tries again after a short asynchronous wait, for at most `timeoutMs`; then the last error is thrown.
 */
export async function retryWhileBusy<T>(attempt: () => T, timeoutMs: number): Promise<T> {
  let deadline: number | undefined;
  for (let tries = 0; ; tries++) {
    try {
      return attempt();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      const now = Date.now();
      deadline ??= now + timeoutMs;
      const left = deadline - now;
      if (left <= 0) throw error;
      const delay = BUSY_DELAYS[Math.min(tries, BUSY_DELAYS.length - 1)]!;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    }
  }
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
