import {
  type ColumnSpec,
  columnsOf,
  dataSelectList,
  MESSAGES_TABLE,
  originalColumns,
  SESSIONS_TABLE,
  selectList,
} from '@flux-rag/memory-core/sql';

/**
 * The migrator's column lists, all from core's one table description: a column added there reaches every read,
 * write, COPY encoding and (through `cellsOf`'s record type) forces every writer to supply its value.
 */

/** Every `sessions` column, in table order: what the targets write. */
export const SESSION_COLUMNS = columnsOf(SESSIONS_TABLE);
/** Every `messages` column, in table order: what the targets write. */
export const MESSAGE_COLUMNS = columnsOf(MESSAGES_TABLE);
/** The `messages` columns but those the database assigns (`seq`): what a merge inserts from its stage. */
export const MESSAGE_DATA_COLUMNS = columnsOf(MESSAGES_TABLE, (spec) => spec.origin !== 'sequence');
/** What a source must have: the original Python schema's columns. */
export const REQUIRED_SOURCE_COLUMNS = {
  sessions: originalColumns(SESSIONS_TABLE),
  messages: originalColumns(MESSAGES_TABLE),
} as const;

/** A value for every column of a table description (a missing column fails to compile). */
export type SessionCells<V> = { readonly [C in (typeof SESSION_COLUMNS)[number]]: V };
/** A value for every column of the `messages` description. */
export type MessageCells<V> = { readonly [C in (typeof MESSAGE_COLUMNS)[number]]: V };

/** The values of one session row in {@link SESSION_COLUMNS} order. */
export function sessionCells<V>(cells: SessionCells<V>): V[] {
  return SESSION_COLUMNS.map((column) => cells[column]);
}

/** The values of one message row in {@link MESSAGE_COLUMNS} order. */
export function messageCells<V>(cells: MessageCells<V>): V[] {
  return MESSAGE_COLUMNS.map((column) => cells[column]);
}

/**
 * The SELECT list of a source's session rows: each of its data columns written by `expression` (a dialect's
 * reading of its kind), or `NULL` when the source's schema version predates the column.
 */
export function sessionSelectList(
  present: (column: string) => boolean,
  expression: (column: string, spec: ColumnSpec) => string,
): string {
  return dataSelectList(SESSIONS_TABLE, expression, present);
}

/**
 * The SELECT list of a target's session rows for verification: every column of {@link SESSION_COLUMNS} written by
 * `expression`, or `NULL` when the target's schema lacks it.
 */
export function targetSessionSelectList(
  present: (column: string) => boolean,
  expression: (column: string, spec: ColumnSpec) => string,
): string {
  return selectList(SESSIONS_TABLE, SESSION_COLUMNS, expression, present);
}
