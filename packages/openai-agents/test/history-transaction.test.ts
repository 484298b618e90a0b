import { ConflictError, ValidationError } from '@flux-rag/memory-core';
import { type AgentInputItem, MemorySession, type SessionHistoryTransactionArgs } from '@openai/agents-core';
import { beforeEach, describe, expect, it } from 'vitest';
import { FluxSession } from '../src/index.js';
import { BACKENDS, useStore } from './backends.js';

const user = (text: string): AgentInputItem => ({ role: 'user', content: text });
const answer = (text: string): AgentInputItem => ({
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text }],
});

const append = (operationId: string, ...items: AgentInputItem[]): SessionHistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'append_items', items },
});
const replace = (
  operationId: string,
  expectedSuffix: AgentInputItem[],
  replacement: AgentInputItem[],
): SessionHistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'replace_suffix', expectedSuffix, replacement },
});

const conflictReason = (error: unknown) => (ConflictError.isInstance(error) ? error.reason : error);

describe.each(BACKENDS)('FluxSession.applyHistoryTransaction - $name', (backend) => {
  const store = useStore(backend);
  let session: FluxSession;
  beforeEach(async () => {
    session = new FluxSession({ memory: store().memory });
    await session.addItems([user('q1'), answer('draft')]);
  });

  it('append_items - appends; a replay of the operation id appends nothing', async () => {
    await session.applyHistoryTransaction(append('op-1', user('q2'), answer('a2')));
    await session.applyHistoryTransaction(append('op-1', user('q2'), answer('a2')));
    expect(await session.getItems()).toEqual([user('q1'), answer('draft'), user('q2'), answer('a2')]);
  });

  it('replace_suffix - swaps the tail when it matches; key order in the expected items does not matter', async () => {
    const reordered = {
      content: [{ text: 'draft', type: 'output_text' }],
      status: 'completed',
      role: 'assistant',
      type: 'message',
    };
    await session.applyHistoryTransaction(
      replace('op-r', [reordered as AgentInputItem], [answer('final'), user('ok')]),
    );
    expect(await session.getItems()).toEqual([user('q1'), answer('final'), user('ok')]);
  });

  it('replace_suffix - a tail that no longer matches is a conflict and changes nothing', async () => {
    const error = await Promise.resolve(
      session.applyHistoryTransaction(replace('op-x', [answer('something else')], [answer('final')])),
    ).catch((e: unknown) => e);
    expect(conflictReason(error)).toBe('expected-ids');
    const longer = await Promise.resolve(
      session.applyHistoryTransaction(replace('op-y', [user('q0'), user('q1'), answer('draft')], [])),
    ).catch((e: unknown) => e);
    expect(conflictReason(longer)).toBe('expected-ids');
    expect(await session.getItems()).toEqual([user('q1'), answer('draft')]);
  });

  it('replace_suffix - of two racing transactions on the same tail, one wins and the other changes nothing', async () => {
    const results = await Promise.allSettled([
      session.applyHistoryTransaction(replace('op-a', [answer('draft')], [answer('from A')])),
      // A second instance on the same store session, as another process would have.
      new FluxSession({
        memory: store().memory,
        sessionId: await session.getSessionId(),
      }).applyHistoryTransaction(replace('op-b', [answer('draft')], [answer('from B'), user('B')])),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(conflictReason(rejected[0]?.reason)).toBe('expected-ids');
    const winner = results[0]?.status === 'fulfilled' ? [answer('from A')] : [answer('from B'), user('B')];
    expect(await session.getItems()).toEqual([user('q1'), ...winner]);
  });

  it('replace_suffix - a replay by operation id succeeds and changes nothing, even after later appends', async () => {
    const tx = replace('op-replay', [answer('draft')], [answer('final')]);
    await session.applyHistoryTransaction(tx);
    await session.applyHistoryTransaction(tx);
    expect(await session.getItems()).toEqual([user('q1'), answer('final')]);
    await session.addItems([user('q2')]);
    await session.applyHistoryTransaction(tx);
    expect(await session.getItems()).toEqual([user('q1'), answer('final'), user('q2')]);
  });

  it('applyHistoryTransaction - the same operation id with another transaction fails and changes nothing', async () => {
    await session.applyHistoryTransaction(replace('op-1', [answer('draft')], [answer('final')]));
    const reused = [
      replace('op-1', [answer('final')], [answer('other')]),
      replace('op-1', [answer('draft')], [answer('other')]),
      append('op-1', user('x')),
    ];
    for (const tx of reused) {
      const error = await Promise.resolve(session.applyHistoryTransaction(tx)).catch((e: unknown) => e);
      expect(conflictReason(error)).toBe('operation-reused');
    }
    await session.applyHistoryTransaction(append('op-2', user('y')));
    const error = await Promise.resolve(session.applyHistoryTransaction(append('op-2', user('z')))).catch(
      (e) => e,
    );
    expect(conflictReason(error)).toBe('operation-reused');
    expect(await session.getItems()).toEqual([user('q1'), answer('final'), user('y')]);
  });

  it('applyHistoryTransaction - the same flows leave the same history as the SDK MemorySession', async () => {
    const oracle = new MemorySession({ initialItems: [user('q1'), answer('draft')] });
    const flows = [
      append('t1', user('q2'), answer('a2')),
      append('t1', user('q2'), answer('a2')),
      replace('t2', [answer('a2')], [answer('a2 final')]),
      replace('t2', [answer('a2')], [answer('a2 final')]),
      replace('t3', [user('q2'), answer('a2 final')], []),
      append('t4', user('q3')),
    ];
    for (const tx of flows) {
      await session.applyHistoryTransaction(tx);
      await oracle.applyHistoryTransaction(tx);
      expect(await session.getItems()).toEqual(await oracle.getItems());
    }
  });

  it('applyHistoryTransaction - an empty operation id or an unknown transaction type is a ValidationError', async () => {
    await expect(session.applyHistoryTransaction(append(' ', user('x')))).rejects.toSatisfy(
      ValidationError.isInstance,
    );
    const unknown = { operationId: 'op', transaction: { type: 'drop_all' } } as never;
    await expect(session.applyHistoryTransaction(unknown)).rejects.toSatisfy(ValidationError.isInstance);
    expect(await session.getItems()).toEqual([user('q1'), answer('draft')]);
  });

  it('applyHistoryTransaction - an operation id longer than the store allows still replays', async () => {
    const tx = append(`run:${'x'.repeat(300)}`, user('q2'));
    await session.applyHistoryTransaction(tx);
    await session.applyHistoryTransaction(tx);
    expect(await session.getItems()).toEqual([user('q1'), answer('draft'), user('q2')]);
  });
});
