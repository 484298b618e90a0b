import type { Message } from '@flux-rag/memory-core';
import { describe, expect, test } from 'vitest';
import { messageJson, messageLines } from './history.js';

const structured: Message = {
  id: 'm-1',
  sessionId: 's-1',
  role: 'assistant',
  content: 'The answer is 42.',
  createdAt: new Date('2025-03-01T12:00:00.000Z'),
  metadata: { z: 1, a: 2 },
  format: 'ai-sdk/ui-message',
  payload: { role: 'assistant', parts: [{ type: 'text', text: 'The answer is 42.' }], zeta: 1, alpha: 2 },
};

describe('history output', () => {
  test('--json shows the whole message: payload as stored (key order kept) and format', () => {
    const json = messageJson(structured);
    expect(json).toEqual({
      id: 'm-1',
      sessionId: 's-1',
      role: 'assistant',
      content: 'The answer is 42.',
      createdAt: '2025-03-01T12:00:00.000Z',
      metadata: { a: 2, z: 1 },
      format: 'ai-sdk/ui-message',
      payload: structured.payload,
    });
    // Metadata keys are sorted for stable output; the payload's are not touched (its digest depends on them).
    expect(Object.keys(json.metadata)).toEqual(['a', 'z']);
    expect(Object.keys(json.payload as object)).toEqual(['role', 'parts', 'zeta', 'alpha']);
  });

  test('for people: the content, the format named, never the payload itself', () => {
    const text = messageLines(structured).join('\n');
    expect(text).toContain('  The answer is 42.');
    expect(text).toContain('(ai-sdk/ui-message)');
    expect(text).not.toContain('parts');
    const plain = messageLines({ ...structured, format: null, payload: null }).join('\n');
    expect(plain).not.toContain('(');
  });
});
