import { ValidationError } from '../errors.js';
import { LIMITS } from '../types.js';
import { assertText } from '../validation.js';

/**
 * One term of a search query. Every term must match (AND). A `word` matches a whole word, a `prefix` (written
 * `word*`) any word starting with it, a `phrase` (written `"two words"`) its words in a row.
 */
export interface SearchTerm {
  readonly kind: 'word' | 'prefix' | 'phrase';
  /** The word as typed, or for a phrase its words (case is folded by the backend, as for the content). */
  readonly words: readonly string[];
}

// A word is a run of letters, numbers and combining marks; everything else (spaces, punctuation, emoji)
// separates words. Backends tokenise content the same way (FTS5 unicode61, PostgreSQL's parser).
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** Scripts written without spaces, where a backend matches a term as a substring rather than a word. */
export const UNSPACED_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;

/** The words of a text, in order, as written. */
export function wordsOf(text: string): string[] {
  return text.match(WORD) ?? [];
}

/**
 * Parses the search syntax shared by every backend: words separated by spaces, `word*` for a prefix,
 * `"a phrase"` in double quotes; nothing else is an operator, so user input can never inject syntax into
 * FTS5 or `tsquery`. Throws `ValidationError` (field `query`) for an empty query, an unterminated quote, a
 * query longer than {@link LIMITS.queryLength} characters or with more than {@link LIMITS.queryTerms} words.
 */
export function parseSearchQuery(query: unknown): SearchTerm[] {
  assertText('query', query);
  if (query.length > LIMITS.queryLength) {
    throw new ValidationError(
      'query',
      `must be at most ${LIMITS.queryLength} characters, got ${query.length}`,
    );
  }
  const quotes = query.split('"').length - 1;
  if (quotes % 2 === 1) throw new ValidationError('query', 'has an unterminated double quote');
  const terms: SearchTerm[] = [];
  query.split('"').forEach((part, index) => {
    if (index % 2 === 1) {
      const words = wordsOf(part);
      if (words.length === 1) terms.push({ kind: 'word', words });
      else if (words.length > 1) terms.push({ kind: 'phrase', words });
      return;
    }
    for (const token of part.split(/\s+/)) {
      const words = wordsOf(token);
      const prefix = token.endsWith('*');
      words.forEach((word, i) => {
        terms.push({ kind: prefix && i === words.length - 1 ? 'prefix' : 'word', words: [word] });
      });
    }
  });
  const count = terms.reduce((n, term) => n + term.words.length, 0);
  if (count === 0) throw new ValidationError('query', 'contains no word to search for');
  if (count > LIMITS.queryTerms) {
    throw new ValidationError('query', `must have at most ${LIMITS.queryTerms} words, got ${count}`);
  }
  return terms;
}
