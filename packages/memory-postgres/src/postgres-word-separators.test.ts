import { wordsOf } from '@flux-rag/memory-core/backend';
import { describe, expect, it } from 'vitest';
import { separatorPattern, separatorRanges } from './postgres-word-separators.js';

const WORD = /[\p{L}\p{N}\p{M}]/u;
const ASCII_WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);

const inRanges = (ranges: Array<[number, number]>, code: number) =>
  ranges.some(([first, last]) => code >= first && code <= last);

describe('word separators', () => {
  const ranges = separatorRanges();

  it('separatorRanges - are sorted, disjoint and never hold a letter, number or mark', () => {
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1]);
    const words: string[] = [];
    for (const [first, last] of ranges) {
      for (let code = first; code <= last; code++) {
        if (WORD.test(String.fromCodePoint(code))) words.push(`U+${code.toString(16)}`);
      }
    }
    expect(words).toEqual([]);
  });

  it('separatorRanges - hold every assigned character that is not one, ASCII whitespace aside', () => {
    // Characters assigned after the ranges were generated would show up here: the list is frozen in the
    // schema (see the file's comment), so such a difference is reported, not fixed silently.
    const missing: string[] = [];
    for (let code = 1; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCodePoint(code);
      if (WORD.test(char) || /\p{Cn}/u.test(char) || ASCII_WHITESPACE.has(code)) continue;
      if (!inRanges(ranges, code)) missing.push(`U+${code.toString(16)}`);
    }
    expect(missing).toEqual([]);
    for (const code of ASCII_WHITESPACE) expect(inRanges(ranges, code)).toBe(false);
  });

  it('separatorPattern - turns text into the words core finds in it, once read as a JavaScript regex', () => {
    // PostgreSQL's \uXXXX / \UXXXXXXXX escapes, rewritten as JavaScript's \u{...}.
    const pattern = new RegExp(
      separatorPattern().replace(/\\[uU]([0-9a-f]{4,8})/g, (_, hex: string) => `\\u{${hex}}`),
      'gu',
    );
    for (const text of [
      'foo@bar.com x86_64 24.5 /usr/bin <b>bold</b> e-mail',
      '«Привет»—как дела? Tokyo、Japan 東京　大阪 hello🚀world',
      "o'brien naïve ①② 한국어 ไทย",
    ]) {
      expect(text.replace(pattern, ' ').split(/\s+/).filter(Boolean)).toEqual(wordsOf(text));
    }
  });
});
