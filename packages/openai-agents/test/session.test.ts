import { ValidationError } from '@flux-rag/memory-core';
import { type AgentInputItem, MemorySession } from '@openai/agents-core';
import { describe, expect, it } from 'vitest';
import { FluxSession, ITEM_FORMAT } from '../src/index.js';
import { BACKENDS, useStore } from './backends.js';
import { EVERY_ITEM, LONG_ITEM_ID } from './items.js';

const ITEMS = EVERY_ITEM.map((entry) => entry.item);
const user = (text: string): AgentInputItem => ({ role: 'user', content: text });

describe.each(BACKENDS)('FluxSession - $name', (backend) => {
  const store = useStore(backend);

  it('getSessionId - creates a new session once, and binds to a given id, creating it when missing', async () => {
    const fresh = new FluxSession({ memory: store().memory });
    const id = await fresh.getSessionId();
    expect(await fresh.getSessionId()).toBe(id);
    expect(await store().memory.getSession(id)).not.toBeNull();
    expect(await store().memory.getSessions()).toHaveLength(1);

    const bound = new FluxSession({ memory: store().memory, sessionId: 'chat-42' });
    expect(await bound.getSessionId()).toBe('chat-42');
    expect(await store().memory.getSession('chat-42')).not.toBeNull();
    // Binding again to an existing session neither fails nor creates another.
    expect(await new FluxSession({ memory: store().memory, sessionId: 'chat-42' }).getSessionId()).toBe(
      'chat-42',
    );
    expect(await store().memory.getSessions()).toHaveLength(2);
  });

  it('addItems and getItems - every item type round-trips deep-equal, its own long id kept in the payload', async () => {
    const session = new FluxSession({ memory: store().memory });
    await session.addItems(ITEMS.slice(0, 5));
    await session.addItems(ITEMS.slice(5));
    expect(await session.getItems()).toEqual(ITEMS);

    const stored = await store().memory.getHistory(await session.getSessionId());
    expect(stored).toHaveLength(ITEMS.length);
    expect(stored.map((m) => [m.role, m.content])).toEqual(EVERY_ITEM.map((e) => [e.role, e.content]));
    expect(stored.every((m) => m.format === ITEM_FORMAT)).toBe(true);
    // The store generated its own ids; the item's own id, longer than any store id, is in the payload.
    expect(stored.some((m) => m.id === LONG_ITEM_ID)).toBe(false);
    expect(stored[2]?.payload).toMatchObject({ id: LONG_ITEM_ID });
  });

  it('getItems - the latest limit items, oldest first, as MemorySession returns them', async () => {
    const session = new FluxSession({ memory: store().memory });
    const oracle = new MemorySession();
    const items = ['a', 'b', 'c', 'd'].map(user);
    await session.addItems(items);
    await oracle.addItems(items);
    for (const limit of [undefined, -1, 0, 1, 3, 4, 10]) {
      expect(await session.getItems(limit)).toEqual(await oracle.getItems(limit));
    }
    expect(await session.getItems(2)).toEqual([user('c'), user('d')]);
  });

  it('addItems - atomic: an item the store refuses writes none of the batch', async () => {
    const session = new FluxSession({ memory: store().memory });
    await session.addItems([user('kept')]);
    const binary = {
      type: 'function_call_result',
      callId: 'c',
      name: 'n',
      status: 'completed',
      output: { type: 'image', image: { data: new Uint8Array([1, 2, 3]) } },
    } as AgentInputItem;
    const error = await session.addItems([user('lost'), binary]).catch((e: unknown) => e);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toMatch(/^messages\[1\]\.payload\.output\.image\.data/);
    expect(await session.getItems()).toEqual([user('kept')]);
  });

  it('popItem - removes and returns the latest item; undefined when empty', async () => {
    const session = new FluxSession({ memory: store().memory });
    expect(await session.popItem()).toBeUndefined();
    await session.addItems([user('a'), ITEMS[5] as AgentInputItem]);
    expect(await session.popItem()).toEqual(ITEMS[5]);
    expect(await session.popItem()).toEqual(user('a'));
    expect(await session.popItem()).toBeUndefined();
  });

  it('clearSession - removes the items and keeps the session; the next items start a fresh history', async () => {
    const session = new FluxSession({ memory: store().memory, sessionId: 'kept' });
    await store().memory.createSession({ id: 'kept', title: 'Support', metadata: { plan: 'pro' } });
    await session.addItems([user('a'), user('b')]);
    await session.clearSession();
    expect(await session.getItems()).toEqual([]);
    expect(await store().memory.getSession('kept')).toMatchObject({
      title: 'Support',
      metadata: { plan: 'pro' },
    });
    await session.addItems([user('c')]);
    expect(await session.getItems()).toEqual([user('c')]);
    // Clearing a session that was never written is not an error.
    await new FluxSession({ memory: store().memory, ownerOf: () => 'o' }).clearSession({
      context: {},
    } as never);
  });

  it('replaceHistoryWithCompaction - replaces the whole history at once', async () => {
    const session = new FluxSession({ memory: store().memory });
    await session.addItems(['a', 'b', 'c'].map(user));
    const compacted: AgentInputItem[] = [{ type: 'compaction', encrypted_content: 'gAAA' }, user('c')];
    await session.replaceHistoryWithCompaction(compacted);
    expect(await session.getItems()).toEqual(compacted);
    // A replacement the store refuses leaves the old history whole.
    const bad = [{ type: 'compaction', encrypted_content: 'x', providerData: { at: new Date(0) } }] as never;
    await expect(session.replaceHistoryWithCompaction(bad)).rejects.toSatisfy(ValidationError.isInstance);
    expect(await session.getItems()).toEqual(compacted);
  });

  it('getItems - rows written without a payload (legacy, addMessage) read as plain message items', async () => {
    const session = new FluxSession({ memory: store().memory, sessionId: 'legacy' });
    const id = await session.getSessionId();
    await store().memory.addMessage(id, { role: 'system', content: 'Be brief.' });
    await store().memory.addMessage(id, { role: 'user', content: 'Hi' });
    await store().memory.addMessage(id, { role: 'assistant', content: 'Hello!' });
    expect(await session.getItems()).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      {
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Hello!' }],
      },
    ]);
  });

  it('addItems - a session deleted meanwhile is created again rather than failing', async () => {
    const session = new FluxSession({ memory: store().memory, sessionId: 'gone' });
    await session.addItems([user('a')]);
    await store().memory.deleteSession('gone');
    await session.addItems([user('b')]);
    expect(await session.getItems()).toEqual([user('b')]);
  });

  it('FluxSession - a session id the store refuses is its ValidationError, and nothing is created', async () => {
    const session = new FluxSession({ memory: store().memory, sessionId: 'x'.repeat(256) });
    const error = await session.getSessionId().catch((e: unknown) => e);
    expect(ValidationError.isInstance(error) && error.field).toBe('sessionId');
    await expect(session.addItems([user('a')])).rejects.toSatisfy(ValidationError.isInstance);
    expect(await store().memory.getSessions()).toEqual([]);
  });
});
