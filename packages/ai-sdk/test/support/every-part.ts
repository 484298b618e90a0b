import type { UIMessage } from 'ai';

const pm = { openai: { itemId: 'it_1', nested: { list: [1, 'two', null, { deep: true }] } } };
const call = (toolCallId: string) => ({ toolCallId, title: 'Weather', toolMetadata: { source: 'test' } });

/** The tool part in every state the SDK has, for a static (`tool-weather`) or the dynamic tool. */
function toolParts(type: string, extra: Record<string, unknown>): Record<string, unknown>[] {
  const input = { city: 'Paris' };
  return [
    {
      type,
      ...extra,
      ...call('c1'),
      state: 'input-streaming',
      input: { city: 'Pa' },
      rawInput: '{"city":"Pa',
    },
    { type, ...extra, ...call('c2'), state: 'input-available', input, callProviderMetadata: pm },
    { type, ...extra, ...call('c3'), state: 'approval-requested', input, approval: { id: 'ap1' } },
    {
      type,
      ...extra,
      ...call('c4'),
      state: 'approval-responded',
      input,
      approval: { id: 'ap2', approved: true, reason: 'ok' },
    },
    {
      type,
      ...extra,
      ...call('c5'),
      state: 'output-available',
      input,
      output: { temperature: 21, unit: 'C' },
      preliminary: false,
      providerExecuted: true,
      resultProviderMetadata: pm,
    },
    { type, ...extra, ...call('c6'), state: 'output-error', input, errorText: 'the weather service is down' },
    {
      type,
      ...extra,
      ...call('c7'),
      state: 'output-denied',
      input,
      approval: { id: 'ap3', approved: false, reason: 'no' },
    },
  ];
}

/**
 * A conversation holding every part type of AI SDK 7 in every state, provider metadata, message metadata, and
 * part types this package does not know (a future SDK's, a custom one): each must come back deep-equal.
 */
export function everyPartConversation(): UIMessage[] {
  return [
    {
      id: 'sys-1',
      role: 'system',
      parts: [{ type: 'text', text: 'You are terse.' }],
    },
    {
      id: 'user-1',
      role: 'user',
      metadata: { createdAt: 1765000000000, locale: 'fr-FR', nested: { a: [1, 2, { b: null }] } },
      parts: [
        { type: 'text', text: 'Weather, and look at this: ünïcödé 🌦 "quoted" \\ end' },
        {
          type: 'file',
          mediaType: 'image/png',
          filename: 'photo.png',
          url: 'data:image/png;base64,iVBORw0KGgo=',
        },
        {
          type: 'file',
          mediaType: 'application/pdf',
          url: 'https://example.com/doc.pdf',
          providerReference: { openai: 'file-1' },
        },
      ],
    },
    {
      id: 'assistant-1',
      role: 'assistant',
      metadata: { model: 'mock', usage: { inputTokens: 3 } },
      parts: [
        { type: 'step-start' },
        {
          type: 'reasoning',
          id: 'rs1',
          text: 'Thinking...',
          state: 'done',
          providerMetadata: { anthropic: { signature: 'sig-abc' } },
        },
        { type: 'reasoning-file', mediaType: 'image/png', url: 'data:image/png;base64,AAAA' },
        ...(toolParts('tool-weather', {}) as UIMessage['parts']),
        ...(toolParts('dynamic-tool', { toolName: 'lookup' }) as UIMessage['parts']),
        {
          type: 'source-url',
          sourceId: 's1',
          url: 'https://example.com/a',
          title: 'A',
          providerMetadata: pm,
        },
        {
          type: 'source-document',
          sourceId: 's2',
          mediaType: 'application/pdf',
          title: 'Doc',
          filename: 'doc.pdf',
        },
        { type: 'data-weather', id: 'd1', data: { city: 'Paris', forecast: [{ day: 1, t: 20.5 }] } },
        { type: 'data-progress', data: 'done' },
        { type: 'custom', kind: 'openai.compaction', providerMetadata: pm } as UIMessage['parts'][number],
        { type: 'steering-message', id: 'st1', parts: [{ type: 'text', text: 'be brief' }] },
        { type: 'step-start' },
        {
          type: 'text',
          text: 'It is 21 °C.',
          state: 'done',
          citations: [
            {
              source: {
                type: 'source',
                sourceType: 'url',
                id: 's1',
                url: 'https://example.com/a',
                title: 'A',
              },
              startIndex: 0,
              endIndex: 5,
              citedText: 'It is',
            },
          ],
          providerMetadata: pm,
        } as UIMessage['parts'][number],
        { type: 'text', text: 'Second paragraph.' },
        // Part types this package (and this SDK version) does not know: kept as they are.
        {
          type: 'x-future-part',
          payload: { anything: [true, 1.5, 'x'] },
        } as unknown as UIMessage['parts'][number],
      ],
    },
  ];
}
