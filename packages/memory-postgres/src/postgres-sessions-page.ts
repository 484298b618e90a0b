import type { PageRows, SessionPosition, SessionSummary } from '@flux-rag/memory-core';
import { type Database, type SqlCodecs, toSessionSummary } from '@flux-rag/memory-core/sql';
import { type SelectQueryBuilder, sql } from 'kysely';

/**
 * One `getSessionsPage` page: the sessions of `sessions` (already scoped and filtered) after `cursor`, newest
 * `created_at` first, ties by id descending.
 *
 * The position is a row comparison, `(created_at, id) < ($1, $2)`, rather than the shared layer's
 * `created_at < $1 OR (created_at = $1 AND id < $2)`: PostgreSQL turns the row comparison into the start of an
 * index range on `(created_at DESC, id DESC)` (or `(owner_id, created_at DESC, id DESC)`), while the OR form is
 * a filter applied to every row before the cursor, so a page deep in the listing cost as much as an offset.
 */
export async function sessionsPage(
  sessions: SelectQueryBuilder<Database, 'sessions', {}>,
  limit: number,
  cursor: SessionPosition | null,
  codecs: SqlCodecs,
): Promise<PageRows<SessionSummary, SessionPosition>> {
  let query = sessions.selectAll();
  if (cursor !== null) {
    const at = codecs.encodeTimestamp(cursor.createdAt);
    query = query.where(sql<boolean>`(created_at, id) < (${at}, ${cursor.id})`);
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((row) => toSessionSummary(row, codecs)),
    next:
      rows.length > limit && last
        ? { createdAt: codecs.decodeTimestamp(last.created_at), id: last.id }
        : null,
  };
}
