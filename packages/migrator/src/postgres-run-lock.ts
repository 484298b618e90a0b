import type pg from 'pg';
import { MigrationError } from './migration-errors.js';
import { connectMigrationClient } from './postgres-connection.js';

/**
 * Advisory lock class of a running migration ("migr"), keyed on the schema's name: the key the session lock of
 * earlier versions used, so that an older migrator and this one still exclude each other.
 */
const MIGRATION_LOCK_CLASS = 0x6d696772;
/** A run killed a moment ago holds the lock until the server (or the pooler) notices its connection is gone. */
const TAKE_ATTEMPTS = 30;
const TAKE_RETRY_MS = 100;
/**
 * A statement this often on the lock's connection, so that an `idle_in_transaction_session_timeout` (server) or
 * `idle_transaction_timeout` (PgBouncer) of more than this does not end the lock in the middle of a long run.
 */
const KEEPALIVE_MS = 10_000;

/**
 * The lock that lets one migration at a time write into a target schema: `pg_try_advisory_xact_lock` taken in
 * a transaction that a connection of the run's own keeps open until the run ends.
 *
 * Transaction-scoped, not a session lock: a transaction is what a transaction-mode pooler (PgBouncer) keeps on
 * one server connection, so the lock lives exactly as long as that transaction, whether the run reaches the
 * server directly or through the pooler; a session lock taken through a pooler would stay on whichever server
 * connection ran the statement, for as long as the pooler keeps it. Nothing is written to the target for it (no
 * lease table, no schema change). It ends with the run: released at the end, or dropped with the connection
 * when the process is killed (SIGKILL included: PgBouncer closes a server connection whose client left in the
 * middle of a transaction, and the server rolls it back), so a killed run never blocks the next one for longer
 * than it takes the server to notice.
 *
 * The run's writes happen on another connection: each write transaction calls {@link check}, which asks the
 * server whether this lock's server connection still holds it, so a lock lost in the middle of a run (the
 * connection cut, a timeout) stops the run before it writes more instead of letting two runs write at once.
 */
export class TargetRunLock {
  readonly #client: pg.Client;
  readonly #schema: string;
  readonly #location: string;
  /** The server process holding the lock (behind a pooler, the server connection its transaction is on). */
  readonly #pid: number;
  readonly #keepalive: ReturnType<typeof setInterval>;
  #released = false;

  private constructor(client: pg.Client, schema: string, location: string, pid: number) {
    this.#client = client;
    this.#schema = schema;
    this.#location = location;
    this.#pid = pid;
    // A failed keepalive is not reported here: check() finds the lock gone before the next write.
    this.#keepalive = setInterval(() => {
      this.#client.query('SELECT 1').catch(() => {});
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
  }

  /**
   * Takes the lock of `schema` on a connection of its own, retrying for about 3 s (a run killed a moment ago).
   * Throws `MigrationError` `TARGET_BUSY` when another run holds it; a driver error (server unreachable) as is.
   * `location` names the target (no credentials) in errors.
   */
  static async take(connectionString: string, schema: string, location: string): Promise<TargetRunLock> {
    const client = await connectMigrationClient(connectionString);
    try {
      await client.query('BEGIN');
      for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, TAKE_RETRY_MS));
        const result = await client.query<{ ok: boolean; pid: number }>(
          'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok, pg_backend_pid() AS pid',
          [MIGRATION_LOCK_CLASS, schema],
        );
        const row = result.rows[0];
        if (row?.ok === true) return new TargetRunLock(client, schema, location, row.pid);
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    await client.query('ROLLBACK').catch(() => {});
    await client.end().catch(() => {});
    throw new MigrationError('TARGET_BUSY', `another migration into ${location} is running`);
  }

  /**
   * Inside a write transaction of `client` (another connection of the run): throws `MigrationError`
   * `TARGET_FAILED` unless the server process this lock was taken on still holds it. Asked of the server, not of
   * this object: only the server knows whether a pooler or a timeout has ended the lock's transaction.
   */
  async check(client: pg.Client): Promise<void> {
    const result = await client.query<{ held: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND pid = $1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = $2::integer::oid AND objid = hashtext($3)::oid AND objsubid = 2
       ) AS held`,
      [this.#pid, MIGRATION_LOCK_CLASS, this.#schema],
    );
    if (result.rows[0]?.held !== true) {
      throw new MigrationError(
        'TARGET_FAILED',
        `${this.#location}: this run's migration lock is gone (its connection to the server was closed or timed ` +
          'out); stopped before writing more, run again to resume',
      );
    }
  }

  /** Releases the lock (its transaction rolled back, the connection closed). Idempotent; never throws. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#keepalive);
    // Rolled back before the connection ends: behind a pooler the server connection then goes back to its
    // pool instead of being closed for a client that left in the middle of a transaction.
    await this.#client.query('ROLLBACK').catch(() => {});
    await this.#client.end().catch(() => {});
  }
}
