import { ValidationError } from '@flux-rag/memory-core';
import { type SearchTerm, UNSPACED_SCRIPT } from '@flux-rag/memory-core/backend';
import type { Database } from '@flux-rag/memory-core/sql';
import { type Expression, type RawBuilder, type Selectable, sql } from 'kysely';

/** A row of the search query: the message and its score (higher is better). */
export type SearchRow = Selectable<Database['messages']> & { score: number };

/** What `searchMessages` asks for, besides the terms. */
export interface SearchSql {
  sessionId: string | undefined;
  role: string | undefined;
  limit: number;
  offset: number;
  /** The ids of the sessions in the caller's scope (a subquery). */
  sessionIds: Expression<unknown>;
}

/**
 * How a query is run:
 * - `words`: every term outside the unspaced scripts, as an FTS5 query on `messages_fts` (which drives the
 *   search and ranks it with bm25), or `null` when there is none;
 * - `trigrams`: the unspaced-script terms of 3 or more characters, as an FTS5 query on `messages_fts_trigram`
 *   (substrings), used to drive the search when there are no words;
 * - `substrings`: the unspaced-script terms checked with `instr` on the candidates (all of them when words drive
 *   the search, those under 3 characters, which trigrams cannot find, otherwise); when nothing else drives the
 *   search, the messages in scope are scanned for them.
 */
export interface SearchPlan {
  words: string | null;
  trigrams: string | null;
  substrings: string[];
}

/**
 * FTS5 string syntax: double quotes around, a double quote inside doubled. Everything in it is text to
 * tokenize, never syntax (`OR`, `NEAR`, `content:`, `*`, parentheses), so a query can inject nothing.
 */
const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;

/** SQLite's `lower()` folds ASCII only; the needles are folded the same way so that both sides agree. */
const asciiLower = (text: string) => text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

/** Splits parsed terms between the word index, the trigram index and substring checks. */
export function planSearch(terms: readonly SearchTerm[]): SearchPlan {
  const words: string[] = [];
  const unspaced: string[] = [];
  for (const term of terms) {
    // As core's reference: a term holding any unspaced-script character matches as a substring, its words
    // joined by one space.
    if (term.words.some((word) => UNSPACED_SCRIPT.test(word))) {
      unspaced.push(term.words.join(' '));
    } else if (term.kind === 'prefix') {
      words.push(`${quote(term.words[0]!)}*`);
    } else {
      words.push(quote(term.words.join(' ')));
    }
  }
  if (words.length > 0) {
    return { words: words.join(' '), trigrams: null, substrings: unspaced.map(asciiLower) };
  }
  const long = unspaced.filter((needle) => Array.from(needle).length >= 3);
  return {
    words: null,
    trigrams: long.length > 0 ? long.map(quote).join(' ') : null,
    substrings: unspaced.filter((needle) => !long.includes(needle)).map(asciiLower),
  };
}

/**
 * The ranked search: matching messages of sessions in scope (never orphans), best score first, ties newest
 * first (then by insertion order), `limit` rows after `offset`.
 */
export function searchQuery(plan: SearchPlan, request: SearchSql): RawBuilder<SearchRow> {
  const lowered = sql`lower(m.content)`;
  const conditions: RawBuilder<unknown>[] = [sql`m.session_id IN (${request.sessionIds})`];
  let from: RawBuilder<unknown>;
  let score: RawBuilder<unknown>;
  if (plan.words !== null) {
    from = sql`messages_fts JOIN messages AS m ON m.seq = messages_fts.rowid`;
    conditions.unshift(sql`messages_fts MATCH ${plan.words}`);
    // bm25 is lower for better matches.
    score = sql`-bm25(messages_fts)`;
  } else if (plan.trigrams !== null) {
    from = sql`messages_fts_trigram JOIN messages AS m ON m.seq = messages_fts_trigram.rowid`;
    conditions.unshift(sql`messages_fts_trigram MATCH ${plan.trigrams}`);
    score = sql`-bm25(messages_fts_trigram)`;
  } else {
    // Terms of one or two unspaced characters only: no index holds them. Scored like core's reference, by the
    // number of occurrences.
    from = sql`messages AS m`;
    score = sql.join(
      plan.substrings.map(
        (needle) =>
          sql`(length(${lowered}) - length(replace(${lowered}, ${needle}, ''))) / length(${needle})`,
      ),
      sql` + `,
    );
  }
  for (const needle of plan.substrings) conditions.push(sql`instr(${lowered}, ${needle}) > 0`);
  if (request.sessionId !== undefined) conditions.push(sql`m.session_id = ${request.sessionId}`);
  if (request.role !== undefined) conditions.push(sql`m.role = ${request.role}`);
  return sql<SearchRow>`SELECT m.seq, m.id, m.session_id, m.role, m.content, m.created_at, m.metadata,
    m.payload, m.format, ${score} AS score
    FROM ${from}
    WHERE ${sql.join(conditions, sql` AND `)}
    ORDER BY score DESC, m.created_at DESC, m.seq DESC
    LIMIT ${request.limit} OFFSET ${request.offset}`;
}

/**
 * An error of the search statement: FTS5's (`fts5: ...`, a query it cannot parse) is a `ValidationError` on
 * `query`; anything else is returned as is, for the store's usual mapping.
 */
export function searchError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  if (/^fts5:/i.test(message)) {
    return new ValidationError('query', `cannot be searched: ${message}`, { cause: error });
  }
  return error;
}
