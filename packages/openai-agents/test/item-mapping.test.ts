import { describe, expect, it } from 'vitest';
import { itemContent, itemRole } from '../src/item-mapping.js';
import { EVERY_ITEM } from './items.js';

describe('item mapping', () => {
  it.each(
    EVERY_ITEM.map((entry) => [describeItem(entry.item), entry] as const),
  )('itemRole and itemContent - %s', (_name, { item, role, content }) => {
    expect(itemRole(item)).toBe(role);
    expect(itemContent(item)).toBe(content);
  });

  it('itemRole - a message keeps a role this package does not know', () => {
    expect(itemRole({ role: 'developer', content: 'x' } as never)).toBe('developer');
  });

  it('itemContent - a function call without arguments text still names the call', () => {
    expect(itemContent({ type: 'hosted_tool_call', name: 'file_search' })).toBe('file_search()');
  });
});

function describeItem(item: object): string {
  const record = item as Record<string, unknown>;
  return `${String(record.type ?? 'message')}${record.role ? `/${String(record.role)}` : ''}`;
}
