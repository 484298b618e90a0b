import { describe, expect, test } from 'vitest';
import { OwnerView } from '../src/backend.js';
import { CONTRACT_VERSION, InMemoryConversationMemory, type PortableRecord } from '../src/index.js';

/** A store with two owners' data and one unowned session: alice 2 sessions / 3 messages, bob 1 / 2, none 1 / 1. */
async function twoOwners() {
  const store = new InMemoryConversationMemory();
  const alice = store.forOwner('alice');
  const bob = store.forOwner('bob');
  const a1 = await alice.createSession();
  const a2 = await alice.createSession();
  const b1 = await bob.createSession();
  const free = await store.createSession();
  for (const content of ['1', '2']) await alice.addMessage(a1, { role: 'user', content });
  await alice.addMessage(a2, { role: 'user', content: '3' });
  for (const content of ['1', '2']) await bob.addMessage(b1, { role: 'user', content });
  await store.addMessage(free, { role: 'user', content: 'x' });
  return { store, alice, bob };
}

describe('owner view', () => {
  test('is an OwnerView reporting the contract version', async () => {
    const { store, alice } = await twoOwners();
    expect(alice).toBeInstanceOf(OwnerView);
    expect(alice.contractVersion).toBe(CONTRACT_VERSION);
    expect(store.contractVersion).toBe('1.1');
  });

  test("check() counts only the view's owner's sessions and messages; the store counts all", async () => {
    const { store, alice, bob } = await twoOwners();
    expect(await alice.check()).toMatchObject({ reachable: true, sessions: 2, messages: 3 });
    expect(await bob.check()).toMatchObject({ reachable: true, sessions: 1, messages: 2 });
    expect(await store.check()).toMatchObject({ reachable: true, sessions: 4, messages: 6 });
    expect(await store.forOwner('nobody').check()).toMatchObject({ sessions: 0, messages: 0 });
  });

  test('closing the view refuses its calls, check() included, and leaves the store open', async () => {
    const { store, alice } = await twoOwners();
    await alice.close();
    await expect(alice.check()).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
    expect(() => alice.exportRecords()).toThrow(expect.objectContaining({ code: 'MEMORY_CLOSED' }));
    expect((await store.check()).sessions).toBe(4);
  });

  test('a view of a view is refused', async () => {
    const { alice } = await twoOwners();
    expect(() => alice.forOwner('bob')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('derived export', () => {
  test('exports a long session in history order across keyset pages, ties at page boundaries included', async () => {
    // One instant for every message: only the insertion sequence orders them, so a page boundary inside a tie
    // must continue after the last row exported, neither repeating nor skipping one.
    const store = new InMemoryConversationMemory({ clock: () => new Date('2025-01-01T00:00:00Z') });
    const id = await store.createSession();
    const count = 1234;
    for (let i = 0; i < count; i++) await store.addMessage(id, { role: 'user', content: `${i}` });
    const exported: PortableRecord[] = [];
    for await (const record of store.exportRecords()) exported.push(record);
    const contents = exported.flatMap((r) => (r.type === 'message' ? [r.content] : []));
    expect(contents).toEqual(Array.from({ length: count }, (_, i) => `${i}`));
  });

  test("a view exports its owner's sessions and their messages only", async () => {
    const { alice } = await twoOwners();
    const records: PortableRecord[] = [];
    for await (const record of alice.exportRecords()) records.push(record);
    expect(records.filter((r) => r.type === 'session').every((r) => r.ownerId === 'alice')).toBe(true);
    expect(records.filter((r) => r.type === 'message')).toHaveLength(3);
  });
});
