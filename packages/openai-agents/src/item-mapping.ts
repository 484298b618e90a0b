import type { AgentInputItem } from '@openai/agents-core';

/**
 * The `format` every item is stored with, so a reader of the store (the CLI, an export) knows the payload is one
 * Agents SDK item and not another framework's message.
 */
export const ITEM_FORMAT = 'openai-agents/item';

/**
 * The store role of an item. A message item (`type` absent or `'message'`) keeps its own role (`user`,
 * `assistant`, `system`, or whatever a newer SDK sends). Any other item has no role, so it gets one from its
 * type: a result or output of a call (`function_call_result`, `computer_call_result`, `shell_call_output`,
 * `apply_patch_call_output`, `tool_search_output`, `program_output`, and any future type ending in `_result` or
 * `_output`) is `tool`; everything the model emits (`function_call`, `hosted_tool_call`, `computer_call`,
 * `shell_call`, `apply_patch_call`, `tool_search_call`, `program`, `reasoning`, `compaction`, `unknown`, and any
 * type this package does not know) is `assistant`.
 */
export function itemRole(item: AgentInputItem): string {
  const record = item as unknown as Record<string, unknown>;
  if (isMessage(record) && typeof record.role === 'string' && record.role !== '') return record.role;
  const type = record.type;
  if (typeof type === 'string' && (type.endsWith('_result') || type.endsWith('_output'))) return 'tool';
  return 'assistant';
}

/**
 * The searchable text of an item, stored as the message's `content` (the item itself is the payload). A message's
 * text parts (`input_text`, `output_text`, `refusal`, an audio part's `transcript`) joined by a new line; a
 * function or hosted tool call as `name(arguments)`; a call result's string output, or the text parts of a
 * structured one; reasoning's text parts. Every other item (images and files alone, computer and shell actions,
 * compaction, unknown types) has the empty string.
 */
export function itemContent(item: AgentInputItem): string {
  const record = item as unknown as Record<string, unknown>;
  if (isMessage(record)) return textOf(record.content);
  switch (record.type) {
    case 'function_call':
    case 'hosted_tool_call':
      return typeof record.name === 'string' ? `${record.name}(${stringOr(record.arguments)})` : '';
    case 'reasoning':
      return textOf(record.content);
    default:
      if (
        typeof record.type === 'string' &&
        (record.type.endsWith('_result') || record.type.endsWith('_output'))
      ) {
        return textOf(record.output);
      }
      return '';
  }
}

function isMessage(record: Record<string, unknown>): boolean {
  return record.type === undefined || record.type === 'message';
}

function stringOr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A string as is; the text of a content part, or of an array of them, joined by new lines. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const parts = Array.isArray(value) ? value : [value];
  const texts: string[] = [];
  for (const part of parts) {
    if (part === null || typeof part !== 'object') continue;
    const { type, text, refusal, transcript } = part as Record<string, unknown>;
    if (typeof text === 'string' && (type === 'input_text' || type === 'output_text' || type === 'text')) {
      texts.push(text);
    } else if (type === 'refusal' && typeof refusal === 'string') {
      texts.push(refusal);
    } else if (type === 'audio' && typeof transcript === 'string') {
      texts.push(transcript);
    }
  }
  return texts.join('\n');
}
