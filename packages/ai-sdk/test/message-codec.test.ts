import { type Metadata, messageDigest } from '@flux-rag/memory-core';
import { describe, expect, test } from 'vitest';
import { storedDigest, textContent, toNewMessage } from '../src/message-codec.js';
import { everyPartConversation } from './support/every-part.js';

describe('message codec', () => {
  test("storedDigest is the contract's messageDigest for every message this package builds", () => {
    const messages = everyPartConversation();
    const metadatas: Metadata[] = [
      {},
      { aiSdk: { aborted: true, finishReason: 'other' } },
      { app: { tags: ['x'] } },
    ];
    for (const message of messages) {
      for (const metadata of metadatas) {
        const stored = toNewMessage(message, message.id, metadata);
        expect(storedDigest(stored)).toBe(messageDigest(stored));
      }
    }
    // undefined fields, which the client state carries, are dropped by both
    const withUndefined = toNewMessage({ ...messages[1]!, metadata: undefined }, 'x');
    expect(storedDigest(withUndefined)).toBe(messageDigest(withUndefined));
  });

  test('content: the text parts joined by a newline', () => {
    expect(
      textContent({
        id: 'a',
        role: 'assistant',
        parts: [
          { type: 'text', text: 'one' },
          { type: 'reasoning', text: 'hidden' },
          { type: 'text', text: 'two' },
        ],
      }),
    ).toBe('one\ntwo');
  });
});
