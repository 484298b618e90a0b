import type { AgentInputItem } from '@openai/agents-core';

/** An item id longer than the store's 255-character message ids: it must stay in the payload, untouched. */
export const LONG_ITEM_ID = `msg_${'x'.repeat(400)}`;

/**
 * One item of every type of `AgentInputItem` in 0.20, with the optional fields set (status, ids, provider data),
 * plus one of a type this package does not know, each with the role and content the mapping must give it.
 */
export const EVERY_ITEM: ReadonlyArray<{ item: AgentInputItem; role: string; content: string }> = [
  { item: { role: 'system', content: 'Be brief.' }, role: 'system', content: 'Be brief.' },
  { item: { role: 'user', content: 'Weather in Paris?' }, role: 'user', content: 'Weather in Paris?' },
  {
    item: {
      type: 'message',
      role: 'user',
      id: LONG_ITEM_ID,
      content: [
        { type: 'input_text', text: 'Look at this' },
        { type: 'input_image', image: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
        { type: 'input_file', file: { url: 'https://example.com/a.pdf' }, filename: 'a.pdf' },
        { type: 'input_text', text: 'and this' },
      ],
    },
    role: 'user',
    content: 'Look at this\nand this',
  },
  {
    item: {
      type: 'message',
      role: 'assistant',
      id: 'msg_1',
      status: 'completed',
      phase: 'final_answer',
      content: [
        { type: 'output_text', text: 'Sunny.', providerData: { annotations: [] } },
        { type: 'refusal', refusal: 'No forecast beyond today.' },
        { type: 'audio', audio: 'UklGRg==', format: 'wav', transcript: 'spoken' },
      ],
      providerData: { model: 'scripted' },
    },
    role: 'assistant',
    content: 'Sunny.\nNo forecast beyond today.\nspoken',
  },
  {
    item: { type: 'message', role: 'assistant', status: 'incomplete', content: [] },
    role: 'assistant',
    content: '',
  },
  {
    item: {
      type: 'function_call',
      id: 'fc_1',
      callId: 'call_1',
      name: 'weather',
      arguments: '{"city":"Paris"}',
      status: 'completed',
      namespace: 'tools',
    },
    role: 'assistant',
    content: 'weather({"city":"Paris"})',
  },
  {
    item: {
      type: 'function_call_result',
      callId: 'call_1',
      name: 'weather',
      status: 'completed',
      output: 'Sunny, 24°C',
    },
    role: 'tool',
    content: 'Sunny, 24°C',
  },
  {
    item: {
      type: 'function_call_result',
      callId: 'call_2',
      name: 'chart',
      status: 'incomplete',
      output: [
        { type: 'input_text', text: 'a chart' },
        { type: 'input_image', image: 'data:image/png;base64,iVBORw0KGgo=' },
      ],
    },
    role: 'tool',
    content: 'a chart',
  },
  {
    item: {
      type: 'function_call_result',
      callId: 'call_3',
      name: 'note',
      status: 'completed',
      output: { type: 'text', text: 'noted' },
    },
    role: 'tool',
    content: 'noted',
  },
  {
    item: {
      type: 'hosted_tool_call',
      id: 'ws_1',
      name: 'web_search_call',
      arguments: '{"query":"paris weather"}',
      status: 'completed',
      output: 'results',
      providerData: { action: { type: 'search' } },
    },
    role: 'assistant',
    content: 'web_search_call({"query":"paris weather"})',
  },
  {
    item: { type: 'computer_call', callId: 'cc_1', status: 'completed', action: { type: 'screenshot' } },
    role: 'assistant',
    content: '',
  },
  {
    item: {
      type: 'computer_call_result',
      callId: 'cc_1',
      output: { type: 'computer_screenshot', data: 'data:image/png;base64,iVBORw0KGgo=' },
    },
    role: 'tool',
    content: '',
  },
  {
    item: {
      type: 'shell_call',
      callId: 'sh_1',
      status: 'completed',
      action: { commands: ['ls'], timeoutMs: 1000 },
    },
    role: 'assistant',
    content: '',
  },
  {
    item: {
      type: 'shell_call_output',
      callId: 'sh_1',
      output: [{ stdout: 'a\nb\n', stderr: '', outcome: { type: 'exit', exitCode: 0 } }],
    },
    role: 'tool',
    content: '',
  },
  {
    item: {
      type: 'apply_patch_call',
      callId: 'ap_1',
      status: 'completed',
      operation: { type: 'update_file', path: 'a.txt', diff: '@@ -1 +1 @@\n-a\n+b' },
    },
    role: 'assistant',
    content: '',
  },
  {
    item: { type: 'apply_patch_call_output', callId: 'ap_1', status: 'completed', output: 'patched' },
    role: 'tool',
    content: 'patched',
  },
  {
    item: { type: 'tool_search_call', callId: 'ts_1', execution: 'server', arguments: { query: 'weather' } },
    role: 'assistant',
    content: '',
  },
  {
    item: { type: 'tool_search_output', callId: 'ts_1', tools: [{ type: 'function', name: 'weather' }] },
    role: 'tool',
    content: '',
  },
  {
    item: { type: 'program', callId: 'pr_1', code: 'print(1)', fingerprint: 'f1' },
    role: 'assistant',
    content: '',
  },
  {
    item: { type: 'program_output', callId: 'pr_1', output: '1', status: 'completed' },
    role: 'tool',
    content: '1',
  },
  {
    item: {
      type: 'reasoning',
      id: 'rs_1',
      content: [{ type: 'input_text', text: 'The user wants weather.' }],
      rawContent: [{ type: 'reasoning_text', text: 'raw thoughts' }],
      providerData: { encryptedContent: 'gAAAA' },
    },
    role: 'assistant',
    content: 'The user wants weather.',
  },
  {
    item: { type: 'compaction', encrypted_content: 'gAAAAB', created_by: 'server' },
    role: 'assistant',
    content: '',
  },
  {
    item: { type: 'unknown', id: 'u_1', providerData: { kind: 'custom', nested: { a: [1, null, 'x'] } } },
    role: 'assistant',
    content: '',
  },
  {
    // A type a newer SDK may send: kept as is, role by its suffix.
    item: { type: 'image_generation_output', callId: 'ig_1', output: 'done' } as unknown as AgentInputItem,
    role: 'tool',
    content: 'done',
  },
];
