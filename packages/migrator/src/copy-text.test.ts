import { describe, expect, it } from 'vitest';
import { copyField, copyLine } from './copy-text.js';

describe('COPY text format', () => {
  it('copyField - escapes backslash, tab, newline and carriage return; NULL is \\N', () => {
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField(42)).toBe('42');
    expect(copyField('日本語 🙂 \u0001')).toBe('日本語 🙂 \u0001');
  });

  it('copyLine - tab-separated, newline-terminated', () => {
    expect(copyLine(['a', null, 3])).toBe('a\t\\N\t3\n');
  });
});
