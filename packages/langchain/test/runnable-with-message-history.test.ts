import type { ConversationMemory } from '@flux-rag/memory-core';
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  HumanMessage,
  type ToolCall,
  ToolMessage,
  trimMessages,
} from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import {
  type Runnable,
  RunnableLambda,
  RunnablePassthrough,
  RunnableWithMessageHistory,
} from '@langchain/core/runnables';
import { FakeListChatModel, FakeStreamingChatModel, FakeTool } from '@langchain/core/utils/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FluxChatMessageHistory } from '../src/index.js';
import { useBackends } from './support.js';

const { backends } = useBackends();

const weather = new FakeTool({
  name: 'get_weather',
  description: 'The weather of a city',
  schema: z.object({ city: z.string() }),
});

/** A model turn that calls `get_weather` (the fake's `_generate` returns `chunks[0]`'s tool calls). */
function callsWeather(id: string, city: string): Runnable<unknown, AIMessage> {
  const toolCall: ToolCall = { id, name: 'get_weather', args: { city }, type: 'tool_call' };
  return new FakeStreamingChatModel({
    sleep: 0,
    responses: [new AIMessage('')],
    chunks: [new AIMessageChunk({ content: '', tool_calls: [toolCall] })],
  }).bindTools([weather]) as Runnable<unknown, AIMessage>;
}

/** A model turn that answers with text. */
function answers(text: string): Runnable<unknown, AIMessage> {
  return new FakeListChatModel({ responses: [text] }) as unknown as Runnable<unknown, AIMessage>;
}

/**
 * A scripted "model": each call is served by the next fake of the script, and what each received is recorded
 * through LangChain's own callback (`handleChatModelStart`), i.e. the messages the chat model was given.
 */
function scriptedModel(script: Array<Runnable<unknown, AIMessage>>) {
  const received: BaseMessage[][] = [];
  const model = RunnableLambda.from(async (input: unknown, config) => {
    const next = script.shift();
    if (!next) throw new Error('the script has no more turns');
    return next.invoke(input, {
      ...config,
      callbacks: [{ handleChatModelStart: (_llm, messages) => void received.push(messages[0]!) }],
    });
  });
  return { model, received };
}

const prompt = ChatPromptTemplate.fromMessages([
  ['system', 'You are a weather assistant.'],
  new MessagesPlaceholder('history'),
  new MessagesPlaceholder('input'),
]);

const types = (messages: BaseMessage[]) => messages.map((m) => m.type);

function firstToolCall(message: AIMessage): ToolCall {
  const call = message.tool_calls?.[0];
  if (!call) throw new Error('the model turn made no tool call');
  return call;
}

describe.each(backends)('RunnableWithMessageHistory on $name', (backend) => {
  it('invoke - four turns with tool calls are stored and fed back from the store', async () => {
    const { memory } = await backend.create();
    const { model, received } = scriptedModel([
      callsWeather('call_paris', 'Paris'),
      answers('Sunny in Paris.'),
      callsWeather('call_lyon', 'Lyon'),
      answers('Rain in Lyon.'),
    ]);
    const chain = withFluxHistory(memory, prompt.pipe(model));
    const config = { configurable: { sessionId: 'weather-1' } };

    const turn1 = (await chain.invoke(
      { input: [new HumanMessage('Weather in Paris?')] },
      config,
    )) as AIMessage;
    expect(turn1.tool_calls).toMatchObject([{ id: 'call_paris', args: { city: 'Paris' } }]);
    const result1 = (await weather.invoke(firstToolCall(turn1))) as ToolMessage;
    await chain.invoke({ input: [result1] }, config);
    const turn3 = (await chain.invoke({ input: [new HumanMessage('And Lyon?')] }, config)) as AIMessage;
    const result3 = (await weather.invoke(firstToolCall(turn3))) as ToolMessage;
    const turn4 = (await chain.invoke({ input: [result3] }, config)) as AIMessage;
    expect(turn4.text).toBe('Rain in Lyon.');

    // Each turn the model got the system prompt, everything stored before, and the new input.
    expect(received.map(types)).toEqual([
      ['system', 'human'],
      ['system', 'human', 'ai', 'tool'],
      ['system', 'human', 'ai', 'tool', 'ai', 'human'],
      ['system', 'human', 'ai', 'tool', 'ai', 'human', 'ai', 'tool'],
    ]);
    // The tool call and its result came back from the store with their ids, so the model can pair them.
    const fourth = received[3]!;
    expect((fourth[2] as AIMessage).tool_calls).toMatchObject([{ id: 'call_paris', name: 'get_weather' }]);
    expect(fourth[3]).toBeInstanceOf(ToolMessage);
    expect((fourth[3] as ToolMessage).tool_call_id).toBe('call_paris');
    expect((fourth[7] as ToolMessage).tool_call_id).toBe('call_lyon');

    const stored = await new FluxChatMessageHistory({ memory, sessionId: 'weather-1' }).getMessages();
    expect(types(stored)).toEqual(['human', 'ai', 'tool', 'ai', 'human', 'ai', 'tool', 'ai']);
    expect(stored.map((m) => m.text)).toEqual([
      'Weather in Paris?',
      '',
      '{"city":"Paris"}',
      'Sunny in Paris.',
      'And Lyon?',
      '',
      '{"city":"Lyon"}',
      'Rain in Lyon.',
    ]);
    expect(JSON.stringify(stored[6]!.toDict())).toBe(JSON.stringify(result3.toDict()));
  });

  it('invoke - trimMessages feeds the model the last turns only, and the store keeps everything', async () => {
    const { memory } = await backend.create();
    const history = new FluxChatMessageHistory({ memory, sessionId: 'trimmed' });
    await history.addMessages([
      new HumanMessage('Weather in Paris?'),
      new AIMessage({
        content: '',
        tool_calls: [{ id: 'c1', name: 'get_weather', args: { city: 'Paris' } }],
      }),
      new ToolMessage({ content: 'sunny', tool_call_id: 'c1' }),
      new AIMessage('Sunny in Paris.'),
      new HumanMessage('And Lyon?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'c2', name: 'get_weather', args: { city: 'Lyon' } }] }),
      new ToolMessage({ content: 'rain', tool_call_id: 'c2' }),
      new AIMessage('Rain in Lyon.'),
    ]);
    // A local token counter (one token per message): given a model instead, trimMessages would fetch tiktoken's
    // tables from the network. The last 5 messages would start on a ToolMessage; startOn drops up to the human.
    const trimmer = trimMessages({
      maxTokens: 5,
      tokenCounter: (messages) => messages.length,
      strategy: 'last',
      startOn: 'human',
    });
    const { model, received } = scriptedModel([answers('Dry in Nice.')]);
    const runnable = RunnablePassthrough.assign({
      history: RunnableLambda.from((input: { history: BaseMessage[] }) => trimmer.invoke(input.history)),
    })
      .pipe(prompt)
      .pipe(model);
    const chain = withFluxHistory(memory, runnable);

    await chain.invoke(
      { input: [new HumanMessage('And Nice?')] },
      { configurable: { sessionId: 'trimmed' } },
    );

    expect(received).toHaveLength(1);
    expect(received[0]!.map((m) => [m.type, m.text])).toEqual([
      ['system', 'You are a weather assistant.'],
      ['human', 'And Lyon?'],
      ['ai', ''],
      ['tool', 'rain'],
      ['ai', 'Rain in Lyon.'],
      ['human', 'And Nice?'],
    ]);
    const stored = await history.getMessages();
    expect(stored).toHaveLength(10);
    expect(stored.slice(-2).map((m) => m.text)).toEqual(['And Nice?', 'Dry in Nice.']);
  });
});

/** LangChain's documented wiring; only `getMessageHistory` is this package's. */
function withFluxHistory(memory: ConversationMemory, runnable: Runnable) {
  return new RunnableWithMessageHistory({
    runnable,
    getMessageHistory: (sessionId: string) => new FluxChatMessageHistory({ memory, sessionId }),
    inputMessagesKey: 'input',
    historyMessagesKey: 'history',
  });
}
