import { readFileSync } from 'node:fs';
import { BackendUnavailableError, type ConversationMemory } from '@flux-rag/memory-core';
import {
  type EmbeddedPostgresServer,
  startEmbeddedPostgres,
  startPgBouncer,
  type TestPgBouncer,
  uniqueName,
} from '@flux-rag/test-postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConversationMemory, type PostgresMemoryOptions } from '../src/index.js';

/**
 * How the stores reach the server. `pgbouncer`: through PgBouncer in transaction mode with its defaults,
 * which holds a query waiting for a server connection up to its `query_wait_timeout` (120 s) and, once a
 * login to the server failed, refuses new ones for `server_login_retry` (15 s): there the store's own
 * `queryTimeoutMillis` is what bounds a call, and recovery after a restart takes up to that retry delay.
 */
export type FaultPath = 'server' | 'pgbouncer';

/** The store's query timeout through the pooler: what answers while PgBouncer waits for a server. */
const POOLED_QUERY_TIMEOUT_MS = 3_000;

/**
 * The fault tests, on a dedicated embedded server they stop, suspend and restart (whatever
 * MEMORY_TEST_POSTGRES_URL says), the stores reaching it by `path`.
 */
export function describeFaults(path: FaultPath): void {
  let server: EmbeddedPostgresServer;
  let bouncer: TestPgBouncer | undefined;
  let admin: pg.Pool;
  const stores: ConversationMemory[] = [];
  const pooled = path === 'pgbouncer';
  /** How long a call may take while the server is away: at once directly, the store's timeout behind the pooler. */
  const callBound = pooled ? POOLED_QUERY_TIMEOUT_MS + 2_000 : 10_000;
  /** How long the same store may take to work again after a restart. */
  const recovery = pooled ? 30_000 : 5_000;

  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    if (pooled) bouncer = await startPgBouncer(server.url);
    admin = new pg.Pool({ connectionString: server.url, max: 2 });
    admin.on('error', () => {});
  });
  afterEach(async () => {
    await server.start();
    await Promise.allSettled(stores.splice(0).map((store) => store.close()));
  });
  afterAll(async () => {
    await admin?.end().catch(() => {});
    await bouncer?.stop();
    await server?.destroy();
  });

  function open(options: Partial<PostgresMemoryOptions> = {}) {
    const store = new PostgresConversationMemory({
      connectionString: bouncer?.url ?? server.url,
      schema: uniqueName(),
      ...(pooled ? { queryTimeoutMillis: POOLED_QUERY_TIMEOUT_MS } : {}),
      ...options,
    });
    stores.push(store);
    return store;
  }

  /** `probe` until it succeeds, within {@link recovery}. */
  function recovered<T>(probe: () => Promise<T>): Promise<T> {
    return eventually(async () => probe().catch(() => undefined), 'the store to work again', recovery);
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );
  }

  async function eventually<T>(
    probe: () => Promise<T | undefined>,
    what: string,
    withinMs = 5_000,
  ): Promise<T> {
    const deadline = performance.now() + withinMs;
    while (performance.now() < deadline) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  function isAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** The postmaster and every process it forked, from /proc (Linux). */
  function serverProcesses(): number[] {
    const postmaster = server.pid!;
    const children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim();
    return [postmaster, ...children.split(/\s+/).filter(Boolean).map(Number)];
  }

  /**
   * Holds an EXCLUSIVE lock on the store's messages table from another session, so that a write which has
   * already updated its session row waits at its INSERT, in the middle of its transaction.
   */
  async function lockMessages(schema: string) {
    const locker = new pg.Client({ connectionString: server.url });
    locker.on('error', () => {});
    await locker.connect();
    const lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".messages IN EXCLUSIVE MODE`);
    return {
      /** Pid of the locking session's backend. */
      lockerPid,
      /** Pid of the store's backend once it waits at its INSERT. */
      waitingWriter: () =>
        eventually(async () => {
          const { rows } = await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query ILIKE 'insert into%messages%' AND pid <> $1`,
            [lockerPid],
          );
          return rows[0]?.pid;
        }, 'the write to wait at its INSERT'),
      release: async () => {
        await locker.query('ROLLBACK').catch(() => {});
        await locker.end().catch(() => {});
      },
    };
  }

  describe('server stopped', () => {
    it('calls - reject with BackendUnavailableError, each within its bound, and the same store works after a restart', async () => {
      const store = open();
      const id = await store.createSession({ title: 'before' });
      await store.addMessage(id, { role: 'user', content: 'before the stop' });
      await server.stop();
      const started = performance.now();
      const calls: Array<() => Promise<unknown>> = [
        () => store.addMessage(id, { role: 'user', content: 'during the stop' }),
        () => store.getHistory(id),
        () => store.getSessions(),
        () => store.createSession(),
        () => store.updateSessionTitle(id, 'during'),
        () => store.deleteSession(id),
      ];
      for (const call of calls) {
        const callStarted = performance.now();
        const error = await rejection(call());
        expect(BackendUnavailableError.isInstance(error), String(error)).toBe(true);
        // Bounded: a refused connection fails fast (directly), a query PgBouncer holds fails at the store's
        // query timeout; the limit here is above either and far below a hang.
        expect(performance.now() - callStarted).toBeLessThan(callBound);
      }
      expect(performance.now() - started).toBeLessThan(calls.length * callBound);
      const health = await store.check();
      expect(health).toMatchObject({ backend: 'postgres', reachable: false });
      expect(health.error).toMatch(/unavailable/i);

      await server.start();
      expect((await recovered(() => store.getHistory(id))).map((m) => m.content)).toEqual([
        'before the stop',
      ]);
      await store.addMessage(id, { role: 'assistant', content: 'after the restart' });
      expect((await store.getSession(id))!.title).toBe('before');
      expect((await store.getSessions())[0]!.messageCount).toBe(2);
      expect(await store.check()).toMatchObject({ reachable: true, sessions: 1, messages: 2 });
    });

    it('init - a store first used while the server is down sets its schema up on the next call', async () => {
      await server.stop();
      const store = open();
      expect(BackendUnavailableError.isInstance(await rejection(store.createSession()))).toBe(true);
      await server.start();
      const id = await recovered(() => store.createSession());
      expect(await store.getSession(id)).not.toBeNull();
    });
  });

  describe('server hung', () => {
    it('calls - reject within the connect and query timeouts instead of hanging, and recover after', async () => {
      const store = open({ connectionTimeoutMillis: 1_000, queryTimeoutMillis: 1_000 });
      const id = await store.createSession();
      const suspended = serverProcesses();
      for (const pid of suspended) process.kill(pid, 'SIGSTOP');
      try {
        const started = performance.now();
        const errors = await Promise.all([
          rejection(store.getHistory(id)),
          rejection(store.addMessage(id, { role: 'user', content: 'into the void' })),
          rejection(store.getSessions()),
        ]);
        for (const error of errors)
          expect(BackendUnavailableError.isInstance(error), String(error)).toBe(true);
        expect(performance.now() - started).toBeLessThan(10_000);
      } finally {
        for (const pid of suspended) process.kill(pid, 'SIGCONT');
      }
      const history = await recovered(() => store.getHistory(id));
      // The write whose BEGIN or INSERT timed out was rolled back with its session (or never ran).
      expect(history.length).toBeLessThanOrEqual(1);
      expect((await store.getSessions())[0]!.messageCount).toBe(history.length);
      await store.addMessage(id, { role: 'user', content: 'after' });
      expect((await store.getHistory(id)).at(-1)!.content).toBe('after');
    });
  });

  describe('transaction cut', () => {
    async function writeCutBy(cut: (writerPid: number, lockerPid: number) => Promise<void>) {
      const schema = uniqueName();
      const store = open({ schema });
      const id = await store.createSession({ title: 't' });
      await store.addMessage(id, { role: 'user', content: 'kept' });
      const [before] = await store.getSessions();
      const lock = await lockMessages(schema);
      try {
        const pending = rejection(store.addMessage(id, { role: 'user', content: 'cut' }));
        await cut(await lock.waitingWriter(), lock.lockerPid);
        expect(BackendUnavailableError.isInstance(await pending)).toBe(true);
      } finally {
        await lock.release();
      }
      await server.start();
      expect((await recovered(() => store.getHistory(id))).map((m) => m.content)).toEqual(['kept']);
      const [after] = await store.getSessions();
      expect(after).toEqual(before);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM "${schema}".messages`);
      expect(rows[0].n).toBe(1);
    }

    it('addMessage - a backend terminated between the session update and the insert leaves no partial write', async () => {
      await writeCutBy(async (pid) => {
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      });
    });

    it('addMessage - the server stopped in the middle of the transaction leaves no partial write', async () => {
      await writeCutBy(async (writerPid, lockerPid) => {
        // A fast shutdown ends every backend, the lock holder too: were the lock released before the writer
        // died, the write could still commit. The lock holder is suspended until the writer is gone.
        process.kill(lockerPid, 'SIGSTOP');
        const stopping = server.stop();
        try {
          await eventually(
            async () => (isAlive(writerPid) ? undefined : true),
            'the writer to be terminated',
          );
        } finally {
          process.kill(lockerPid, 'SIGCONT');
        }
        await stopping;
      });
    });

    it('importRecords - a batch cut after its sessions were inserted leaves none of the batch', async () => {
      const schema = uniqueName();
      const store = open({ schema });
      await store.init();
      const lock = await lockMessages(schema);
      try {
        const at = '2025-01-01T00:00:00.000000Z';
        const pending = rejection(
          store.importRecords([
            {
              type: 'session',
              id: 'imp',
              title: null,
              createdAt: at,
              updatedAt: at,
              metadata: {},
              ownerId: null,
            },
            {
              type: 'message',
              id: 'imp-m',
              sessionId: 'imp',
              role: 'user',
              content: 'x',
              createdAt: at,
              metadata: {},
            },
          ]),
        );
        await admin.query('SELECT pg_terminate_backend($1)', [await lock.waitingWriter()]);
        expect(BackendUnavailableError.isInstance(await pending)).toBe(true);
      } finally {
        await lock.release();
      }
      expect(await store.getSession('imp')).toBeNull();
      expect(await store.check()).toMatchObject({ sessions: 0, messages: 0 });
    });
  });
}
