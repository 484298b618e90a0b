import { randomUUID } from 'node:crypto';
import type { ConversationMemory } from '@flux-rag/memory-core';
import {
  convertToModelMessages,
  lastAssistantMessageIsCompleteWithToolCalls,
  tool,
  type UIMessage,
  validateUIMessages,
} from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type ChatStore, createChatStore } from '../src/index.js';
import { BACKENDS, type OpenedBackend } from './support/backends.js';
import { type ChatServer, startChatServer } from './support/chat-server.js';
import { InProcessRedis } from './support/in-process-redis.js';
import { sendLastMessageOnly, type TestChat, testChat, until } from './support/node-chat.js';
import { richTurn, scriptedModel, textTurn, toolCallTurn } from './support/scripted-model.js';

const tools = {
  weather: tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, temperature: 21 }),
  }),
  // A client-side tool: no execute, the user answers in the UI.
  confirm: tool({ description: 'Ask the user to confirm', inputSchema: z.object({ question: z.string() }) }),
};

/** JSON-equal, as the contract promises payloads back: `undefined` fields dropped. */
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The text of a message's text parts. */
const textOf = (message: UIMessage | undefined): string =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');

/** `memory` with its `methods` going through `around(method, args, call)`; everything else as it is. */
function intercept(
  memory: ConversationMemory,
  methods: readonly string[],
  around: (method: string, args: unknown[], call: () => unknown) => unknown,
): ConversationMemory {
  return new Proxy(memory, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (typeof key !== 'string' || !methods.includes(key)) return value.bind(target);
      return (...args: unknown[]) => around(key, args, () => value.apply(target, args));
    },
  });
}

/** Counts the store's writes, to show what saveChat writes. */
function countingWrites(memory: ConversationMemory) {
  const calls: { method: string; messages: number }[] = [];
  const counted = intercept(memory, ['upsertMessages', 'rewriteHistory'], (method, [, arg], call) => {
    const messages =
      method === 'upsertMessages' ? (arg as unknown[]) : (arg as { messages: unknown[] }).messages;
    calls.push({ method, messages: messages.length });
    return call();
  });
  return { counted, calls };
}

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`AI SDK flows on ${name}`, () => {
    let backend: OpenedBackend;
    let store: ChatStore;
    let server: ChatServer;
    let writes: ReturnType<typeof countingWrites>['calls'];
    const { model, script, left } = scriptedModel();

    beforeAll(async () => {
      backend = await open();
      const counting = countingWrites(backend.memory);
      writes = counting.calls;
      store = createChatStore(counting.counted);
      server = await startChatServer({ store, model, tools });
    });
    afterAll(async () => {
      await server?.close();
      await backend?.destroy();
    });

    /** Sends `text` and waits for the reply and its save. */
    async function send(chat: TestChat, text: string, options: { messageId?: string } = {}) {
      await chat.sendMessage({ text, ...options });
      await until(() => chat.status !== 'submitted' && chat.status !== 'streaming', 'the reply');
      await server.settled();
    }

    async function expectStoredAsClient(chat: TestChat) {
      expect(chat.status).toBe('ready');
      expect(json(await store.loadChat(chat.id))).toEqual(json(chat.messages));
    }

    test('send: the user message and the streamed reply (reasoning signed, source, file) are stored as the client has them', async () => {
      const chat = testChat(server.url, randomUUID());
      script(textTurn('Hello! How can I help?', { reasoning: 'The user greets me.' }));
      await send(chat, 'Hi');
      await expectStoredAsClient(chat);
      const reply = chat.messages[1]!;
      expect(reply.id).toMatch(/^msg/);
      expect(reply.parts.find((part) => part.type === 'reasoning')).toMatchObject({
        text: 'The user greets me.',
        providerMetadata: { anthropic: { signature: 'sig-19' } },
      });
      expect(json((await store.loadChat(chat.id)).at(-1))).toEqual(json(server.ends.at(-1)!.responseMessage));

      script(richTurn('Here is Paris.'));
      await send(chat, 'Show me Paris');
      await expectStoredAsClient(chat);
      const types = chat.messages[3]!.parts.map((part) => part.type);
      expect(types).toEqual(expect.arrayContaining(['source-url', 'file', 'text', 'step-start']));
      // The chat's title is its first user message; content holds the text parts for search.
      const [listed] = (await store.listChats()).chats.filter((summary) => summary.id === chat.id);
      expect(listed).toMatchObject({ title: 'Hi', messageCount: 4 });
      const history = await backend.memory.getHistory(chat.id);
      expect(history.map((message) => message.content)).toEqual([
        'Hi',
        'Hello! How can I help?',
        'Show me Paris',
        'Here is Paris.',
      ]);
    });

    test('a tool call with its result: the server tool runs and the stored reply holds the call and its output', async () => {
      const chat = testChat(server.url, randomUUID());
      script(toolCallTurn('weather', 'call-w1', { city: 'Paris' }), textTurn('It is 21 degrees in Paris.'));
      await send(chat, 'Weather in Paris?');
      await expectStoredAsClient(chat);
      expect(chat.messages[1]!.parts).toContainEqual(
        expect.objectContaining({
          type: 'tool-weather',
          toolCallId: 'call-w1',
          state: 'output-available',
          output: { city: 'Paris', temperature: 21 },
        }),
      );
      expect(left()).toBe(0);
    });

    test('continue: a client tool answered with addToolOutput continues the same assistant message, upserted in place', async () => {
      const chat = testChat(server.url, randomUUID(), {
        sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      });
      script(toolCallTurn('confirm', 'call-c1', { question: 'Book the table?' }));
      await send(chat, 'Book a table');
      await expectStoredAsClient(chat);
      const replyId = chat.messages[1]!.id;
      expect(chat.messages[1]!.parts.at(-1)).toMatchObject({
        type: 'tool-confirm',
        state: 'input-available',
      });

      script(textTurn('Booked for 8 pm.'));
      writes.length = 0;
      await chat.addToolOutput({ tool: 'confirm', toolCallId: 'call-c1', output: 'yes' });
      await until(() => server.ends.at(-1)?.isContinuation === true, 'the continuation');
      await until(() => chat.status === 'ready', 'the client');
      await server.settled();
      await expectStoredAsClient(chat);
      expect(chat.messages).toHaveLength(2);
      expect(chat.messages[1]!.id).toBe(replyId);
      expect(server.ends.at(-1)!.responseMessage.id).toBe(replyId);
      // The request's save replaced the one changed message (its tool output); the reply's save replaced it again.
      expect(writes).toEqual([
        { method: 'upsertMessages', messages: 1 },
        { method: 'upsertMessages', messages: 1 },
      ]);
      expect(await backend.memory.getHistoryDigests(chat.id)).toHaveLength(2);
    });

    test('regenerate: the old reply is replaced by the new one in one compare-and-swap', async () => {
      const chat = testChat(server.url, randomUUID());
      script(textTurn('First answer.'));
      await send(chat, 'Tell me a joke');
      const oldReply = chat.messages[1]!.id;
      script(textTurn('Second answer.'));
      writes.length = 0;
      await chat.regenerate();
      await until(() => chat.status === 'ready', 'the regenerated reply');
      await server.settled();
      await expectStoredAsClient(chat);
      expect(chat.messages).toHaveLength(2);
      expect(chat.messages[1]!.id).not.toBe(oldReply);
      expect((await store.loadChat(chat.id)).map((m) => m.id)).not.toContain(oldReply);
      expect(writes).toEqual([
        { method: 'rewriteHistory', messages: 0 },
        { method: 'upsertMessages', messages: 1 },
      ]);
    });

    test('edit: an earlier user message edited (same id) drops the stale tail and stores the new reply', async () => {
      const chat = testChat(server.url, randomUUID());
      script(textTurn('Answer one.'), textTurn('Answer two.'));
      await send(chat, 'Question one');
      await send(chat, 'Question two');
      const firstId = chat.messages[0]!.id;
      script(textTurn('Answer to the edit.'));
      await send(chat, 'Question one, edited', { messageId: firstId });
      await expectStoredAsClient(chat);
      expect(chat.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
      expect(chat.messages[0]).toMatchObject({
        id: firstId,
        parts: [{ type: 'text', text: 'Question one, edited' }],
      });
      expect((await backend.memory.getHistory(chat.id)).map((message) => message.content)).toEqual([
        'Question one, edited',
        'Answer to the edit.',
      ]);
    });

    test('stop mid-stream: the partial reply is stored as onEnd gave it, marked aborted, and the chat goes on', async () => {
      const chat = testChat(server.url, randomUUID());
      script(textTurn('word '.repeat(400).trim(), { delayMs: 5 }));
      const ends = server.ends.length;
      const sending = chat.sendMessage({ text: 'Write a long text' });
      await until(() => {
        const last = chat.messages.at(-1);
        return (
          chat.messages.length === 2 &&
          last?.role === 'assistant' &&
          last.parts.some((part) => part.type === 'text' && part.text.length > 0)
        );
      }, 'the first text delta');
      await chat.stop();
      await sending;
      await until(() => server.ends.length > ends, 'onEnd after the abort');
      await server.settled();
      const end = server.ends.at(-1)!;
      // The client going away cancels the response stream: onEnd reports it cancelled (or aborted, when the
      // model call's abort got there first).
      expect(end.isAborted || end.isCancelled === true).toBe(true);
      const stored = await store.loadChat(chat.id);
      expect(json(stored.at(-1))).toEqual(json(end.responseMessage));
      const text = (end.responseMessage.parts.find((part) => part.type === 'text') as { text: string }).text;
      expect(text.length).toBeLessThan('word '.repeat(400).trim().length);
      const [, reply] = await backend.memory.getHistory(chat.id);
      expect(reply!.metadata).toMatchObject({ aiSdk: { aborted: true } });
      // What the next request needs: the partial history converts for the model.
      await expect(
        convertToModelMessages(stored, { tools, ignoreIncompleteToolCalls: true }),
      ).resolves.toHaveLength(2);

      script(textTurn('Shorter then.'));
      await send(chat, 'Make it short');
      await expectStoredAsClient(chat);
      const [, partial] = await backend.memory.getHistory(chat.id);
      expect(partial!.metadata).toMatchObject({ aiSdk: { aborted: true } });
    });

    test('resume: a client dropped mid-stream is replaced by a new one from readChat that resumes the stream; the complete reply is stored and no stream stays active', async () => {
      const redis = new InProcessRedis();
      const resumable = await startChatServer({ store, model, tools, resumable: redis });
      try {
        const id = randomUUID();
        const transport = { prepareSendMessagesRequest: sendLastMessageOnly };
        const long = 'word '.repeat(200).trim();
        script(textTurn(long, { delayMs: 5 }));
        const first = testChat(resumable.url, id, {}, transport);
        const sending = first.sendMessage({ text: 'Write a long text' });
        await until(
          () => textOf(first.messages[1]).length > 0 && resumable.streams.length === 1,
          'the first text delta and the stream registered',
        );
        // The tab goes away mid-stream. With resumable streams, stop() only closes this client's connection.
        await first.stop();
        await sending;
        expect(textOf(first.messages[1]).length).toBeLessThan(long.length);

        // What the page's reload reads: the user message, and the stream the server is still writing.
        const loaded = await store.readChat(id);
        expect(loaded.activeStreamId).toBe(resumable.streams[0]);
        expect(loaded.messages.map((message) => message.role)).toEqual(['user']);
        expect(resumable.ends).toHaveLength(0);

        const second = testChat(resumable.url, id, { messages: loaded.messages }, transport);
        await second.resumeStream();
        await until(() => second.status === 'ready', 'the resumed reply');
        await resumable.settled();
        // POST, then the GET that found the active stream.
        expect(resumable.statuses).toEqual([200, 200]);
        expect(resumable.ends).toHaveLength(1);
        expect(resumable.ends[0]).toMatchObject({ isAborted: false });
        expect(resumable.ends[0]!.isCancelled).toBeFalsy();
        expect(second.messages).toHaveLength(2);
        expect(textOf(second.messages[1])).toBe(long);
        expect(second.messages[1]!.id).toBe(first.messages[1]!.id);
        expect(json(await store.loadChat(id))).toEqual(json(second.messages));
        const [, reply] = await backend.memory.getHistory(id);
        expect(reply!.metadata).not.toHaveProperty('aiSdk.aborted');
        expect((await store.readChat(id)).activeStreamId).toBeNull();

        // The chat goes on from the new client: a fast reply's stream is registered and cleared as well.
        script(textTurn('Glad to help.'));
        await second.sendMessage({ text: 'Thanks' });
        await until(() => second.status === 'ready', 'the next reply');
        await resumable.settled();
        expect(second.messages.map(textOf)).toEqual(['Write a long text', long, 'Thanks', 'Glad to help.']);
        expect(json(await store.loadChat(id))).toEqual(json(second.messages));
        expect(resumable.streams).toHaveLength(2);
        expect((await store.readChat(id)).activeStreamId).toBeNull();

        // No active stream: the GET is a 204, and a client from readChat shows the stored messages unchanged.
        const third = testChat(
          resumable.url,
          id,
          { messages: (await store.readChat(id)).messages },
          transport,
        );
        await third.resumeStream();
        expect(resumable.statuses.at(-1)).toBe(204);
        expect(third.status).toBe('ready');
        expect(json(third.messages)).toEqual(json(await store.loadChat(id)));
        // Both streams finished: their producers and the resumed listener unsubscribed.
        expect(redis.subscribedChannels()).toEqual([]);
      } finally {
        await resumable.close();
      }
    });

    test("resume: a reply that ends before its stream's id is saved leaves no active stream (onEnd clears after the registration)", async () => {
      // The registration's write (`saveChat({ id, activeStreamId })`) is slowed past the reply's end.
      const slowRegistration = intercept(backend.memory, ['updateSession'], async (_, [, update], call) => {
        const patch = (update as { metadataPatch?: { aiSdk?: { activeStreamId?: unknown } } }).metadataPatch;
        if (typeof patch?.aiSdk?.activeStreamId === 'string') {
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
        return call();
      });
      const slowStore = createChatStore(slowRegistration);
      const resumable = await startChatServer({
        store: slowStore,
        model,
        tools,
        resumable: new InProcessRedis(),
      });
      try {
        const chat = testChat(
          resumable.url,
          randomUUID(),
          {},
          { prepareSendMessagesRequest: sendLastMessageOnly },
        );
        script(textTurn('Quick.'));
        await chat.sendMessage({ text: 'Be quick' });
        await until(() => chat.status === 'ready', 'the reply');
        await resumable.settled();
        expect(resumable.streams).toHaveLength(1);
        expect(await slowStore.readChat(chat.id)).toEqual({
          messages: json(chat.messages),
          activeStreamId: null,
        });
      } finally {
        await resumable.close();
      }
    });

    test("reload: a new client from loadChat sees exactly the first client's messages, and model input is equal", async () => {
      const first = testChat(server.url, randomUUID(), {
        sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      });
      script(
        toolCallTurn('weather', 'call-w2', { city: 'Oslo' }),
        textTurn('Cold in Oslo.', { reasoning: 'r' }),
      );
      await send(first, 'Weather in Oslo?');
      script(richTurn('A picture.'));
      await send(first, 'A picture please');
      const stored = await store.loadChat(first.id);
      const second = testChat(server.url, first.id, { messages: stored });
      expect(json(second.messages)).toEqual(json(first.messages));
      expect(await convertToModelMessages(stored, { tools })).toEqual(
        await convertToModelMessages(first.messages, { tools }),
      );
      await expect(validateUIMessages({ messages: stored, tools })).resolves.toHaveLength(4);

      script(textTurn('Still here.'));
      await send(second, 'Are you there?');
      await expectStoredAsClient(second);
    });

    test("without generateMessageId: the reply is stored under a generated id, then under the client's own id, with no 409", async () => {
      const bare = await startChatServer({ store, model, tools, generateMessageId: null });
      try {
        const chat = testChat(bare.url, randomUUID());
        script(textTurn('Hello.'));
        await chat.sendMessage({ text: 'Hi' });
        await until(() => chat.status === 'ready', 'the reply');
        await bare.settled();
        expect(bare.ends.at(-1)!.responseMessage.id).toBe('');
        const [, stored] = await backend.memory.getHistory(chat.id);
        expect(stored!.metadata).toEqual({ aiSdk: { generatedId: true } });
        expect(stored!.id).not.toBe(chat.messages[1]!.id);

        script(textTurn('Again.'));
        await chat.sendMessage({ text: 'Once more' });
        await until(() => chat.status === 'ready', 'the second reply');
        await bare.settled();
        expect(bare.statuses).toEqual([200, 200]);
        const history = await backend.memory.getHistory(chat.id);
        expect(history[1]!.id).toBe(chat.messages[1]!.id);
        expect(json(history.slice(0, 3).map((message) => message.payload))).toEqual(
          json(chat.messages.slice(0, 3)),
        );
      } finally {
        await bare.close();
      }
    });

    test('a data part streamed beside the reply (createUIMessageStream) is stored and reloaded as the client has it', async () => {
      const withData = await startChatServer({ store, model, tools, dataPart: true });
      try {
        const chat = testChat(withData.url, randomUUID());
        script(textTurn('Sunny.'));
        await chat.sendMessage({ text: 'Forecast?' });
        await until(() => chat.status === 'ready', 'the reply');
        await withData.settled();
        expect(chat.messages[1]!.parts).toContainEqual({
          type: 'data-weather',
          id: 'd1',
          data: { city: 'Paris', forecast: [20.5, 21] },
        });
        await expectStoredAsClient(chat);
        expect(json((await store.loadChat(chat.id))[1])).toEqual(json(withData.ends.at(-1)!.responseMessage));
      } finally {
        await withData.close();
      }
    });

    test("two tabs: the second tab's stale history is a 409 and changes nothing", async () => {
      const tabA = testChat(server.url, randomUUID());
      script(textTurn('Hello.'));
      await send(tabA, 'Hi');
      const tabB = testChat(server.url, tabA.id, { messages: await store.loadChat(tabA.id) });
      script(textTurn('From tab A.'));
      await send(tabA, 'Message in tab A');
      const before = await backend.memory.getHistoryDigests(tabA.id);

      await tabB.sendMessage({ text: 'Message in tab B' });
      await until(() => tabB.status === 'error', 'the 409');
      expect(server.statuses.at(-1)).toBe(409);
      expect(await backend.memory.getHistoryDigests(tabA.id)).toEqual(before);
      expect(json(await store.loadChat(tabA.id))).toEqual(json(tabA.messages));
      expect(left()).toBe(0);
    });
  });
}
