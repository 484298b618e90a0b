import { randomUUID } from 'node:crypto';
import { convertToModelMessages, type UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ChatStore, createChatStore, UI_MESSAGE_FORMAT } from '../src/index.js';
import { BACKENDS, type OpenedBackend } from './support/backends.js';
import { everyPartConversation } from './support/every-part.js';

const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`UIMessage round trip on ${name}`, () => {
    let backend: OpenedBackend;
    let store: ChatStore;
    beforeAll(async () => {
      backend = await open();
      store = createChatStore(backend.memory);
    });
    afterAll(() => backend?.destroy());

    test('every part type in every state, unknown part types, message metadata and ids come back deep-equal', async () => {
      const id = randomUUID();
      const messages = everyPartConversation();
      const given = structuredClone(messages);
      await store.saveChat({ id, messages });
      expect(messages).toEqual(given);
      const loaded = await store.loadChat(id);
      expect(loaded).toEqual(json(messages));
      expect(loaded.map((message) => message.id)).toEqual(['sys-1', 'user-1', 'assistant-1']);
      // A second client loading it and saving it back writes nothing.
      expect(await store.saveChat({ id, messages: loaded })).toEqual({
        created: false,
        written: 0,
        removed: 0,
      });
    });

    test('stored form: id, role, text parts as content, the whole message as payload, format ai-sdk/ui-message', async () => {
      const id = randomUUID();
      const messages = everyPartConversation();
      await store.saveChat({ id, messages });
      const history = await backend.memory.getHistory(id);
      expect(history.map((message) => [message.id, message.role, message.format])).toEqual([
        ['sys-1', 'system', UI_MESSAGE_FORMAT],
        ['user-1', 'user', UI_MESSAGE_FORMAT],
        ['assistant-1', 'assistant', UI_MESSAGE_FORMAT],
      ]);
      expect(history[1]!.content).toBe('Weather, and look at this: ünïcödé 🌦 "quoted" \\ end');
      expect(history[2]!.content).toBe('It is 21 °C.\nSecond paragraph.');
      expect(history[1]!.payload).toEqual(json(messages[1]));
      expect(history.every((message) => JSON.stringify(message.metadata) === '{}')).toBe(true);
    });

    test('a message another writer stored as plain text loads as a text message; a tool row reads as assistant', async () => {
      const id = await backend.memory.createSession();
      await backend.memory.addMessage(id, { role: 'user', content: 'plain question' });
      await backend.memory.addMessage(id, { role: 'tool', content: '{"ok":true}' });
      const loaded = await store.loadChat(id);
      expect(loaded.map(({ role, parts }) => ({ role, parts }))).toEqual([
        { role: 'user', parts: [{ type: 'text', text: 'plain question' }] },
        { role: 'assistant', parts: [{ type: 'text', text: '{"ok":true}' }] },
      ]);
      await expect(convertToModelMessages(loaded)).resolves.toHaveLength(2);
      const next: UIMessage[] = [
        ...loaded,
        { id: 'u2', role: 'user', parts: [{ type: 'text', text: 'more' }] },
      ];
      // Saving back rewrites the plain rows as UI messages in place and appends the new one.
      const result = await store.saveChat({ id, messages: next });
      expect(result).toMatchObject({ written: 3, removed: 0 });
      expect(await store.loadChat(id)).toEqual(next);
    });
  });
}
