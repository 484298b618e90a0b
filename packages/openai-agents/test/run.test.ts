import {
  Agent,
  type AgentInputItem,
  MemorySession,
  OutputGuardrailTripwireTriggered,
  run,
  type Session,
  setTracingDisabled,
  tool,
} from '@openai/agents-core';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents-core/testing';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { FluxSession } from '../src/index.js';
import { BACKENDS, useStore } from './backends.js';

beforeAll(() => setTracingDisabled(true));

const weather = tool({
  name: 'weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => (city === 'Paris' ? 'Sunny, 24°C' : 'Rainy, 12°C'),
});

/** A scripted model and an agent using it: the same script for the store's session and for the SDK's own. */
function agentWith(script: ConstructorParameters<typeof ScriptedModel>[0]) {
  const model = new ScriptedModel(script);
  return {
    model,
    agent: new Agent({ name: 'forecaster', instructions: 'Answer briefly.', model, tools: [weather] }),
  };
}

/** Three turns, two with a tool call, each through `run(agent, input, { session })`. */
async function conversation(session: Session) {
  const { model, agent } = agentWith([
    [functionCall('weather', { city: 'Paris' }, { callId: 'call_paris', id: 'fc_1' })],
    [assistantMessage('Sunny in Paris.', { id: 'msg_1' })],
    [functionCall('weather', { city: 'Rome' }, { callId: 'call_rome', id: 'fc_2' })],
    [assistantMessage('Rainy in Rome.', { id: 'msg_2' })],
    [assistantMessage('You are welcome.', { id: 'msg_3' })],
  ]);
  const outputs: unknown[] = [];
  for (const input of ['Weather in Paris?', 'And in Rome?', 'Thanks!']) {
    outputs.push((await run(agent, input, { session })).finalOutput);
  }
  model.assertComplete();
  return { outputs, inputs: model.calls.map((call) => call.request.input) };
}

describe.each(BACKENDS)('FluxSession under run() - $name', (backend) => {
  const store = useStore(backend);

  it('run - several turns with tool calls store what the SDK MemorySession stores, and the model sees it', async () => {
    const session = new FluxSession({ memory: store().memory });
    const oracle = new MemorySession();
    const ours = await conversation(session);
    const theirs = await conversation(oracle);

    expect(ours.outputs).toEqual(['Sunny in Paris.', 'Rainy in Rome.', 'You are welcome.']);
    const items = await session.getItems();
    expect(items).toEqual(await oracle.getItems());
    expect(items.map((item) => ('type' in item ? item.type : 'message'))).toEqual([
      'message',
      'function_call',
      'function_call_result',
      'message',
      'message',
      'function_call',
      'function_call_result',
      'message',
      'message',
      'message',
    ]);
    // The history fed back to the model on later turns is the same as with the SDK's own session.
    expect(ours.inputs).toEqual(theirs.inputs);
    expect(JSON.stringify(ours.inputs[4])).toContain('Rainy, 12°C');

    // The store holds one message per item, with its role and searchable text.
    const history = await store().memory.getHistory(await session.getSessionId());
    expect(history.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Weather in Paris?'],
      ['assistant', 'weather({"city":"Paris"})'],
      ['tool', 'Sunny, 24°C'],
      ['assistant', 'Sunny in Paris.'],
      ['user', 'And in Rome?'],
      ['assistant', 'weather({"city":"Rome"})'],
      ['tool', 'Rainy, 12°C'],
      ['assistant', 'Rainy in Rome.'],
      ['user', 'Thanks!'],
      ['assistant', 'You are welcome.'],
    ]);
  });

  it('run - a streamed run stores what MemorySession stores once the stream is consumed', async () => {
    const streamed = async (session: Session) => {
      const { agent } = agentWith([
        [functionCall('weather', { city: 'Rome' }, { callId: 'call_s', id: 'fc_s' })],
        [assistantMessage('Rainy in Rome.', { id: 'msg_s' })],
      ]);
      const result = await run(agent, 'Weather in Rome?', { session, stream: true });
      await result.completed;
      return result.finalOutput;
    };
    const session = new FluxSession({ memory: store().memory });
    const oracle = new MemorySession();
    expect(await streamed(session)).toBe('Rainy in Rome.');
    await streamed(oracle);
    const items = await session.getItems();
    expect(items).toHaveLength(4);
    expect(items).toEqual(await oracle.getItems());
  });

  it('popItem - removing the last exchange corrects a turn, as with MemorySession', async () => {
    const session = new FluxSession({ memory: store().memory });
    const oracle = new MemorySession();
    for (const s of [session, oracle] as Session[]) {
      await conversation(s);
      const assistant = await s.popItem();
      const user = await s.popItem();
      expect(assistant).toMatchObject({ role: 'assistant', content: [{ text: 'You are welcome.' }] });
      expect(user).toEqual({ type: 'message', role: 'user', content: 'Thanks!' });
      const { agent, model } = agentWith([[assistantMessage('Cloudy in Oslo tomorrow.', { id: 'msg_4' })]]);
      await run(agent, 'Tomorrow in Oslo?', { session: s });
      // The corrected turn's model input ends with the new question, right after the Rome answer.
      const input = model.lastCall?.request.input as AgentInputItem[];
      expect(input.slice(-2)).toMatchObject([
        { role: 'assistant', content: [{ text: 'Rainy in Rome.' }] },
        { role: 'user', content: 'Tomorrow in Oslo?' },
      ]);
    }
    expect(await session.getItems()).toEqual(await oracle.getItems());
    expect(await session.getItems(2)).toEqual(await oracle.getItems(2));
  });

  it('run - an output guardrail that trips goes through applyHistoryTransaction and keeps what MemorySession keeps', async () => {
    const guarded = (session: Session) => {
      const model = new ScriptedModel([
        [functionCall('weather', { city: 'Paris' }, { callId: 'call_g', id: 'fc_g' })],
        [assistantMessage('The secret code is 1234.', { id: 'msg_g' })],
      ]);
      const agent = new Agent({
        name: 'guarded',
        model,
        tools: [weather],
        outputGuardrails: [
          {
            name: 'no secrets',
            execute: async ({ agentOutput }) => ({
              outputInfo: 'secret',
              tripwireTriggered: String(agentOutput).includes('secret'),
            }),
          },
        ],
      });
      return run(agent, 'Weather in Paris, and the code?', { session });
    };
    const session = new FluxSession({ memory: store().memory });
    const oracle = new MemorySession();
    const transactions = vi.spyOn(session, 'applyHistoryTransaction');
    await expect(guarded(session)).rejects.toBeInstanceOf(OutputGuardrailTripwireTriggered);
    await expect(guarded(oracle)).rejects.toBeInstanceOf(OutputGuardrailTripwireTriggered);

    expect(transactions).toHaveBeenCalled();
    expect(transactions.mock.calls[0]?.[0].transaction.type).toBe('append_items');
    const items = await session.getItems();
    expect(items).toEqual(await oracle.getItems());
    // The executed tool call is kept; the blocked answer is not.
    expect(JSON.stringify(items)).toContain('call_g');
    expect(JSON.stringify(items)).not.toContain('secret code');
  });
});
