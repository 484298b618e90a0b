import type { JsonValue } from '../types.js';

/**
 * PostgreSQL's `jsonb @>` on plain JSON values: objects contain objects whose every key they hold with a
 * containing value; arrays contain arrays whose every element some element of theirs contains; a top-level
 * array also contains a scalar it holds; scalars contain equal scalars. The reference semantics of
 * `where.metadata`, which the SQL backends implement in SQL.
 */
export function jsonContains(target: JsonValue | undefined, filter: JsonValue, top = true): boolean {
  if (Array.isArray(filter)) {
    return (
      Array.isArray(target) &&
      filter.every((wanted) => target.some((item) => jsonContains(item, wanted, false)))
    );
  }
  if (filter !== null && typeof filter === 'object') {
    if (target === null || typeof target !== 'object' || Array.isArray(target)) return false;
    return Object.entries(filter).every(
      ([key, wanted]) => key in target && jsonContains(target[key], wanted, false),
    );
  }
  if (top && Array.isArray(target)) return target.some((item) => item === filter);
  return target === filter;
}
