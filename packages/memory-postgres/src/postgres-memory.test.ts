import { withClient } from '@flux-rag/test-postgres';
import { describe, expect, it } from 'vitest';
import { usePostgres } from '../test/support.js';

const pg = usePostgres();

describe('check', () => {
  it("check - an owner view reports its owner's sessions and messages only, with no orphan count", async () => {
    const store = await pg.store();
    const alice = store.forOwner('alice');
    const mine = await alice.createSession();
    const theirs = await store.forOwner('bob').createSession();
    await alice.addMessage(mine, { role: 'user', content: 'a' });
    for (const content of ['b', 'c']) await store.addMessage(theirs, { role: 'user', content });
    const health = await alice.check();
    expect(health).toMatchObject({ backend: 'postgres', reachable: true, sessions: 1, messages: 1 });
    expect(health).not.toHaveProperty('orphanMessages');
    expect(await store.check()).toMatchObject({ sessions: 2, messages: 3, orphanMessages: 0 });
  });

  it('check - reports reachable, the server version, schema version 4 and exact counts', async () => {
    const store = await pg.store();
    const a = await store.createSession();
    await store.createSession();
    for (const content of ['1', '2', '3']) await store.addMessage(a, { role: 'user', content });
    const version = await withClient(
      pg.url,
      async (c) => (await c.query('SHOW server_version')).rows[0].server_version,
    );
    expect(await store.check()).toEqual({
      backend: 'postgres',
      location: `${pg.url.replace(/:[^:@/]*@/, ':***@')} (schema ${store.schema})`,
      reachable: true,
      serverVersion: version,
      schemaVersion: 7,
      sessions: 2,
      messages: 3,
      // Counted by core's shared SQL for every backend; a PostgreSQL database holds none (foreign key enforced).
      orphanMessages: 0,
    });
  });

  it('check - an unreachable server is reachable: false with a masked error, not an exception', async () => {
    const url = new URL(pg.url);
    url.port = '1';
    url.password = 'Unreachable-Secret';
    const store = await pg.store({ connectionString: url.toString() });
    const health = await store.check();
    expect(health).toMatchObject({ backend: 'postgres', reachable: false });
    expect(health.error).toMatch(/unavailable.*ECONNREFUSED/);
    expect(health.location).toContain(':***@127.0.0.1:1/');
    expect(JSON.stringify(health)).not.toContain('Unreachable-Secret');
    expect(health.serverVersion).toBeUndefined();
  });
});
