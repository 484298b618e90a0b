import { type Metadata, ValidationError } from '@flux-rag/memory-core';
import type { Database } from '@flux-rag/memory-core/sql';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';

/**
 * `where.metadata` on PostgreSQL: `metadata @> $1::jsonb`, the filter bound as JSON text, served by the GIN
 * index `idx_sessions_metadata` (`jsonb_path_ops`). Containment is PostgreSQL's own, which core's reference
 * (`jsonContains`) copies. `{}` is no condition at all: it contains every session, including legacy rows whose
 * metadata is NULL (read back as `{}`), which `NULL @> '{}'` would leave out.
 */
export function metadataContains(
  eb: ExpressionBuilder<Database, 'sessions'>,
  filter: Metadata,
): Expression<SqlBool> {
  if (Object.keys(filter).length === 0) return sql<SqlBool>`true`;
  return sql<SqlBool>`${eb.ref('metadata')} @> ${JSON.stringify(filter)}::jsonb`;
}

/**
 * SQLSTATEs a filter's JSON could cause (invalid text representation, untranslatable character, a value
 * PostgreSQL cannot hold): validation refuses all of them first, so this is a second line, not the first.
 */
const FILTER_STATES = new Set(['22P02', '22P05', '22003', '54000']);

/**
 * An error of a filtered listing: one the filter's JSON caused becomes a `ValidationError` on `where.metadata`;
 * anything else is returned as is, for the store's usual mapping.
 */
export function filterError(error: unknown): unknown {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !FILTER_STATES.has(code)) return error;
  return new ValidationError('where.metadata', `cannot be used as a filter: ${String(message)}`, {
    cause: error,
  });
}
