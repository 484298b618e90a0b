import { AsyncLocalStorage } from 'node:async_hooks';
import { UnsupportedCapabilityError, ValidationError } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { type Lsn, parseLsn, type ReplicaServer } from './postgres-replica.js';

/** One server of a store with replicas, as `check()` reports it (URL masked). */
export interface PostgresServerHealth {
  /** `primary` takes every write; a `replica` serves reads that cannot miss this store's writes. */
  readonly role: 'primary' | 'replica';
  /** The server's URL or address, password masked. */
  readonly location: string;
  /**
   * `up`; for a replica also `down` (unreachable: skipped, checked again later), `lagging` (further behind
   * than `maxReplicaLagMs`: skipped) or `not a standby` (not in recovery: never read from).
   */
  readonly state: 'up' | 'down' | 'lagging' | 'not a standby';
  /** A replica's replay lag, in ms (0 when it has replayed all it received). */
  readonly lagMs?: number;
  /** A replica's replay position (`pg_last_wal_replay_lsn()`). */
  readonly replayLsn?: string;
  /** Reads this server served since the store opened. */
  readonly reads: number;
  /** Why a replica is down, masked. */
  readonly error?: string;
}

/** Where the statements of the current call go, and what a write learned. */
type Context =
  | { readonly kind: 'replica'; readonly replica: ReplicaServer }
  | { readonly kind: 'primary' }
  | { readonly kind: 'write'; readonly write: WriteCapture };

/** What the primary's connection saw of a write: whether it began and committed, and where its commit ended. */
interface WriteCapture {
  began: boolean;
  commitSent: boolean;
  lsn: Lsn | null;
}

const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const COMMIT = /^\s*commit\s*;?\s*$/i;
/**
 * The COMMIT of a write and, in the same round trip (simple query protocol, two statements), the primary's WAL
 * insert position right after it. That position is at or past the end of the commit record, so a replica whose
 * replay position reaches it has made the write visible. Not `pg_current_wal_lsn()`: with `synchronous_commit`
 * off the commit record may not be written out yet, and that position could precede it. Not the insert position
 * read inside the transaction: the commit record comes after it.
 */
const COMMIT_AND_POSITION = 'COMMIT; SELECT pg_current_wal_insert_lsn()::text AS lsn';
const POSITION = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';

/** Sessions whose last write position is remembered one by one; beyond, the oldest fold into one floor. */
const TRACKED_SESSIONS = 10_000;

const max = (a: Lsn | null, b: Lsn | null): Lsn | null => (a === null ? b : b === null || a > b ? a : b);

/**
 * Sends each read of a store to a replica that cannot miss what this store wrote, else to the primary.
 *
 * Writes run on the primary; each records the primary's WAL position at its commit for the sessions it
 * touched, and for the store. A read of one session needs a replica that has replayed that session's last
 * write; listings and searches need one that has replayed every write of this store. Replicas' replay
 * positions come from {@link ReplicaServer} checks, made in the background; a read never waits for one: it goes
 * to the primary meanwhile. A read that fails on a replica is retried on the primary (a `ValidationError` or
 * `UnsupportedCapabilityError`, such as a refused filter, is not: the primary would refuse it too).
 *
 * The routing follows the call through `AsyncLocalStorage`: {@link pool}, the pool Kysely and the write path
 * use, hands out a replica's connection inside a replica read and the primary's otherwise.
 */
export class ReadRouter {
  /** The pool the store's queries and transactions use: it connects where the current call is routed. */
  readonly pool: PostgresPool;
  readonly #primary: PostgresPool;
  readonly #primaryLocation: string;
  readonly #replicas: readonly ReplicaServer[];
  readonly #context = new AsyncLocalStorage<Context>();
  readonly #wrapped = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  /** Each recently written session's last commit position. */
  readonly #sessions = new Map<string, Lsn>();
  /** What every read needs: schema setup, writes to every session, sessions no longer tracked one by one. */
  #floor: Lsn | null = null;
  /** What listings and searches need: the last write of this store. */
  #lastWrite: Lsn | null = null;
  /** True until the floor is known: at first (schema setup just ran), and after a write whose end is unknown. */
  #floorUnknown = true;
  #primaryReads = 0;
  #turn = 0;

  constructor(primary: PostgresPool, primaryLocation: string, replicas: readonly ReplicaServer[]) {
    this.#primary = primary;
    this.#primaryLocation = primaryLocation;
    this.#replicas = replicas;
    this.pool = {
      connect: () => this.#connect(),
      end: () => this.end(),
      options: primary.options,
      Client: primary.Client,
    } as PostgresPool;
  }

  /**
   * Runs the read `work` on a replica that has replayed what it needs (this store's writes to `sessionId`, or
   * all its writes when `null`), else on the primary; retries it on the primary when it fails on a replica.
   * A read nested in another read or in a write stays where that one runs.
   */
  async read<T>(sessionId: string | null, work: () => Promise<T>): Promise<T> {
    if (this.#context.getStore() !== undefined) return work();
    if (this.#floorUnknown) await this.#learnFloor();
    // While the floor is unknown (the primary did not answer), no replica can be shown to be recent enough.
    const replica = this.#floorUnknown ? undefined : this.#pick(this.#needed(sessionId));
    if (replica !== undefined) {
      try {
        const result = await this.#context.run({ kind: 'replica', replica }, work);
        replica.reads++;
        return result;
      } catch (error) {
        // Refused input would be refused by the primary too; anything else (an unavailable server, an error
        // mapped to a MemoryError on the way, a query cancelled by recovery) is the replica's: retried there.
        if (ValidationError.isInstance(error) || UnsupportedCapabilityError.isInstance(error)) throw error;
        replica.failed(error);
      }
    }
    const result = await this.#context.run({ kind: 'primary' }, work);
    this.#primaryReads++;
    return result;
  }

  /**
   * Runs the write `work` on the primary and records where its commit ended, for `sessionIds` (or, with
   * `'all'`, for every session). When that position cannot be known (the connection failed during COMMIT),
   * every read goes to the primary until it is learned again.
   */
  async write<T>(sessionIds: readonly string[] | 'all', work: () => Promise<T>): Promise<T> {
    const write: WriteCapture = { began: false, commitSent: false, lsn: null };
    let result: T;
    try {
      result = await this.#context.run({ kind: 'write', write }, work);
    } catch (error) {
      // A transaction that failed before its COMMIT was rolled back: nothing to wait for. A COMMIT without an
      // answer, or a statement outside a transaction, may have written.
      if (write.lsn !== null) this.#record(sessionIds, write.lsn);
      else if (write.commitSent || !write.began) await this.#recordCurrent(sessionIds);
      throw error;
    }
    // A statement outside a transaction (a rename) committed on its own: the position after it will do.
    if (write.lsn === null) await this.#recordCurrent(sessionIds);
    else this.#record(sessionIds, write.lsn);
    return result;
  }

  /**
   * Runs `work` on the primary as a read that is not counted and changes nothing: `check()`'s own queries. Any
   * other statement the router cannot classify (outside {@link read}, {@link write} and this) may have written
   * (schema setup, a hook added to the store later): after it, the next read first learns the primary's
   * position as a floor, so no replica serves anything older.
   */
  inspect<T>(work: () => Promise<T>): Promise<T> {
    return this.#context.run({ kind: 'primary' }, work);
  }

  /**
   * Every server: role, state, lag and reads served. A replica whose status is older than reads would accept
   * (or that is down, whatever its retry delay) is checked first; a fresh status is reported as it is, so that
   * calling `check()` does not itself speed up the routing it reports on.
   */
  async servers(): Promise<PostgresServerHealth[]> {
    await Promise.all(this.#replicas.map((replica) => replica.refreshIfStale()));
    const primary: PostgresServerHealth = {
      role: 'primary',
      location: this.#primaryLocation,
      state: 'up',
      reads: this.#primaryReads,
    };
    return [
      primary,
      ...this.#replicas.map((replica): PostgresServerHealth => {
        const lagging = replica.state === 'up' && (replica.lagMs ?? 0) > replica.maxLagMs;
        return {
          role: 'replica',
          location: replica.location,
          state: lagging ? 'lagging' : replica.state === 'unknown' ? 'down' : replica.state,
          ...(replica.lagMs === null ? {} : { lagMs: replica.lagMs }),
          ...(replica.replayLsn === null ? {} : { replayLsn: formatLsn(replica.replayLsn) }),
          reads: replica.reads,
          ...(replica.lastError === undefined ? {} : { error: maskSecrets(replica.lastError) }),
        };
      }),
    ];
  }

  /** Ends the replicas' pools the store owns and the primary's (when owned). */
  async end(): Promise<void> {
    await Promise.allSettled(this.#replicas.map((replica) => replica.end()));
    await this.#primary.end();
  }

  #needed(sessionId: string | null): Lsn | null {
    return max(this.#floor, sessionId === null ? this.#lastWrite : (this.#sessions.get(sessionId) ?? null));
  }

  /** The next usable replica in turn, so reads spread over them. */
  #pick(needed: Lsn | null): ReplicaServer | undefined {
    const now = Date.now();
    const count = this.#replicas.length;
    for (let i = 0; i < count; i++) {
      const replica = this.#replicas[(this.#turn + i) % count]!;
      if (replica.usable(needed, now)) {
        this.#turn = (this.#turn + i + 1) % count;
        return replica;
      }
    }
    return undefined;
  }

  #record(sessionIds: readonly string[] | 'all', lsn: Lsn): void {
    this.#lastWrite = max(this.#lastWrite, lsn);
    if (sessionIds === 'all') {
      this.#floor = max(this.#floor, lsn);
      return;
    }
    for (const id of sessionIds) {
      this.#sessions.delete(id);
      this.#sessions.set(id, lsn);
    }
    // The oldest entries (Map order is insertion order) fold into the floor: memory stays bounded, and a read
    // of a forgotten session still waits for at least its write.
    while (this.#sessions.size > TRACKED_SESSIONS) {
      const [oldest, position] = this.#sessions.entries().next().value as [string, Lsn];
      this.#sessions.delete(oldest);
      this.#floor = max(this.#floor, position);
    }
  }

  /** Records the primary's current position for `sessionIds`; if the primary does not answer, the floor is unknown. */
  async #recordCurrent(sessionIds: readonly string[] | 'all'): Promise<void> {
    try {
      this.#record(sessionIds, await this.#primaryPosition());
    } catch {
      this.#floorUnknown = true;
    }
  }

  /** Before the first read and after a write of unknown end: everything the primary has is the floor. */
  async #learnFloor(): Promise<void> {
    try {
      const lsn = await this.#primaryPosition();
      this.#floor = max(this.#floor, lsn);
      this.#lastWrite = max(this.#lastWrite, lsn);
      this.#floorUnknown = false;
    } catch {
      // The read goes to the primary, where its own error, if any, stands.
    }
  }

  async #primaryPosition(): Promise<Lsn> {
    const client = await this.#primary.connect();
    let broken = false;
    try {
      const { rows } = await client.query<{ lsn: string }>(POSITION, []);
      return parseLsn(rows[0]?.lsn)!;
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      (client.release as (destroy?: boolean) => void)(broken);
    }
  }

  async #connect(): Promise<PostgresPoolClient> {
    const context = this.#context.getStore();
    if (context?.kind === 'replica') return context.replica.pool.connect();
    const client = await this.#primary.connect();
    let wrapped = this.#wrapped.get(client);
    if (wrapped === undefined) {
      wrapped = this.#capturing(client);
      this.#wrapped.set(client, wrapped);
    }
    return wrapped;
  }

  /** A primary connection that, inside a write, sends COMMIT with the position query and records the answer. */
  #capturing(client: PostgresPoolClient): PostgresPoolClient {
    const context = this.#context;
    const query = (text: unknown, values?: readonly unknown[]) => {
      const store = context.getStore();
      if (store?.kind !== 'write' || typeof text !== 'string') {
        return (client.query as (t: unknown, v?: readonly unknown[]) => unknown)(text, values);
      }
      const { write } = store;
      if (BEGIN.test(text)) write.began = true;
      else if (COMMIT.test(text)) {
        write.commitSent = true;
        return client.query(COMMIT_AND_POSITION, []).then((results) => {
          const [commit, position] = results as unknown as [pg.QueryResult, pg.QueryResult<{ lsn: string }>];
          write.lsn = parseLsn(position.rows[0]?.lsn);
          return commit;
        });
      }
      return client.query(text, values ?? []);
    };
    return {
      query: query as PostgresPoolClient['query'],
      release: (destroy?: boolean) => {
        // Released outside any classified call: it may have written, where this store cannot tell.
        if (context.getStore() === undefined) this.#floorUnknown = true;
        (client.release as (destroy?: boolean) => void)(destroy);
      },
      get processID() {
        return (client as unknown as { processID?: number }).processID;
      },
    } as PostgresPoolClient;
  }
}

/** A WAL position as PostgreSQL prints it (`16/B374D848`). */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
