import { type ReplicaPair, startReplicaPair, uniqueName } from '@flux-rag/test-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConversationMemory } from '../src/index.js';

// A primary and two streaming replicas of their own: reads spread over every replica, and a replica that stops
// leaves the others (and the primary) to serve, with no failed read.
describe('two replicas', () => {
  let servers: ReplicaPair;
  const stores: PostgresConversationMemory[] = [];
  beforeAll(async () => {
    servers = await startReplicaPair({ replicas: 2 });
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled(stores.map((store) => store.close()));
    await servers?.destroy();
  });

  /** Reads served by each server so far, from the store's own count: `[primary, first, second]`. */
  async function served(store: PostgresConversationMemory): Promise<number[]> {
    const health = (await store.check()).servers ?? [];
    expect(health).toHaveLength(3);
    return health.map((server) => server.reads ?? Number.NaN);
  }

  it('reads of sessions the store did not write are spread over both; one stopped, no read fails', async () => {
    const schema = uniqueName();
    const writer = new PostgresConversationMemory({ connectionString: servers.primary.url, schema });
    stores.push(writer);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = await writer.createSession({ title: `chat ${i}` });
      await writer.addMessage(id, { role: 'user', content: `hello ${i}` });
      ids.push(id);
    }
    await servers.waitForReplay();
    const reader = new PostgresConversationMemory({
      connectionString: servers.primary.url,
      replicas: servers.replicas.map((replica) => replica.url),
      schema,
    });
    stores.push(reader);
    await reader.init();

    // The store learns each replica's position in the background: wait until both serve.
    const deadline = Date.now() + 15_000;
    let counts = await served(reader);
    while ((counts[1]! === 0 || counts[2]! === 0) && Date.now() < deadline) {
      for (const id of ids) expect(await reader.getHistory(id)).toHaveLength(1);
      counts = await served(reader);
    }
    const before = await served(reader);
    for (let round = 0; round < 25; round++) {
      for (const id of ids) expect((await reader.getHistory(id))[0]?.content).toMatch(/^hello /);
    }
    const after = await served(reader);
    const byReplica = [after[1]! - before[1]!, after[2]! - before[2]!];
    // 200 reads, taken in turn: each replica serves a fair share (not all on one).
    expect(byReplica[0]! + byReplica[1]! + (after[0]! - before[0]!)).toBe(200);
    expect(Math.min(...byReplica)).toBeGreaterThanOrEqual(60);

    // The second replica stops: every read still succeeds, none of them on it.
    await servers.replicas[1]!.stop();
    const whileDown = await served(reader);
    let failed = 0;
    for (let round = 0; round < 10; round++) {
      for (const id of ids) {
        const history = await reader.getHistory(id).catch(() => null);
        if (history?.length !== 1) failed++;
      }
    }
    const afterDown = await served(reader);
    expect(failed).toBe(0);
    expect(afterDown[2]).toBe(whileDown[2]);
    expect(afterDown[0]! - whileDown[0]! + afterDown[1]! - whileDown[1]!).toBe(80);
  });
});
