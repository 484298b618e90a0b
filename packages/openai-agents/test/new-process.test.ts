import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, run, setTracingDisabled, tool } from '@openai/agents-core';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FluxSession } from '../src/index.js';
import { BACKENDS, type OpenedStore, reopen, useStore } from './backends.js';

beforeAll(() => setTracingDisabled(true));

const CHILD = fileURLToPath(new URL('./fixtures/read-session.mjs', import.meta.url));

describe.each(
  BACKENDS.filter((b) => b.name !== 'in-memory'),
)('FluxSession across processes - $name', (backend) => {
  const store = useStore(backend);

  it('a new process reads the same session the runner wrote, and its write is seen here', async () => {
    const lookup = tool({
      name: 'lookup',
      description: 'Looks an order up',
      parameters: z.object({ order: z.string() }),
      execute: async ({ order }) => `Order ${order} shipped`,
    });
    const model = new ScriptedModel([
      [functionCall('lookup', { order: 'A-1' }, { callId: 'call_1' })],
      [assistantMessage('Your order A-1 has shipped.')],
    ]);
    const agent = new Agent({ name: 'support', model, tools: [lookup] });
    const session = new FluxSession({ memory: store().memory, sessionId: 'order-chat' });
    await run(agent, 'Where is my order A-1?', { session });
    const written = await session.getItems();
    expect(written).toHaveLength(4);

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CHILD, JSON.stringify(store().location), 'order-chat'],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual(written);

    // The parent's store and a freshly opened one both see the child's append.
    const expected = [...written, { role: 'user', content: 'written by the second process' }];
    expect(await session.getItems()).toEqual(expected);
    const again = reopen(store().location as NonNullable<OpenedStore['location']>);
    try {
      expect(await new FluxSession({ memory: again, sessionId: 'order-chat' }).getItems()).toEqual(expected);
    } finally {
      await again.close();
    }
  }, 90_000);
});
