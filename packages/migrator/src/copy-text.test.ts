import { describe, expect, it } from 'vitest';
import { copyField, copyLine, copyRows } from './copy-text.js';

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

describe('copyRows', () => {
  it('copyRows - bytes and strings give the same COPY text, escapes included', () => {
    const text = 'naïve \\ tab\there\nline\r日本語 🙂';
    const asString = copyRows([[1, 'id', text, null]]);
    const asBytes = copyRows([[1, 'id', Buffer.from(text, 'utf8'), null]]);
    expect(asBytes.equals(asString)).toBe(true);
    expect(asString.toString('utf8')).toBe(copyLine([1, 'id', text, null]));
    expect(copyRows([['a'], [Buffer.from('b')]]).toString()).toBe('a\nb\n');
  });
});
