import { describe, expect, it } from 'vitest';
import { visible } from './sanitize.js';

describe('visible', () => {
  it.each([
    ['\x1b[2J', '\\x1b[2J'],
    ['\x1b]0;title\x07', '\\x1b]0;title\\x07'],
    ['\x1b]8;;http://x/\x07link\x1b]8;;\x07', '\\x1b]8;;http://x/\\x07link\\x1b]8;;\\x07'],
    ['abc\rXYZ', 'abc\\rXYZ'],
    ['\u009b31m', '\\x9b31m'],
    ['a\u202eb\u2066c', 'a\\u202eb\\u2066c'],
    ['nul\u0000', 'nul\\0'],
    ['del\x7f', 'del\\x7f'],
  ])('%j is shown as %s', (input, shown) => {
    expect(visible(input)).toBe(shown);
  });

  it('keeps text, tabs, line feeds and non-Latin scripts unchanged', () => {
    const text = 'Héllo\twörld\n日本語 🙂 Ошибка';
    expect(visible(text)).toBe(text);
  });
});
