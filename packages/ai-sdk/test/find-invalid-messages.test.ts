import { TypeValidationError, tool, type UIMessage, validateUIMessages } from 'ai';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { findInvalidMessages } from '../src/index.js';
import { everyPartConversation } from './support/every-part.js';

const weatherPart = (input: unknown) => ({
  type: 'tool-weather',
  toolCallId: 'c1',
  state: 'output-available',
  input,
  output: { temperature: 21 },
});

const messages: UIMessage[] = [
  { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Weather in Paris?' }] },
  { id: 'a1', role: 'assistant', parts: [weatherPart({ city: 'Paris' }) as UIMessage['parts'][number]] },
  { id: 'a2', role: 'assistant', parts: [weatherPart({ town: 'Paris' }) as UIMessage['parts'][number]] },
  {
    id: 'a3',
    role: 'assistant',
    parts: [{ type: 'x-future-part', value: 1 } as unknown as UIMessage['parts'][number]],
  },
  { id: 'u2', role: 'user', metadata: { locale: 42 }, parts: [{ type: 'text', text: 'ok' }] },
];

describe('findInvalidMessages', () => {
  test("reports, per message id, those the SDK refuses with the app's schemas, with the SDK's reason", async () => {
    const given = structuredClone(messages);
    const tools = {
      weather: tool({
        inputSchema: z.object({ city: z.string() }),
        execute: async () => ({ temperature: 21 }),
      }),
    };
    const invalid = await findInvalidMessages(messages, {
      tools,
      metadataSchema: z.object({ locale: z.string() }).optional(),
    });
    expect(invalid.map(({ id, index }) => ({ id, index }))).toEqual([
      { id: 'a2', index: 2 },
      { id: 'a3', index: 3 },
      { id: 'u2', index: 4 },
    ]);
    for (const { error } of invalid) expect(TypeValidationError.isInstance(error)).toBe(true);
    expect(String(invalid[1]!.error.message)).toMatch(/type/i);
    // It drops and changes nothing: the list is as given, and the SDK refuses the same list as a whole.
    expect(messages).toEqual(given);
    await expect(validateUIMessages({ messages, tools })).rejects.toThrow();
  });

  test("without schemas only the SDK's own structure is checked: the fixture's unknown part type is reported", async () => {
    const invalid = await findInvalidMessages(everyPartConversation());
    expect(invalid.map(({ id }) => id)).toEqual(['assistant-1']);
    const known = everyPartConversation().map((message) => ({
      ...message,
      parts: message.parts.filter((part) => (part.type as string) !== 'x-future-part'),
    }));
    expect(await findInvalidMessages(known)).toEqual([]);
  });
});
