import { type SearchTerm, UNSPACED_SCRIPT, wordsOf } from './search-query.js';

/**
 * Whether content matches every term, and how well: the reference semantics of `searchMessages`. A term in a
 * script written without spaces (Japanese, Chinese, Korean, Thai) matches as a substring, since such text has no
 * word boundaries to match on. Returns 0 for no match, otherwise the number of matched occurrences.
 */
export function matchContent(content: string, terms: readonly SearchTerm[]): number {
  const words = wordsOf(content.toLowerCase());
  const lower = content.toLowerCase();
  let score = 0;
  for (const term of terms) {
    const hits = occurrences(words, lower, {
      kind: term.kind,
      words: term.words.map((w) => w.toLowerCase()),
    });
    if (hits === 0) return 0;
    score += hits;
  }
  return score;
}

function occurrences(words: readonly string[], lower: string, term: SearchTerm): number {
  if (term.words.some((word) => UNSPACED_SCRIPT.test(word))) {
    const needle = term.words.join(' ');
    return lower.split(needle).length - 1;
  }
  const [first] = term.words;
  if (term.kind === 'prefix') return words.filter((word) => word.startsWith(first!)).length;
  let count = 0;
  for (let i = 0; i + term.words.length <= words.length; i++) {
    if (term.words.every((word, j) => words[i + j] === word)) count++;
  }
  return count;
}

/**
 * An excerpt of about 30 words around the first match, matches wrapped in `<mark>`…`</mark>`, `…` where the
 * content was cut. Matching here is by word (or substring for unspaced scripts), like `matchContent`.
 */
export function snippetOf(content: string, terms: readonly SearchTerm[]): string {
  const wanted = terms.flatMap((term) => term.words);
  const pattern = new RegExp(
    wanted
      .map((word) =>
        UNSPACED_SCRIPT.test(word)
          ? escapeRegExp(word)
          : `(?<![\\p{L}\\p{N}\\p{M}])${escapeRegExp(word)}${terms.some((t) => t.kind === 'prefix' && t.words[0] === word) ? '[\\p{L}\\p{N}\\p{M}]*' : '(?![\\p{L}\\p{N}\\p{M}])'}`,
      )
      .join('|'),
    'giu',
  );
  const first = content.search(pattern);
  let start = Math.max(0, first - 80);
  let end = Math.min(content.length, Math.max(first, 0) + 160);
  // Never cut a surrogate pair in half: the snippet must stay valid text.
  if (/[\uDC00-\uDFFF]/.test(content.charAt(start))) start++;
  if (/[\uD800-\uDBFF]/.test(content.charAt(end - 1))) end--;
  const excerpt = content.slice(start, end).replace(pattern, (match) => `<mark>${match}</mark>`);
  return `${start > 0 ? '…' : ''}${excerpt}${end < content.length ? '…' : ''}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
