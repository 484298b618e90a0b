import { type JsonValue, type Metadata, ValidationError } from '@flux-rag/memory-core';
import { type RawBuilder, type SqlBool, sql } from 'kysely';

/** One row of `session_metadata_terms`: a key (or `i` for an array element) and a typed value. */
export interface MetadataTerm {
  readonly label: string;
  readonly value: string;
}

/** Keys and string values are cut to this many characters (code points) in a term, as the triggers do. */
const TERM_TEXT_LENGTH = 100;

/** Terms looked up to find candidates: each costs an index range scan, and a few already narrow enough. */
const LOOKUP_TERMS = 3;

/**
 * Largest filter, in keys plus array elements: each binds up to three parameters, and SQLite takes at most
 * 32,766 per statement.
 */
export const MAX_FILTER_NODES = 5_000;

/**
 * Deepest nesting of arrays in a filter (arrays in array elements): each level is a subquery, and SQLite limits
 * the depth of an expression, subqueries included, to 1,000.
 */
export const MAX_FILTER_ARRAY_DEPTH = 16;

const cut = (text: string) => {
  const codePoints = Array.from(text);
  return codePoints.length > TERM_TEXT_LENGTH ? codePoints.slice(0, TERM_TEXT_LENGTH).join('') : text;
};

/** The label of a node: `k` + its key in an object, `i` for an array element (migration 0004's `TERM_LABEL`). */
export function termLabel(key: string | null): string {
  return key === null ? 'i' : `k${cut(key)}`;
}

/** The typed value of a node (migration 0004's `TERM_VALUE`). */
export function termValue(value: JsonValue): string {
  if (typeof value === 'string') return `s${cut(value)}`;
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? `n${String(value)}` : 'n';
  }
  if (value === true) return 't';
  if (value === false) return 'f';
  if (value === null) return 'z';
  return Array.isArray(value) ? 'a' : 'o';
}

/**
 * Terms every session containing `filter` has: one per leaf of the filter (a scalar, or an empty object or
 * array, which still requires a container there). Nodes with children are left out: their leaves narrow more.
 */
export function filterTerms(filter: Metadata): MetadataTerm[] {
  const terms: MetadataTerm[] = [];
  const visit = (key: string | null, value: JsonValue) => {
    const children: [string | null, JsonValue][] = Array.isArray(value)
      ? value.map((item) => [null, item])
      : value !== null && typeof value === 'object'
        ? Object.entries(value)
        : [];
    if (children.length === 0) terms.push({ label: termLabel(key), value: termValue(value) });
    for (const [childKey, child] of children) visit(childKey, child);
  };
  for (const [key, value] of Object.entries(filter)) visit(key, value);
  return terms;
}

/**
 * How selective a term is likely to be, lower first: a keyed string or integer names few sessions; booleans,
 * nulls, other numbers and bare containers, or array elements whose key is not in the term, name many.
 */
function priority({ label, value }: MetadataTerm): number {
  const specific = value.startsWith('s') || /^n-?\d/.test(value);
  const keyed = label.startsWith('k');
  if (specific) return keyed ? 0 : 1;
  return keyed ? 2 : 3;
}

/** The few terms of `filter` to look up, most selective first, without repeats. */
export function lookupTerms(filter: Metadata): MetadataTerm[] {
  const seen = new Set<string>();
  return filterTerms(filter)
    .map((term, index) => ({ term, index }))
    .sort((a, b) => priority(a.term) - priority(b.term) || a.index - b.index)
    .map(({ term }) => term)
    .filter((term) => {
      const key = `${term.label}\u0000${term.value}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, LOOKUP_TERMS);
}

/**
 * A JSON path naming one key, whatever it holds: the key in double quotes, with `"`, `\` and control characters
 * written as `\uXXXX` escapes, which SQLite decodes before comparing labels (3.45 and later). Never a path
 * syntax error, never another key: `.`, `$`, `[` or `*` in a key are plain characters between the quotes.
 */
export function keyPath(key: string): string {
  let escaped = '';
  for (const char of key) {
    const code = char.charCodeAt(0);
    escaped +=
      char === '"' || char === '\\' || code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return `."${escaped}"`;
}

/** Where a filter node is checked: a JSON document (a column, or an element of `json_each`) and a path in it. */
interface Node {
  /** JSON text (`NULL` when the element is not a container, so that path functions never see plain text). */
  readonly json: RawBuilder<unknown>;
  readonly path: string;
  /** The element itself when `path` is `$` and the node is an element of `json_each` (it may be a scalar). */
  readonly element: { value: RawBuilder<unknown>; type: RawBuilder<unknown> } | null;
}

/**
 * The condition "the session's metadata contains `filter`" (PostgreSQL's `jsonb @>`, core's `jsonContains`) on
 * the `sessions` row of the enclosing query. Candidates come from `session_metadata_terms` through its primary
 * key (a few of the filter's terms, intersected); containment is then checked exactly on them, which removes the
 * false positives of a term index (values of the same key at other depths, keys and values found in different
 * elements of an array): objects by JSON path (`json_type`, `json_extract`), each element a filter array gives by
 * an `EXISTS` over `json_each` of the array, so that one element must hold all of it. Keys and values are bound
 * parameters, keys quoted and escaped in their paths (see {@link keyPath}). Metadata that is not a JSON object
 * (legacy rows) contains only `{}`. With `candidates: false` the term index is left out and the condition is the
 * exact check alone, for a filter most sessions match (see {@link scanIsCheaper}). Throws `ValidationError` on `where.metadata` for a filter over
 * {@link MAX_FILTER_NODES} keys and elements, or with arrays nested over {@link MAX_FILTER_ARRAY_DEPTH} deep.
 */
export function metadataContains(
  filter: Metadata,
  { candidates: useCandidates = true }: { candidates?: boolean } = {},
): RawBuilder<SqlBool> {
  checkSize(filter);
  const terms = lookupTerms(filter);
  if (terms.length === 0) return sql<SqlBool>`1`;
  const candidates = sql.join(
    terms.map(
      (term) =>
        sql`SELECT session_id FROM session_metadata_terms WHERE label = ${term.label} AND value = ${term.value}`,
    ),
    sql` INTERSECT `,
  );
  let aliases = 0;
  const contains = (node: Node, wanted: JsonValue, isRoot: boolean): RawBuilder<unknown>[] => {
    const { json, path, element } = node;
    const type = element ? element.type : sql`json_type(${json}, ${path})`;
    const value = element ? element.value : sql`json_extract(${json}, ${path})`;
    if (Array.isArray(wanted)) {
      return [
        sql`${type} = 'array'`,
        ...wanted.map((item) => {
          aliases += 1;
          const alias = `e${aliases}`;
          const itemType = sql.ref(`${alias}.type`);
          const inner: Node = {
            json: sql`CASE WHEN ${itemType} IN ('object', 'array') THEN ${sql.ref(`${alias}.value`)} END`,
            path: '$',
            element: { value: sql.ref(`${alias}.value`), type: itemType },
          };
          return sql`EXISTS (SELECT 1 FROM json_each(${json}, ${path}) AS ${sql.id(alias)}
            WHERE ${all(contains(inner, item, false))})`;
        }),
      ];
    }
    if (wanted !== null && typeof wanted === 'object') {
      return [
        ...(isRoot ? [] : [sql`${type} = 'object'`]),
        ...Object.entries(wanted).flatMap(([key, item]) =>
          contains({ json, path: `${path}${keyPath(key)}`, element: null }, item, false),
        ),
      ];
    }
    if (typeof wanted === 'string') return [sql`${type} = 'text'`, sql`${value} = ${wanted}`];
    // Compared as doubles, as JSON.parse reads them: the integer 1383980457930926800 SQLite keeps from the text
    // is the double 1383980457930926848 a JavaScript caller has.
    if (typeof wanted === 'number') {
      return [sql`${type} IN ('integer', 'real')`, sql`CAST(${value} AS REAL) = ${wanted}`];
    }
    return [sql`${type} = ${sql.lit(wanted === null ? 'null' : String(wanted))}`];
  };
  const metadata = sql.ref('sessions.metadata');
  const root: Node = { json: metadata, path: '$', element: null };
  // Inside CASE, so that no JSON function ever sees malformed text, whatever order the planner evaluates in.
  const exact = sql<SqlBool>`CASE WHEN json_valid(${metadata}) THEN ${all(contains(root, filter, true))} ELSE 0 END`;
  return useCandidates ? sql<SqlBool>`(${sql.ref('sessions.id')} IN (${candidates}) AND ${exact})` : exact;
}

/**
 * A filter that passed the checks above can still exceed SQLite's limits in some shapes (wide objects in deeply
 * nested arrays): SQLite then refuses the statement, and that is a `ValidationError` on `where.metadata`, not a
 * driver error. Anything else is returned as is.
 */
export function filterError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  if (/Expression tree is too large|too many SQL variables|parser stack overflow/i.test(message)) {
    const problem = `is too large or too deeply nested for SQLite to check (${message})`;
    return new ValidationError('where.metadata', problem, { cause: error });
  }
  return error;
}

/**
 * Whether reading the listing in its order and checking each session until `window` of them match (about
 * `window * sessions / candidates` rows) is cheaper than reading every candidate of the term index and sorting
 * them (`candidates` rows): when `candidates² > window * sessions`. A filter most sessions match, such as
 * `{ archived: false }`, is then a scan that stops after one page instead of reading nearly every session.
 */
export function scanIsCheaper(candidates: number, sessions: number, window: number): boolean {
  return candidates * candidates > window * sessions;
}

/**
 * The figures {@link scanIsCheaper} needs, in one statement: the number of sessions (estimated by the largest
 * rowid, never below the count) and the fewest sessions any lookup term of `filter` has, counted in the term
 * index only as far as the decision needs (`sqrt(window * sessions)` + 1, so a selective filter costs a few
 * index steps). `null` when the filter has no term (`{}`).
 */
export function candidateCounts(
  filter: Metadata,
  window: number,
): RawBuilder<{ candidates: number; sessions: number }> | null {
  const terms = lookupTerms(filter);
  if (terms.length === 0) return null;
  const sessions = sql`(SELECT coalesce(max(rowid), 0) FROM sessions)`;
  const counts = sql.join(
    terms.map(
      (term) => sql`SELECT (SELECT count(*) FROM (SELECT 1 FROM session_metadata_terms
        WHERE label = ${term.label} AND value = ${term.value}
        LIMIT CAST(sqrt(${window} * ${sessions}) AS INTEGER) + 1)) AS n`,
    ),
    sql` UNION ALL `,
  );
  return sql`SELECT min(n) AS candidates, ${sessions} AS sessions FROM (${counts})`;
}

function checkSize(filter: Metadata): void {
  let nodes = 0;
  const visit = (value: JsonValue, arrays: number) => {
    if (value === null || typeof value !== 'object') return;
    const depth = Array.isArray(value) ? arrays + 1 : arrays;
    if (depth > MAX_FILTER_ARRAY_DEPTH) {
      throw new ValidationError(
        'where.metadata',
        `nests arrays more than ${MAX_FILTER_ARRAY_DEPTH} deep, the most a SQLite filter checks`,
      );
    }
    const children = Array.isArray(value) ? value : Object.values(value);
    nodes += children.length;
    if (nodes > MAX_FILTER_NODES) {
      throw new ValidationError(
        'where.metadata',
        `has more than ${MAX_FILTER_NODES} keys and array elements, the most a SQLite filter takes`,
      );
    }
    for (const child of children) visit(child, depth);
  };
  visit(filter, 0);
}

/**
 * `a AND b AND ...` as a balanced tree: SQLite limits expression depth to 1,000, and a flat chain of N terms
 * is N deep.
 */
function all(parts: readonly RawBuilder<unknown>[]): RawBuilder<unknown> {
  if (parts.length === 0) return sql`1`;
  if (parts.length === 1) return parts[0]!;
  const middle = Math.ceil(parts.length / 2);
  return sql`(${all(parts.slice(0, middle))} AND ${all(parts.slice(middle))})`;
}
