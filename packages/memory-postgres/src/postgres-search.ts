import { ValidationError } from '@flux-rag/memory-core';
import { type SearchTerm, snippetOf, UNSPACED_SCRIPT } from '@flux-rag/memory-core/backend';
import type { Database } from '@flux-rag/memory-core/sql';
import { type Expression, type RawBuilder, type Selectable, sql } from 'kysely';
import { SEARCH_TEXT_LENGTH } from './postgres-search-schema.js';

/** A row of the search query: the message, its score (higher is better) and `ts_headline`'s excerpt, if any. */
export type SearchRow = Selectable<Database['messages']> & { score: number; headline: string | null };

/** A term matched through the word index. */
export interface WordTerm {
  readonly kind: SearchTerm['kind'];
  /** The word, or a phrase's words joined by one space. */
  readonly text: string;
}

/**
 * How a query is run: `words` through the `tsvector` index (every term outside the unspaced scripts), and
 * `substrings` (the terms in Han, Hiragana, Katakana, Hangul or Thai, which have no spaces between words)
 * checked with `strpos` on the candidates, or on every message in scope when there are no words.
 */
export interface SearchPlan {
  readonly words: readonly WordTerm[];
  readonly substrings: readonly string[];
}

/** What `searchMessages` asks for, besides the terms. */
export interface SearchSql {
  /** Schema of the store's tables and search functions. */
  schema: string;
  sessionId: string | undefined;
  role: string | undefined;
  limit: number;
  offset: number;
  /** Ids of the sessions in the caller's owner scope (a subquery), or `undefined` for the unscoped store. */
  ownedSessionIds: Expression<unknown> | undefined;
}

/** Splits parsed terms between the word index and substring checks, as core's reference does. */
export function planSearch(terms: readonly SearchTerm[]): SearchPlan {
  const words: WordTerm[] = [];
  const substrings: string[] = [];
  for (const term of terms) {
    if (term.words.some((word) => UNSPACED_SCRIPT.test(word))) substrings.push(term.words.join(' '));
    else words.push({ kind: term.kind, text: term.words.join(' ') });
  }
  return { words, substrings };
}

/**
 * A prefix as `to_tsquery` input: the word as one quoted lexeme, then `:*`. Core's parser only lets letters,
 * numbers and marks into a word, so there is nothing to escape; quotes and backslashes are escaped anyway, so
 * that the text can never be read as tsquery operators whatever reaches this function.
 */
export function prefixLexeme(word: string): string {
  return `'${word.replaceAll('\\', '\\\\').replaceAll("'", "''")}':*`;
}

/**
 * The `tsquery` of the word terms: one `plainto_tsquery` (a word), `phraseto_tsquery` (a phrase) or
 * `to_tsquery` of a quoted lexeme (a prefix) per term, each on a bound parameter, joined with `&&`. User text
 * is only ever parsed as text to search, never as tsquery syntax.
 */
function wordQuery(schema: string, words: readonly WordTerm[]): RawBuilder<unknown> {
  const config = sql`${sql.id(schema, 'search_config')}()`;
  return sql.join(
    words.map(({ kind, text }) => {
      if (kind === 'prefix') return sql`to_tsquery(${config}, ${prefixLexeme(text)})`;
      if (kind === 'phrase') return sql`phraseto_tsquery(${config}, ${text})`;
      return sql`plainto_tsquery(${config}, ${text})`;
    }),
    sql` && `,
  );
}

/** `ts_headline`'s options: about 30 words around the best match, matches marked as the contract says. */
const HEADLINE_OPTIONS =
  'StartSel=<mark>, StopSel=</mark>, MaxFragments=1, MaxWords=30, MinWords=15, ShortWord=0';

/**
 * The ranked search: matching messages in scope, best score first, ties newest first (then by insertion
 * order), `limit` rows after `offset`; the excerpt is computed on that page only.
 *
 * Words are matched by `message_search_vector(content) @@ tsquery`, the expression the GIN index
 * `idx_messages_search` is built on, and ranked with `ts_rank_cd`. Unspaced-script terms are substrings of the
 * content, compared after `lower()` on both sides, so that case folding is the database's own (ASCII only
 * under `LC_CTYPE=C`); a query made of them only is ranked by their number of occurrences, as core's reference.
 * The unscoped store needs no session check: the foreign key with `ON DELETE CASCADE` leaves no message
 * without its session.
 */
export function searchQuery(plan: SearchPlan, request: SearchSql): RawBuilder<SearchRow> {
  const { schema } = request;
  const vector = sql`${sql.id(schema, 'message_search_vector')}(m.content)`;
  const lowered = sql`lower(m.content)`;
  const conditions: RawBuilder<unknown>[] = [];
  let score: RawBuilder<unknown>;
  if (plan.words.length > 0) {
    const query = wordQuery(schema, plan.words);
    conditions.push(sql`${vector} @@ (${query})`);
    score = sql`ts_rank_cd(${vector}, ${query})::float8`;
  } else {
    score = sql.join(
      plan.substrings.map(
        (needle) =>
          sql`(length(${lowered}) - length(replace(${lowered}, lower(${needle}), ''))) / length(lower(${needle}))`,
      ),
      sql` + `,
    );
    score = sql`(${score})::float8`;
  }
  for (const needle of plan.substrings) conditions.push(sql`strpos(${lowered}, lower(${needle})) > 0`);
  if (request.sessionId !== undefined) conditions.push(sql`m.session_id = ${request.sessionId}`);
  if (request.role !== undefined) conditions.push(sql`m.role = ${request.role}`);
  if (request.ownedSessionIds !== undefined)
    conditions.push(sql`m.session_id IN (${request.ownedSessionIds})`);
  // ts_headline cannot mark a substring inside a longer word: with unspaced terms, core's snippet does it all.
  const headline =
    plan.words.length > 0 && plan.substrings.length === 0
      ? sql`ts_headline(${sql.id(schema, 'search_config')}(), left(hits.content, ${sql.lit(SEARCH_TEXT_LENGTH)}),
          ${wordQuery(schema, plan.words)}, ${sql.lit(HEADLINE_OPTIONS)})`
      : sql`NULL::text`;
  return sql<SearchRow>`
    SELECT hits.seq, hits.id, hits.session_id, hits.role, hits.content, hits.created_at, hits.metadata,
      hits.payload, hits.format, hits.score, ${headline} AS headline
    FROM (
      SELECT m.seq, m.id, m.session_id, m.role, m.content, m.created_at, m.metadata, m.payload, m.format,
        ${score} AS score
      FROM ${sql.id(schema, 'messages')} AS m
      WHERE ${conditions.length > 0 ? sql.join(conditions, sql` AND `) : sql`true`}
      ORDER BY score DESC, m.created_at DESC, m.seq DESC
      LIMIT ${request.limit} OFFSET ${request.offset}
    ) AS hits
    ORDER BY hits.score DESC, hits.created_at DESC, hits.seq DESC`;
}

/** Text with no letter, number or mark: what `ts_headline` leaves out at the ends of a fragment. */
const WORDLESS = /^[^\p{L}\p{N}\p{M}]*$/u;

/**
 * The snippet of a hit: `ts_headline`'s excerpt, with `…` where it cuts words off the content (the punctuation
 * it leaves out at either end is put back), when it marked a match;
 * otherwise core's `snippetOf`, which marks what core's parser calls words (ts_headline reads the raw content
 * with PostgreSQL's parser, which keeps `bar.com` or, under `LC_CTYPE=C`, `«Привет»` whole) and substrings in
 * unspaced scripts.
 */
export function snippetFor(headline: string | null, content: string, terms: readonly SearchTerm[]): string {
  if (headline === null || !headline.includes('<mark>')) return snippetOf(content, terms);
  const plain = headline.replaceAll('<mark>', '').replaceAll('</mark>', '');
  const at = content.indexOf(plain);
  if (at < 0) return headline;
  const before = content.slice(0, at);
  const after = content.slice(at + plain.length);
  return `${WORDLESS.test(before) ? before : '…'}${headline}${WORDLESS.test(after) ? after : '…'}`;
}

/**
 * An error of the search statement that the query caused (a data exception, a tsquery PostgreSQL cannot
 * parse or hold: SQLSTATE classes 22 and 54, and 42601) becomes a `ValidationError` on `query`; anything else
 * is returned as is, for the store's usual mapping.
 */
export function searchError(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !(code.startsWith('22') || code.startsWith('54') || code === '42601')) {
    return error;
  }
  return new ValidationError('query', `cannot be searched: ${String(message)}`, { cause: error });
}
