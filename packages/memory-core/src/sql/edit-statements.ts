import { type Kysely, type QueryCreator, type Selectable, sql, type Transaction } from 'kysely';
import type { Scope } from '../base-memory.js';
import {
  type CompiledStatement,
  compileForScope,
  compileOnce,
  type ScopedStatement,
} from './compiled-statement.js';
import type { Database, MessagesTable, SessionsTable, StoredJson, StoredTimestamp } from './database.js';

/**
 * What a digest is read from: the stored `digest`, and the columns it is computed from only where the row has
 * none (rows other writers inserted). Reading the content of every row a whole-history `upsertMessages` names,
 * to compare one digest per row, would cost more than reading the history.
 */
export type DigestRow = Pick<
  Selectable<MessagesTable>,
  'id' | 'seq' | 'digest' | 'role' | 'content' | 'metadata' | 'format' | 'payload'
>;

/** `column` where the row has no stored digest, `NULL` otherwise. */
function unlessDigest<C extends 'role' | 'content' | 'metadata' | 'format' | 'payload'>(column: C) {
  return sql<MessagesTable[C]>`CASE WHEN digest IS NULL THEN ${sql.ref(column)} END`.as(column);
}

/** The messages' ids, seqs and digests ({@link DigestRow}), to be narrowed by the caller. */
export function digestColumns(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom('messages')
    .select(['id', 'seq', 'digest'])
    .select([
      unlessDigest('role'),
      unlessDigest('content'),
      unlessDigest('metadata'),
      unlessDigest('format'),
      unlessDigest('payload'),
    ]);
}

/** How the session row is locked: `FOR UPDATE` (PostgreSQL), or not (SQLite's `BEGIN IMMEDIATE` holds the lock). */
export function sessionLockQuery(
  db: Kysely<Database> | Transaction<Database>,
  rowLocks: boolean,
  sessionId: string,
  scope: Scope,
) {
  let query = db.selectFrom('sessions').selectAll().where('id', '=', sessionId);
  if (scope.ownerId !== null) query = query.where('owner_id', '=', scope.ownerId);
  return rowLocks ? query.forUpdate() : query;
}

/** The values of a message replaced in place (a type, not an interface: `compileOnce` wants an indexable record). */
export type Replacement = {
  sessionId: string;
  id: string;
  role: string;
  content: string;
  metadata: StoredJson;
  payload: string | null;
  format: string | null;
  digest: string;
};

/**
 * The statements of the editing path that run on every call whatever its size, compiled once per store (see
 * `compileOnce`): building and compiling a Kysely query each time cost more than running it.
 */
export interface EditStatements {
  /** The session row in scope, locked for the transaction as the dialect locks it. */
  lockSession: ScopedStatement<{ sessionId: string }, Selectable<SessionsTable>>;
  /**
   * The id and stored digest of every message of a session: one statement, however long the history. Two
   * columns only: a whole-history upsert compares one digest per row, and every column more is a value more
   * per row to read and build (rows without a digest are read again, by id, through {@link digestColumns}).
   */
  sessionDigests: CompiledStatement<{ sessionId: string }, Pick<DigestRow, 'id' | 'digest'>>;
  /** Rewrites one message in place (its seq, `created_at` and so its position are kept). */
  replaceMessage: CompiledStatement<Replacement>;
  /** Sets the session's `updated_at` alone: after replacements, which change neither its count nor its last time. */
  touchUpdatedAt: CompiledStatement<{ sessionId: string; at: StoredTimestamp }>;
  /**
   * {@link replaceMessage} and {@link touchUpdatedAt} in one statement (`WITH replaced AS (UPDATE messages ...)
   * UPDATE sessions ...`); run only where the dialect has `writesInWith`.
   */
  replaceAndTouch: CompiledStatement<Replacement & { at: StoredTimestamp }>;
}

/** Compiles {@link EditStatements} on `db`, the store's query builder (its plugins, such as a schema, apply). */
export function compileEditStatements(db: Kysely<Database>, rowLocks: boolean): EditStatements {
  const replace = (qc: Kysely<Database> | QueryCreator<Database>, p: Replacement) =>
    qc
      .updateTable('messages')
      .set({
        role: p.role,
        content: p.content,
        metadata: p.metadata,
        payload: p.payload,
        format: p.format,
        digest: p.digest,
      })
      .where('session_id', '=', p.sessionId)
      .where('id', '=', p.id);
  return {
    lockSession: compileForScope((p: { sessionId: string }, scope) =>
      sessionLockQuery(db, rowLocks, p.sessionId, scope),
    ),
    sessionDigests: compileOnce((p: { sessionId: string }) =>
      db.selectFrom('messages').select(['id', 'digest']).where('session_id', '=', p.sessionId),
    ),
    replaceMessage: compileOnce((p: Replacement) => replace(db, p)),
    touchUpdatedAt: compileOnce((p: { sessionId: string; at: StoredTimestamp }) =>
      db.updateTable('sessions').set({ updated_at: p.at }).where('id', '=', p.sessionId),
    ),
    replaceAndTouch: compileOnce((p: Replacement & { at: StoredTimestamp }) =>
      db
        .with('replaced', (qc) => replace(qc, p))
        .updateTable('sessions')
        .set({ updated_at: p.at })
        .where('id', '=', p.sessionId),
    ),
  };
}
