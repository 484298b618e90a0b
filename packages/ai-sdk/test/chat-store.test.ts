import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '@flux-rag/memory-core';
import type { UIMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ChatStore, createChatStore } from '../src/index.js';
import { BACKENDS, type OpenedBackend } from './support/backends.js';

const user = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });
/** What saveChat reports: messages written and removed, and whether it created the chat. */
const wrote = (written: number, removed: number, created = false) => ({ created, written, removed });
const assistant = (id: string, text: string): UIMessage => ({
  id,
  role: 'assistant',
  parts: [{ type: 'step-start' }, { type: 'text', text, state: 'done' }],
});

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`chat store on ${name}`, () => {
    let backend: OpenedBackend;
    let store: ChatStore;
    beforeAll(async () => {
      backend = await open();
      store = createChatStore(backend.memory, {
        generateId: (() => {
          let n = 0;
          return () => `gen-${++n}`;
        })(),
      });
    });
    afterAll(() => backend?.destroy());

    test('saveChat writes only what changed: nothing when saved twice, only the new message after a reply', async () => {
      const id = randomUUID();
      const history = [user('u1', 'Hi'), assistant('a1', 'Hello')];
      expect(await store.saveChat({ id, messages: history })).toEqual(wrote(2, 0, true));
      expect(await store.saveChat({ id, messages: history })).toEqual(wrote(0, 0));
      const next = [...history, user('u2', 'More')];
      expect(await store.saveChat({ chatId: id, messages: next })).toEqual(wrote(1, 0));
      expect(await store.loadChat(id)).toEqual(next);
    });

    test('a stale history (another tab appended meanwhile) is a ConflictError and changes nothing', async () => {
      const id = randomUUID();
      await store.saveChat({
        id,
        messages: [user('u1', 'Hi'), assistant('a1', 'Hello'), user('u2', 'Tab A')],
      });
      const before = await backend.memory.getHistoryDigests(id);
      for (const stale of [
        [user('u1', 'Hi'), assistant('a1', 'Hello'), user('u3', 'Tab B')],
        [user('u1', 'Hi'), user('u3', 'Tab B')],
      ]) {
        const error = await store.saveChat({ id, messages: stale }).catch((caught: unknown) => caught);
        expect(ConflictError.isInstance(error)).toBe(true);
        expect(await backend.memory.getHistoryDigests(id)).toEqual(before);
      }
      // A plain send that would drop stored messages is refused too.
      await expect(
        store.saveChat({ id, messages: [user('u1', 'Hi')], trigger: 'submit-message' }),
      ).rejects.toSatisfy(ConflictError.isInstance);
      // A regenerate of a message that is not the one after the history sent is refused.
      await expect(
        store.saveChat({ id, messages: [user('u1', 'Hi')], trigger: 'regenerate-message', messageId: 'u2' }),
      ).rejects.toSatisfy(ConflictError.isInstance);
      expect(await backend.memory.getHistoryDigests(id)).toEqual(before);
    });

    test('regenerate and edit without a request save: the reply replaces the stale tail in one rewrite', async () => {
      const id = randomUUID();
      await store.saveChat({
        id,
        messages: [user('u1', 'Q1'), assistant('a1', 'A1'), user('u2', 'Q2'), assistant('a2', 'A2')],
      });
      // regenerate a2 (what onEnd gives when the route did not save the request first)
      const regenerated = [
        user('u1', 'Q1'),
        assistant('a1', 'A1'),
        user('u2', 'Q2'),
        assistant('a3', 'A2 again'),
      ];
      expect(await store.saveChat({ id, messages: regenerated })).toEqual(wrote(1, 1));
      // edit u1 (same id): the SDK drops everything after it and streams a new reply
      const edited = [user('u1', 'Q1 edited'), assistant('a4', 'A1 again')];
      expect(await store.saveChat({ id, messages: edited })).toEqual(wrote(2, 4));
      expect(await store.loadChat(id)).toEqual(edited);
    });

    test("a reply with the empty id gets a generated id, flagged; a retried save and the client's own id reuse it", async () => {
      const id = randomUUID();
      const reply = assistant('', 'Hello');
      await store.saveChat({ id, messages: [user('u1', 'Hi'), reply] });
      const [, stored] = await backend.memory.getHistory(id);
      expect(stored!.id).toMatch(/^gen-/);
      expect(stored!.metadata).toEqual({ aiSdk: { generatedId: true } });
      expect((await store.loadChat(id))[1]!.id).toBe(stored!.id);
      // onEnd's messages saved again: same position, same message, nothing written.
      expect(await store.saveChat({ id, messages: [user('u1', 'Hi'), reply] })).toMatchObject({ written: 0 });
      // The client made up its own id for that reply: the next request stores it under the client's id.
      const client = [user('u1', 'Hi'), assistant('client-a1', 'Hello'), user('u2', 'Next')];
      expect(await store.saveChat({ id, messages: client })).toEqual(wrote(2, 1));
      expect(await store.loadChat(id)).toEqual(client);
    });

    test('abort flags are kept on the stored message when the client sends it back without them', async () => {
      const id = randomUUID();
      const partial = assistant('a1', 'Half a rep');
      await store.saveChat({
        id,
        messages: [user('u1', 'Hi'), partial],
        end: {
          responseMessage: partial,
          isAborted: true,
          outcome: { status: 'aborted' },
          finishReason: 'other',
        },
      });
      const flags = { aiSdk: { aborted: true, outcome: 'aborted', finishReason: 'other' } };
      expect((await backend.memory.getHistory(id))[1]!.metadata).toEqual(flags);
      expect(
        await store.saveChat({ id, messages: [user('u1', 'Hi'), partial, user('u2', 'Go on')] }),
      ).toMatchObject({
        written: 1,
      });
      expect((await backend.memory.getHistory(id))[1]!.metadata).toEqual(flags);
    });

    test('activeStreamId: set, read, and cleared by the stop route only while it is still the active one', async () => {
      const id = randomUUID();
      expect(await store.readChat(id)).toEqual({ messages: [], activeStreamId: null });
      await store.saveChat({ id, messages: [user('u1', 'Hi')], activeStreamId: null });
      await store.saveChat({ id, activeStreamId: 'stream-1' });
      expect(await store.readChat(id)).toEqual({ messages: [user('u1', 'Hi')], activeStreamId: 'stream-1' });
      expect(await store.clearActiveStream(id, 'stream-0')).toBe(false);
      expect((await store.readChat(id)).activeStreamId).toBe('stream-1');
      expect(await store.clearActiveStream(id, 'stream-1')).toBe(true);
      expect((await store.readChat(id)).activeStreamId).toBeNull();
      expect(await store.clearActiveStream(randomUUID(), 'stream-1')).toBe(false);
    });

    test("owner scoping: another owner's chat loads as [] and cannot be written; saveChat creates for the owner", async () => {
      const alice = createChatStore(backend.memory.forOwner('alice'));
      const bob = createChatStore(backend.memory.forOwner('bob'));
      const id = randomUUID();
      await alice.saveChat({ id, messages: [user('u1', 'Alice here')] });
      expect((await backend.memory.getSession(id))?.ownerId).toBe('alice');
      expect(await bob.loadChat(id)).toEqual([]);
      expect(await bob.readChat(id)).toEqual({ messages: [], activeStreamId: null });
      await expect(bob.saveChat({ id, messages: [user('u9', 'Bob here')] })).rejects.toSatisfy(
        ConflictError.isInstance,
      );
      expect(await bob.deleteChat(id)).toBe(false);
      expect((await bob.listChats()).chats.map((chat) => chat.id)).not.toContain(id);
      expect(await alice.loadChat(id)).toEqual([user('u1', 'Alice here')]);
    });

    test('listChats pages by most recent activity with titles; deleteChat removes a chat', async () => {
      const scoped = createChatStore(backend.memory.forOwner(`lister-${randomUUID()}`));
      const ids: string[] = [];
      for (const title of ['first', 'second', 'third']) {
        ids.push(await scoped.createChat({ title }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      await scoped.saveChat({ id: ids[0]!, messages: [user('u1', 'bump')] });
      const page1 = await scoped.listChats({ limit: 2 });
      expect(page1.chats.map((chat) => chat.title)).toEqual(['first', 'third']);
      expect(page1.chats[0]!.messageCount).toBe(1);
      const page2 = await scoped.listChats({ limit: 2, cursor: page1.nextCursor! });
      expect(page2).toEqual({ chats: [expect.objectContaining({ title: 'second' })], nextCursor: null });
      expect(await scoped.deleteChat(ids[1]!)).toBe(true);
      expect(await scoped.deleteChat(ids[1]!)).toBe(false);
      expect((await scoped.listChats()).chats.map((chat) => chat.title)).toEqual(['first', 'third']);
      for (const cursor of [
        '',
        'not a cursor',
        Buffer.from('{"o":-1}').toString('base64url'),
        'x'.repeat(100),
      ]) {
        const error = await scoped.listChats({ cursor }).catch((caught: unknown) => caught);
        expect(ValidationError.isInstance(error) && error.field).toBe('cursor');
      }
      await expect(scoped.listChats({ limit: 0 })).rejects.toSatisfy(ValidationError.isInstance);
    });

    test('bad input is a ValidationError naming the field, and nothing is written', async () => {
      const id = randomUUID();
      await expect(store.saveChat({ messages: [] } as never)).rejects.toSatisfy(ValidationError.isInstance);
      const error = await store
        .saveChat({ id, messages: [user('u1', 'Hi'), { role: 'user', parts: [] } as unknown as UIMessage] })
        .catch((caught: unknown) => caught);
      expect(ValidationError.isInstance(error) && error.field).toBe('messages[1].id');
      expect(await backend.memory.getSession(id)).toBeNull();
    });
  });
}
