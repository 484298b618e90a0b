import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  FunctionMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';

/**
 * Hand-built messages with every field the issue names: content blocks, tool calls, invalid tool calls, tool call
 * ids, names, ids (a `run-` id, and one longer than the store's 255-character ids), usage and response metadata,
 * plus an object that looks like a serialized LangChain object (escaped by `toDict()`) and an `undefined` value.
 */
export function handBuiltMessages(): BaseMessage[] {
  return [
    new SystemMessage({ content: 'You are a terse weather assistant.', id: 'sys-1' }),
    new HumanMessage({
      id: 'h-1',
      name: 'alice',
      content: [
        { type: 'text', text: 'What is the weather where this photo was taken?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
      ],
    }),
    new AIMessage({
      id: 'run-0b7f3c52-8d5e-4a8c-9c1e-3f2a1b0c9d8e',
      content: [{ type: 'text', text: 'Checking Paris and Lyon.' }],
      tool_calls: [
        { id: 'call_1', name: 'get_weather', args: { city: 'Paris', units: ['C'] }, type: 'tool_call' },
        { id: 'call_2', name: 'get_weather', args: { city: 'Lyon', units: ['C'] }, type: 'tool_call' },
      ],
      invalid_tool_calls: [
        {
          id: 'call_3',
          name: 'get_weather',
          args: '{"city": "Nic',
          error: 'Unterminated string',
          type: 'invalid_tool_call',
        },
      ],
      usage_metadata: {
        input_tokens: 31,
        output_tokens: 18,
        total_tokens: 49,
        input_token_details: { cache_read: 12 },
        output_token_details: { reasoning: 4 },
      },
      response_metadata: { model_name: 'fake-weather-1', finish_reason: 'tool_calls', logprobs: null },
      additional_kwargs: {
        lookalike: { lc: 1, type: 'constructor', id: ['not', 'a', 'class'] },
        gone: undefined,
      },
    }),
    new ToolMessage({
      id: 't-1',
      content: '{"temp_c":21}',
      tool_call_id: 'call_1',
      name: 'get_weather',
      status: 'success',
      artifact: { raw: [21, 'C'] },
    }),
    new ToolMessage({
      content: 'upstream timeout',
      tool_call_id: 'call_2',
      name: 'get_weather',
      status: 'error',
    }),
    new AIMessage({
      id: `msg_${'x'.repeat(300)}`,
      content: 'Paris: 21 °C. Lyon: no answer from the service.',
    }),
    new FunctionMessage({ content: '{"ok":true}', name: 'legacy_function' }),
    new ChatMessage({ content: 'Looks right.', role: 'critic' }),
  ];
}

/** The messages as LangChain serializes them: the comparison of a round trip. */
export function asDicts(messages: BaseMessage[]): string {
  return JSON.stringify(messages.map((message) => message.toDict()));
}
