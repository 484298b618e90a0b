import {
  ConflictError,
  type ConversationMemory,
  type MemoryCapabilities,
  ValidationError,
} from '@flux-rag/memory-core';
import { AIMessage, HumanMessage, RemoveMessage, type SystemMessage } from '@langchain/core/messages';
import { describe, expect, it, vi } from 'vitest';
import { FluxChatMessageHistory, STORED_MESSAGE_FORMAT } from '../src/index.js';
import { asDicts, handBuiltMessages } from './messages.js';
import { useBackends } from './support.js';

const { backends } = useBackends();

describe.each(backends)('FluxChatMessageHistory on $name', (backend) => {
  it('addMessages - hand-built messages round-trip as toDict JSON, classes and fields included', async () => {
    const { memory } = await backend.create();
    const sent = handBuiltMessages();
    await new FluxChatMessageHistory({ memory, sessionId: 'chat-1' }).addMessages(sent);

    // A fresh history object: nothing is cached between the write and the read.
    const read = await new FluxChatMessageHistory({ memory, sessionId: 'chat-1' }).getMessages();
    expect(asDicts(read)).toBe(asDicts(sent));
    expect(read.map((m) => m.constructor.name)).toEqual(sent.map((m) => m.constructor.name));
    const [, human, ai, tool] = read as [SystemMessage, HumanMessage, AIMessage, AIMessage];
    expect(human.content).toEqual(sent[1]!.content);
    expect(ai.tool_calls).toEqual((sent[2] as AIMessage).tool_calls);
    expect(ai.invalid_tool_calls).toEqual((sent[2] as AIMessage).invalid_tool_calls);
    expect(ai.usage_metadata).toEqual((sent[2] as AIMessage).usage_metadata);
    // toDict() escapes an object with an `lc` key; the read message holds the object itself, not the wrapper.
    expect(ai.additional_kwargs).toEqual({
      lookalike: { lc: 1, type: 'constructor', id: ['not', 'a', 'class'] },
    });
    expect(tool).toMatchObject({ tool_call_id: 'call_1', name: 'get_weather', artifact: { raw: [21, 'C'] } });
    expect(read[5]!.id).toHaveLength(304);

    // Twice round: what was read writes back to the same JSON (no escaping added at each trip).
    await new FluxChatMessageHistory({ memory, sessionId: 'chat-2' }).addMessages(read);
    expect(asDicts(await new FluxChatMessageHistory({ memory, sessionId: 'chat-2' }).getMessages())).toBe(
      asDicts(sent),
    );
  });

  it('addMessages - rows hold the text as content, the role, and the StoredMessage as payload', async () => {
    const { memory } = await backend.create();
    const sent = handBuiltMessages();
    await new FluxChatMessageHistory({ memory, sessionId: 'rows' }).addMessages(sent);
    const rows = await memory.getHistory('rows');
    expect(rows.map((r) => r.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'tool',
      'assistant',
      'function',
      'critic',
    ]);
    expect(rows[1]!.content).toBe('What is the weather where this photo was taken?');
    expect(rows[2]!.content).toBe('Checking Paris and Lyon.');
    expect(rows.every((r) => r.format === STORED_MESSAGE_FORMAT)).toBe(true);
    expect(rows[2]!.payload).toMatchObject({ type: 'ai', data: { id: sent[2]!.id } });
    // The store's ids are its own: the LangChain id (here over 255 characters) stays in the payload.
    expect(rows[5]!.id).not.toBe(sent[5]!.id);
  });

  it('addMessages - one write for the batch; an invalid message in it writes nothing', async () => {
    const { memory } = await backend.create();
    const history = new FluxChatMessageHistory({ memory, sessionId: 'atomic' });
    await history.addMessages([new HumanMessage('first'), new AIMessage('kept')]);
    const upsert = vi.spyOn(memory, 'upsertMessages');
    await history.addMessages([new HumanMessage('a'), new AIMessage('b'), new HumanMessage('c')]);
    expect(upsert).toHaveBeenCalledTimes(1);
    const stored = async () => (await memory.getHistory('atomic')).map((r) => r.content);
    expect(await stored()).toEqual(['first', 'kept', 'a', 'b', 'c']);

    // A NaN the contract refuses, in the third message of the batch: the first two are not written either.
    const bad = new AIMessage({ content: 'bad', additional_kwargs: { score: Number.NaN } });
    const refused = history.addMessages([new HumanMessage('x'), new AIMessage('y'), bad]);
    await expect(refused).rejects.toSatisfy(
      (e: unknown) => ValidationError.isInstance(e) && e.field.startsWith('messages[2].payload'),
    );
    // A type LangChain cannot load back (RemoveMessage is a graph instruction, not a message to keep).
    const remove = history.addMessages([new HumanMessage('x'), new RemoveMessage({ id: 'h-1' })]);
    await expect(remove).rejects.toSatisfy(
      (e: unknown) => ValidationError.isInstance(e) && e.field === 'messages[1].type',
    );
    expect(await stored()).toEqual(['first', 'kept', 'a', 'b', 'c']);
  });

  it('addMessage - creates a missing session with newSession; an invalid first batch creates nothing', async () => {
    const { memory } = await backend.create();
    const newSession = { title: 'Weather chat', metadata: { channel: 'web' } };
    const bad = new FluxChatMessageHistory({ memory, sessionId: 'never', newSession });
    await expect(
      bad.addMessage(new AIMessage({ content: 'x', additional_kwargs: { n: Infinity } })),
    ).rejects.toSatisfy(ValidationError.isInstance);
    expect(await memory.getSession('never')).toBeNull();

    const history = new FluxChatMessageHistory({ memory, sessionId: 'made', newSession });
    expect(await history.getMessages()).toEqual([]);
    await history.addMessage(new HumanMessage('hello'));
    expect(await memory.getSession('made')).toMatchObject({ id: 'made', ...newSession });
    expect((await history.getMessages()).map((m) => m.text)).toEqual(['hello']);
  });

  it('addMessages - two histories writing a new session at once both land', async () => {
    const { memory } = await backend.create();
    const one = new FluxChatMessageHistory({ memory, sessionId: 'race' });
    const two = new FluxChatMessageHistory({ memory, sessionId: 'race' });
    await Promise.all([
      one.addMessages([new HumanMessage('one-a'), new AIMessage('one-b')]),
      two.addMessages([new HumanMessage('two-a'), new AIMessage('two-b')]),
    ]);
    const texts = (await one.getMessages()).map((m) => m.text);
    expect(texts.sort()).toEqual(['one-a', 'one-b', 'two-a', 'two-b']);
    // Each batch stays contiguous: atomic appends do not interleave.
    const joined = (await one.getMessages()).map((m) => m.text).join(',');
    expect(['one-a,one-b,two-a,two-b', 'two-a,two-b,one-a,one-b']).toContain(joined);
  });

  it('clear - removes the messages and keeps the session, its title and metadata', async () => {
    const { memory } = await backend.create();
    const history = new FluxChatMessageHistory({ memory, sessionId: 'kept', newSession: { title: 'Kept' } });
    await history.addMessages([new HumanMessage('a'), new AIMessage('b')]);
    await history.clear();
    expect(await history.getMessages()).toEqual([]);
    expect(await memory.getSession('kept')).toMatchObject({ title: 'Kept' });
    expect((await memory.getSessions()).find((s) => s.id === 'kept')).toMatchObject({ messageCount: 0 });
    await history.addMessage(new HumanMessage('again'));
    expect((await history.getMessages()).map((m) => m.text)).toEqual(['again']);

    // A session that does not exist: nothing to clear, and nothing is created.
    await new FluxChatMessageHistory({ memory, sessionId: 'absent' }).clear();
    expect(await memory.getSession('absent')).toBeNull();
  });

  it('getMessages - rows without a LangChain payload load from role and content', async () => {
    const { memory } = await backend.create();
    const sessionId = await memory.createSession({ id: 'legacy' });
    for (const role of ['system', 'user', 'assistant', 'tool', 'function']) {
      await memory.addMessage(sessionId, { role, content: `${role} text` });
    }
    // Another adapter's structured row: its payload is not LangChain's, so role and content decide.
    await memory.addMessage(sessionId, {
      role: 'assistant',
      content: 'from elsewhere',
      payload: { type: 'ai', data: { content: 'not this' } },
      format: 'ai-sdk/ui-message',
    });
    const read = await new FluxChatMessageHistory({ memory, sessionId }).getMessages();
    expect(read.map((m) => [m.constructor.name, m.type, m.text])).toEqual([
      ['SystemMessage', 'system', 'system text'],
      ['HumanMessage', 'human', 'user text'],
      ['AIMessage', 'ai', 'assistant text'],
      ['ChatMessage', 'generic', 'tool text'],
      ['ChatMessage', 'generic', 'function text'],
      ['AIMessage', 'ai', 'from elsewhere'],
    ]);
    expect((read[3] as unknown as { role: string }).role).toBe('tool');
  });

  it('owner views - each owner sees only its sessions; another owner cannot write into one', async () => {
    const { memory } = await backend.create();
    const alice = new FluxChatMessageHistory({ memory: memory.forOwner('alice'), sessionId: 'shared-id' });
    await alice.addMessages([new HumanMessage('alice asks'), new AIMessage('alice is answered')]);
    expect(await memory.getSession('shared-id')).toMatchObject({ ownerId: 'alice' });

    const bob = new FluxChatMessageHistory({ memory: memory.forOwner('bob'), sessionId: 'shared-id' });
    expect(await bob.getMessages()).toEqual([]);
    await expect(bob.addMessage(new HumanMessage('bob writes'))).rejects.toSatisfy(ConflictError.isInstance);
    await bob.clear();
    expect((await alice.getMessages()).map((m) => m.text)).toEqual(['alice asks', 'alice is answered']);
  });
});

describe('FluxChatMessageHistory - capabilities', () => {
  it('constructor - refuses a store without structuredMessages or historyEditing', async () => {
    const [memoryBackend] = backends;
    const { memory } = await memoryBackend!.create();
    for (const capability of ['structuredMessages', 'historyEditing'] as const) {
      const capabilities: MemoryCapabilities = { ...memory.capabilities, [capability]: false };
      const lacking = Object.create(memory, { capabilities: { value: capabilities } }) as ConversationMemory;
      const made = () => new FluxChatMessageHistory({ memory: lacking, sessionId: 's' });
      expect(made).toThrow(expect.objectContaining({ code: 'CAPABILITY_UNSUPPORTED', capability }));
    }
  });
});
