import { ConflictError, ValidationError } from '@flux-rag/memory-core';
import { Agent, type AgentInputItem, RunContext, run, setTracingDisabled } from '@openai/agents-core';
import { assistantMessage, ScriptedModel } from '@openai/agents-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FluxSession } from '../src/index.js';
import { BACKENDS, useStore } from './backends.js';

beforeAll(() => setTracingDisabled(true));

interface AppContext {
  userId: string;
}
const ownerOf = (runContext: RunContext<AppContext>) => runContext.context.userId;
const user = (text: string): AgentInputItem => ({ role: 'user', content: text });

describe.each(BACKENDS)('FluxSession with ownerOf - $name', (backend) => {
  const store = useStore(backend);

  it('run - two owners through the run context each get their own session; neither sees the other', async () => {
    const model = new ScriptedModel([[assistantMessage('Hi Ann.')], [assistantMessage('Hi Bob.')]]);
    const agent = new Agent<AppContext>({ name: 'greeter', model });
    const ann = new FluxSession<AppContext>({ memory: store().memory, sessionId: 'ann-chat', ownerOf });
    const bob = new FluxSession<AppContext>({ memory: store().memory, sessionId: 'bob-chat', ownerOf });
    // getSessionId gets no run context: it only names the session, which the first write creates.
    expect(await ann.getSessionId()).toBe('ann-chat');
    expect(await store().memory.getSession('ann-chat')).toBeNull();

    await run(agent, 'Hello, I am Ann', { session: ann, context: { userId: 'u-ann' } });
    await run(agent, 'Hello, I am Bob', { session: bob, context: { userId: 'u-bob' } });

    expect((await store().memory.getSession('ann-chat'))?.ownerId).toBe('u-ann');
    expect((await store().memory.getSession('bob-chat'))?.ownerId).toBe('u-bob');
    const annItems = await ann.getItems(undefined, new RunContext({ userId: 'u-ann' }));
    expect(annItems).toMatchObject([
      user('Hello, I am Ann'),
      { role: 'assistant', content: [{ text: 'Hi Ann.' }] },
    ]);
    // The second run's model input held Bob's history only.
    expect(JSON.stringify(model.lastCall?.request.input)).not.toContain('Ann');
  });

  it("FluxSession - another owner's session id reads as empty and cannot be written, popped or cleared", async () => {
    const ann = new FluxSession<AppContext>({ memory: store().memory, sessionId: 'shared-id', ownerOf });
    const annContext = new RunContext<AppContext>({ userId: 'u-ann' });
    await ann.addItems([user('secret of Ann')], annContext);

    const mallory = new RunContext<AppContext>({ userId: 'u-mallory' });
    expect(await ann.getItems(undefined, mallory)).toEqual([]);
    expect(await ann.popItem(mallory)).toBeUndefined();
    await ann.clearSession(mallory);
    const error = await ann.addItems([user('intrusion')], mallory).catch((e: unknown) => e);
    expect(ConflictError.isInstance(error)).toBe(true);
    expect(String((error as Error).message)).not.toContain('u-ann');
    await expect(ann.replaceHistoryWithCompaction([user('x')], mallory)).rejects.toSatisfy(
      ConflictError.isInstance,
    );
    await expect(
      ann.applyHistoryTransaction(
        { operationId: 'op', transaction: { type: 'append_items', items: [user('x')] } },
        mallory,
      ),
    ).rejects.toSatisfy(ConflictError.isInstance);

    expect(await ann.getItems(undefined, annContext)).toEqual([user('secret of Ann')]);
    expect((await store().memory.getHistory('shared-id')).map((m) => m.content)).toEqual(['secret of Ann']);
  });

  it('FluxSession - with ownerOf, a call without a run context is a ValidationError, never unscoped', async () => {
    const session = new FluxSession<AppContext>({ memory: store().memory, sessionId: 's', ownerOf });
    for (const call of [
      () => session.getItems(),
      () => session.addItems([user('x')]),
      () => session.popItem(),
      () => session.clearSession(),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(ValidationError.isInstance(error) && error.field).toBe('runContext');
    }
    expect(await store().memory.getSession('s')).toBeNull();
  });
});
