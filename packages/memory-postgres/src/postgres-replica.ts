import type { PostgresPool } from 'kysely';
import { isUnavailable } from './postgres-errors.js';

/** A WAL position (`pg_lsn`) as a number, so positions compare with `<`. */
export type Lsn = bigint;

/** `'16/B374D848'` (how PostgreSQL prints a `pg_lsn`) as a number; `null` for SQL NULL. */
export function parseLsn(text: string | null | undefined): Lsn | null {
  if (text === null || text === undefined) return null;
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text);
  if (!match) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/**
 * One round trip on a standby: whether it still is one, what it has replayed, and how far behind it is. The
 * lag is 0 while it has replayed all it received (an idle primary sends nothing, and the age of the last
 * replayed commit would grow forever), else the age of the last commit it replayed: a replica with replay
 * paused, or slower than the primary, ages in real time.
 */
const STATUS_SQL = `SELECT pg_is_in_recovery() AS standby,
  pg_last_wal_replay_lsn()::text AS replay,
  CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE floor(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000) END AS lag_ms`;

/** What the store knows of a replica. */
export type ReplicaState = 'unknown' | 'up' | 'down' | 'not a standby';

/** Settings of the replica checks; see `PostgresMemoryOptions`. */
export interface ReplicaTiming {
  /** A replica further behind than this is skipped. */
  readonly maxLagMs: number;
  /** How long a replica that failed is skipped before it is checked again. */
  readonly retryMs: number;
  /** How old a status may be before a read triggers a new check (in the background). */
  readonly statusMaxAgeMs: number;
}

/**
 * A read replica and what the store last learned of it: its replay position and lag, refreshed by one cheap
 * query at a time, in the background, when a read finds the status old or behind what it needs. A replica
 * that fails a check or a read is `down` until `retryMs` has passed; one that answers but is no longer in
 * recovery (promoted, or a primary given by mistake) is never read from: it would not receive this store's
 * writes.
 */
export class ReplicaServer {
  state: ReplicaState = 'unknown';
  /** `pg_last_wal_replay_lsn()` at the last check. */
  replayLsn: Lsn | null = null;
  /** Lag at the last check, in ms. */
  lagMs: number | null = null;
  /** When the last check answered (or failed), `Date.now()`. */
  checkedAt = 0;
  /** The last failure, masked by the caller before it is shown. */
  lastError: string | undefined;
  /** Reads this replica served. */
  reads = 0;
  #refreshing: Promise<void> | undefined;
  #retryAt = 0;

  constructor(
    /** The replica's pool, as Kysely uses it. */
    readonly pool: PostgresPool,
    /** The replica's URL or address, password masked. */
    readonly location: string,
    private readonly timing: ReplicaTiming,
    /** When a check may end the pool (the store owns it). */
    readonly end: () => Promise<void>,
  ) {}

  /**
   * True when a read that needs `needed` (a position this store wrote, or `null`) may go here now. Starts a
   * background check when the status is old or behind `needed`; never waits for it.
   */
  usable(needed: Lsn | null, now = Date.now()): boolean {
    const fresh = now - this.checkedAt < this.timing.statusMaxAgeMs;
    const behind = needed !== null && (this.replayLsn === null || this.replayLsn < needed);
    if (!fresh || (behind && this.state === 'up')) this.refresh(now);
    return (
      this.state === 'up' &&
      !behind &&
      this.lagMs !== null &&
      // The lag measured, plus the age of the measure: the replica may have stopped replaying since.
      this.lagMs + (now - this.checkedAt) <= this.timing.maxLagMs
    );
  }

  /** The lag past which the replica is skipped, in ms. */
  get maxLagMs(): number {
    return this.timing.maxLagMs;
  }

  /**
   * Checks the replica once (one query in flight at most); a `down` one only after its retry delay, unless
   * `force` (for `check()`).
   */
  refresh(now = Date.now(), force = false): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (this.state === 'down' && now < this.#retryAt && !force) return Promise.resolve();
    this.#refreshing = this.#check().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** For `check()`: checks the replica unless its status is fresh and it is up. */
  refreshIfStale(now = Date.now()): Promise<void> {
    const fresh = this.state === 'up' && now - this.checkedAt < this.timing.statusMaxAgeMs;
    return fresh ? Promise.resolve() : this.refresh(now, true);
  }

  /** Marks the replica down after a failed read, so that reads skip it until the retry delay has passed. */
  failed(error: unknown): void {
    if (!isUnavailable(error)) {
      // A query error is not the replica's fault unless it keeps failing: check it again, do not skip it.
      this.checkedAt = 0;
      return;
    }
    this.#down(error);
  }

  async #check(): Promise<void> {
    let client: Awaited<ReturnType<PostgresPool['connect']>> | undefined;
    try {
      client = await this.pool.connect();
      const { rows } = await client.query<{
        standby: boolean;
        replay: string | null;
        lag_ms: string | number;
      }>(STATUS_SQL, []);
      const row = rows[0]!;
      this.checkedAt = Date.now();
      this.lastError = undefined;
      if (!row.standby) {
        this.state = 'not a standby';
        this.replayLsn = null;
        this.lagMs = null;
        return;
      }
      this.state = 'up';
      this.replayLsn = parseLsn(row.replay);
      this.lagMs = Number(row.lag_ms ?? 0);
    } catch (error) {
      this.#down(error);
      client?.release(true);
      client = undefined;
    } finally {
      client?.release();
    }
  }

  #down(error: unknown): void {
    this.state = 'down';
    this.checkedAt = Date.now();
    this.#retryAt = this.checkedAt + this.timing.retryMs;
    this.lastError = error instanceof Error ? error.message : String(error);
  }
}
