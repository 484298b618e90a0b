import { readFileSync } from 'node:fs';
import { createMemory, resolveMemoryConfig, ValidationError } from '@flux-rag/memory-core';
import { freePort, type ReplicaPair, startReplicaPair, uniqueName } from '@flux-rag/test-postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresConversationMemory,
  type PostgresLocation,
  type PostgresMemoryOptions,
  postgresBackend,
} from '../src/index.js';

// One primary and one streaming replica for the whole file (started once: a pair takes a few seconds). These
// tests pause replay and stop the replica, so they never use the run's shared server.
let pair: ReplicaPair;
const stores: PostgresConversationMemory[] = [];

beforeAll(async () => {
  pair = await startReplicaPair();
}, 120_000);
afterEach(async () => {
  await pair.resumeReplay().catch(() => {});
  await pair.startReplica();
  await Promise.allSettled(stores.splice(0).map((store) => store.close()));
});
afterAll(() => pair?.destroy());

/** A store on the pair's primary with the replica, in `schema` (fresh by default). */
function open(options: Partial<PostgresMemoryOptions> = {}): PostgresConversationMemory {
  const store = new PostgresConversationMemory({
    connectionString: pair.primary.url,
    replicas: [pair.replica.url],
    schema: uniqueName(),
    ...options,
  });
  stores.push(store);
  return store;
}

/** Reads served by each server so far, from the store's own count: `[primary, replica]`. */
async function served(store: PostgresConversationMemory): Promise<[number, number]> {
  const servers = (await store.check()).servers ?? [];
  return [servers[0]?.reads ?? Number.NaN, servers[1]?.reads ?? Number.NaN];
}

/** Which server served `read`: compares the store's counts before and after it (one read at a time). */
async function serverOf<T>(
  store: PostgresConversationMemory,
  read: () => Promise<T>,
): Promise<{ server: 'primary' | 'replica'; value: T }> {
  const [primary, replica] = await served(store);
  const value = await read();
  const [primaryAfter, replicaAfter] = await served(store);
  if (replicaAfter === replica + 1 && primaryAfter === primary) return { server: 'replica', value };
  if (primaryAfter === primary + 1 && replicaAfter === replica) return { server: 'primary', value };
  throw new Error(
    `one read counted as ${primaryAfter - primary} on the primary, ${replicaAfter - replica} on the replica`,
  );
}

/** Repeats `read` until the replica serves it (the store learns the replica's position in the background). */
async function untilReplica<T>(
  store: PostgresConversationMemory,
  read: () => Promise<T>,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await serverOf(store, read);
    if (result.server === 'replica') return result.value;
    if (Date.now() > deadline) throw new Error(`reads did not move to the replica in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The replica's postmaster and its children (backends, startup, walreceiver), to suspend them. */
function replicaProcesses(): number[] {
  const postmaster = pair.replica.pid!;
  const children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim();
  return [postmaster, ...children.split(/\s+/).filter(Boolean).map(Number)];
}

const contents = (messages: readonly { content: string }[]) => messages.map((m) => m.content);

describe('postgres replicas', () => {
  it('read-your-writes - with replay paused, the writer reads its writes on the primary while another store reads the old state on the replica', async () => {
    const writer = open();
    const sessionId = await writer.createSession({ title: 'chat' });
    await writer.addMessage(sessionId, { role: 'user', content: 'one' });
    const other = open({ schema: writer.schema });
    await pair.waitForReplay();
    expect(contents(await untilReplica(other, () => other.getHistory(sessionId)))).toEqual(['one']);
    expect(contents(await untilReplica(writer, () => writer.getHistory(sessionId)))).toEqual(['one']);

    await pair.pauseReplay();
    await writer.addMessage(sessionId, { role: 'assistant', content: 'two' });
    await writer.updateSessionTitle(sessionId, 'renamed');

    // The writer: every read of that session, and its listings and searches, on the primary, fresh.
    const history = await serverOf(writer, () => writer.getHistory(sessionId, { limit: 50 }));
    expect(history).toMatchObject({ server: 'primary' });
    expect(contents(history.value)).toEqual(['one', 'two']);
    expect(await serverOf(writer, () => writer.getSession(sessionId))).toMatchObject({
      server: 'primary',
      value: { title: 'renamed' },
    });
    const page = await serverOf(writer, () => writer.getHistoryPage(sessionId, { limit: 1 }));
    expect(page.server).toBe('primary');
    expect(contents(page.value.items)).toEqual(['two']);
    expect(await serverOf(writer, () => writer.getSessions())).toMatchObject({
      server: 'primary',
      value: [{ id: sessionId, title: 'renamed', messageCount: 2 }],
    });
    const hits = await serverOf(writer, () => writer.searchMessages('two'));
    expect(hits.server).toBe('primary');
    expect(hits.value.items.map((hit) => hit.message.content)).toEqual(['two']);

    // The other store wrote nothing: it keeps reading the replica, which still has the old state.
    expect(await serverOf(other, () => other.getHistory(sessionId))).toMatchObject({ server: 'replica' });
    expect(contents(await other.getHistory(sessionId))).toEqual(['one']);
    expect((await other.getSession(sessionId))?.title).toBe('chat');
    expect((await other.searchMessages('two')).items).toEqual([]);

    // Replay resumes: the writer's reads move back to the replica once it has replayed the writes.
    await pair.resumeReplay();
    expect(contents(await untilReplica(writer, () => writer.getHistory(sessionId)))).toEqual(['one', 'two']);
    expect((await untilReplica(writer, () => writer.getSessions()))[0]?.title).toBe('renamed');
    expect(contents(await other.getHistory(sessionId))).toEqual(['one', 'two']);
  });

  it('read-your-writes - a session the store did not write reads from the replica while its own writes wait', async () => {
    const writer = open();
    const mine = await writer.createSession({ title: 'mine' });
    const foreign = open({ schema: writer.schema });
    const theirs = await foreign.createSession({ title: 'theirs' });
    await foreign.addMessage(theirs, { role: 'user', content: 'hello' });
    await pair.waitForReplay();
    await untilReplica(writer, () => writer.getHistory(theirs));
    await pair.pauseReplay();
    await writer.addMessage(mine, { role: 'user', content: 'fresh' });
    expect(await serverOf(writer, () => writer.getHistory(theirs))).toMatchObject({ server: 'replica' });
    expect(await serverOf(writer, () => writer.getHistory(mine))).toMatchObject({ server: 'primary' });
    expect(contents(await writer.getHistory(mine))).toEqual(['fresh']);
  });

  it('replica stopped and restarted mid-load - no failed read, no stale read of what the store wrote, reads back on the replica after', async () => {
    const store = open({ replicaRetryMillis: 100 });
    // Sessions written before the load: once replayed, their reads may go to the replica.
    const settled: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = await store.createSession({ title: `settled ${i}` });
      await store.addMessage(id, { role: 'user', content: `settled ${i}` });
      settled.push(id);
    }
    const live = await store.createSession({ title: 'live' });
    await pair.waitForReplay();
    await untilReplica(store, () => store.getHistory(settled[0]!));

    let running = true;
    let reads = 0;
    const failures: unknown[] = [];
    let written = 0;
    // The load: a writer that reads back each of its writes at once, and readers of the settled sessions.
    const writerLoop = (async () => {
      while (running) {
        written++;
        await store.addMessage(live, { role: 'user', content: `m${written}` });
        const history = await store.getHistory(live, { limit: 1 });
        if (history[0]?.content !== `m${written}`) failures.push(new Error(`stale read: m${written}`));
        reads++;
      }
    })().catch((error: unknown) => failures.push(error));
    const readerLoops = settled.map((id, i) =>
      (async () => {
        while (running) {
          const history = await store.getHistory(id);
          if (contents(history).join() !== `settled ${i}`) failures.push(new Error(`wrong history of ${id}`));
          reads++;
        }
      })().catch((error: unknown) => failures.push(error)),
    );
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(300);
    const [, beforeStop] = await served(store);
    await pair.stopReplica();
    const [primaryStopped, replicaStopped] = await served(store);
    await pause(500);
    const [primaryLater, replicaLater] = await served(store);
    await pair.startReplica();
    const [, atRestart] = await served(store);
    const deadline = Date.now() + 15_000;
    while ((await served(store))[1] <= atRestart + 20 && Date.now() < deadline) await pause(50);
    running = false;
    await Promise.all([writerLoop, ...readerLoops]);
    const [, end] = await served(store);

    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(beforeStop).toBeGreaterThan(0);
    // While the replica is down, no read is served there, and the load goes on on the primary.
    expect(replicaLater).toBe(replicaStopped);
    expect(primaryLater - primaryStopped).toBeGreaterThan(10);
    expect(end - atRestart).toBeGreaterThan(20);
    const replica = (await store.check()).servers?.[1];
    expect(replica).toMatchObject({ role: 'replica', state: 'up' });
  }, 60_000);

  it('a read that fails on the replica - hung mid-read, it is retried on the primary: no error, the replica skipped after', async () => {
    const store = open({ queryTimeoutMillis: 500, connectionTimeoutMillis: 500, replicaRetryMillis: 60_000 });
    const sessionId = await store.createSession({ title: 'chat' });
    await store.addMessage(sessionId, { role: 'user', content: 'one' });
    await pair.waitForReplay();
    await untilReplica(store, () => store.getHistory(sessionId));
    const [primaryBefore, replicaBefore] = await served(store);
    const suspended = replicaProcesses();
    for (const pid of suspended) process.kill(pid, 'SIGSTOP');
    try {
      // The first read goes to the replica (its status says up), times out there (500 ms), and runs on the
      // primary: it takes at least the timeout, which a read sent straight to the primary would not.
      const started = performance.now();
      expect(contents(await store.getHistory(sessionId))).toEqual(['one']);
      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      // The replica is now skipped: the next reads go straight to the primary.
      expect(contents(await store.getHistory(sessionId))).toEqual(['one']);
      expect((await store.getSession(sessionId))?.title).toBe('chat');
    } finally {
      for (const pid of suspended) process.kill(pid, 'SIGCONT');
    }
    const [primaryAfter, replicaAfter] = await served(store);
    expect(replicaAfter).toBe(replicaBefore);
    expect(primaryAfter).toBe(primaryBefore + 3);
  });

  it('read-your-writes - a write the routing does not know (a hook added later) still sends the next reads to the primary', async () => {
    /** A store with a write the router was not told about, as a hook added to the contract later would be. */
    class WithUnlistedWrite extends PostgresConversationMemory {
      async renameUnlisted(sessionId: string, title: string): Promise<void> {
        await this.db.updateTable('sessions').set({ title }).where('id', '=', sessionId).execute();
      }
    }
    const store = new WithUnlistedWrite({
      connectionString: pair.primary.url,
      replicas: [pair.replica.url],
      schema: uniqueName(),
    });
    stores.push(store);
    const sessionId = await store.createSession({ title: 'chat' });
    await pair.waitForReplay();
    await untilReplica(store, () => store.getSession(sessionId));
    await pair.pauseReplay();
    await store.renameUnlisted(sessionId, 'renamed');
    expect(await serverOf(store, () => store.getSession(sessionId))).toMatchObject({
      server: 'primary',
      value: { title: 'renamed' },
    });
  });

  it('maxReplicaLagMs - a replica further behind than the bound is skipped, even for a store that wrote nothing', async () => {
    const writer = open();
    const sessionId = await writer.createSession({ title: 'chat' });
    await writer.addMessage(sessionId, { role: 'user', content: 'one' });
    const reader = open({ schema: writer.schema, maxReplicaLagMs: 200 });
    await pair.waitForReplay();
    await untilReplica(reader, () => reader.getHistory(sessionId));
    await pair.pauseReplay();
    await writer.addMessage(sessionId, { role: 'user', content: 'two' });
    const deadline = Date.now() + 10_000;
    let state: string | undefined;
    while (state !== 'lagging' && Date.now() < deadline) state = (await reader.check()).servers?.[1]?.state;
    expect(state).toBe('lagging');
    const read = await serverOf(reader, () => reader.getHistory(sessionId));
    expect(read.server).toBe('primary');
    expect(contents(read.value)).toEqual(['one', 'two']);
  });

  it('check - reports each server with its role, state and lag, passwords masked; a replica down is skipped', async () => {
    const downPort = await freePort();
    const secretReplica = pair.replica.url.replace('postgres@', 'postgres:s3cret-replica@');
    const store = open({
      connectionString: pair.primary.url.replace('postgres@', 'postgres:s3cret-primary@'),
      replicas: [secretReplica, `postgresql://postgres:s3cret-down@127.0.0.1:${downPort}/postgres`],
      connectionTimeoutMillis: 1_000,
    });
    const sessionId = await store.createSession({ title: 'chat' });
    await pair.waitForReplay();
    for (let i = 0; i < 5; i++) expect(await store.getSession(sessionId)).toMatchObject({ title: 'chat' });
    const health = await store.check();
    const text = JSON.stringify(health);
    expect(text).not.toMatch(/s3cret/);
    expect(health.servers).toMatchObject([
      { role: 'primary', state: 'up', location: expect.stringContaining('postgres:***@127.0.0.1') },
      {
        role: 'replica',
        state: 'up',
        lagMs: expect.any(Number),
        replayLsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/),
        location: expect.stringContaining(`postgres:***@127.0.0.1:${pair.replica.port}`),
      },
      {
        role: 'replica',
        state: 'down',
        reads: 0,
        location: expect.stringContaining(`:${downPort}`),
        error: expect.any(String),
      },
    ]);
    expect(health.servers?.[0]?.reads).toBeGreaterThanOrEqual(0);
  });

  it('check - a server that is not a standby is never read from', async () => {
    const store = open({ replicas: [pair.primary.url] });
    const sessionId = await store.createSession({ title: 'chat' });
    for (let i = 0; i < 5; i++) await store.getSession(sessionId);
    const servers = (await store.check()).servers;
    expect(servers?.[1]).toMatchObject({ state: 'not a standby', reads: 0 });
    expect(servers?.[0]?.reads).toBe(5);
  });

  it('options - bad replicas and bounds are refused with the field named, passwords masked', () => {
    const refusal = (options: Partial<PostgresMemoryOptions>) => {
      try {
        open(options);
      } catch (error) {
        return error;
      }
      throw new Error('expected a ValidationError');
    };
    const bad = refusal({ replicas: ['mysql://u:hunter2@db/app'] });
    expect(ValidationError.isInstance(bad) && bad.field).toBe('replicas[0]');
    expect(String((bad as Error).message)).not.toContain('hunter2');
    const notArray = refusal({ replicas: 'postgresql://db/app' as never });
    expect(ValidationError.isInstance(notArray) && notArray.field).toBe('replicas');
    const second = refusal({ replicas: [pair.replica.url, 42 as never] });
    expect(ValidationError.isInstance(second) && second.field).toBe('replicas[1]');
    const lag = refusal({ maxReplicaLagMs: -1 });
    expect(ValidationError.isInstance(lag) && lag.field).toBe('maxReplicaLagMs');
  });

  it('postgresBackend - POSTGRES_REPLICA_DSNS gives the replicas, checked and masked; createMemory reads through them', async () => {
    const config = (replicas: string) => ({
      backends: [postgresBackend],
      env: {},
      settings: {
        POSTGRES_DSN: pair.primary.url,
        POSTGRES_SCHEMA: uniqueName(),
        POSTGRES_REPLICA_DSNS: replicas,
      },
    });
    const secret = pair.replica.url.replace('postgres@', 'postgres:s3cret@');
    const { location } = resolveMemoryConfig(config(` ${secret} , ${pair.replica.url}`));
    expect((location as PostgresLocation).replicas).toEqual([secret, pair.replica.url]);
    const described = postgresBackend.describe(location as PostgresLocation);
    expect(described).toContain('with replicas postgresql://postgres:***@');
    expect(described).not.toContain('s3cret');
    expect(() => resolveMemoryConfig(config('mysql://u:hunter2@db/app'))).toThrow(
      /POSTGRES_REPLICA_DSNS.*replica 1: expected a postgresql:\/\/ URL/,
    );
    const store = (await createMemory(config(pair.replica.url))) as PostgresConversationMemory;
    stores.push(store);
    const sessionId = await store.createSession({ title: 'chat' });
    await pair.waitForReplay();
    expect((await untilReplica(store, () => store.getSession(sessionId)))?.title).toBe('chat');
  });
});
