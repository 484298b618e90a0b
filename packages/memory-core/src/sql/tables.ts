import type { MessagesTable, SessionsTable } from './database.js';

/** How a column's values are stored and compared; each dialect maps a kind to its own type (see its codecs). */
export type ColumnKind = 'text' | 'timestamp' | 'json' | 'integer';

/**
 * Where a column's value comes from when a row is copied between stores:
 * - `data`: the row itself (copied, and compared by the migrator's verification);
 * - `derived`: recomputed from other rows by the store (`message_count`, `last_message_at`);
 * - `sequence`: assigned by the database on insert (`seq`).
 */
export type ColumnOrigin = 'data' | 'derived' | 'sequence';

/** One column of the shared tables. */
export interface ColumnSpec {
  /** How its values are stored. */
  readonly kind: ColumnKind;
  /** Whether it may hold `NULL`. */
  readonly nullable: boolean;
  /** Where its value comes from when a row is copied. */
  readonly origin: ColumnOrigin;
  /** The schema version that added it; 1 is the original Python schema, which legacy files have. */
  readonly since: number;
}

/**
 * The `sessions` table, column by column, in table order. Keyed by the Kysely table type: a column added to
 * `SessionsTable` and not described here (or a misspelt one) fails to compile.
 */
export const SESSIONS_TABLE = {
  id: { kind: 'text', nullable: false, origin: 'data', since: 1 },
  title: { kind: 'text', nullable: true, origin: 'data', since: 1 },
  created_at: { kind: 'timestamp', nullable: false, origin: 'data', since: 1 },
  updated_at: { kind: 'timestamp', nullable: false, origin: 'data', since: 1 },
  metadata: { kind: 'json', nullable: false, origin: 'data', since: 1 },
  message_count: { kind: 'integer', nullable: false, origin: 'derived', since: 2 },
  last_message_at: { kind: 'timestamp', nullable: true, origin: 'derived', since: 2 },
  owner_id: { kind: 'text', nullable: true, origin: 'data', since: 3 },
} as const satisfies { readonly [C in keyof SessionsTable]-?: ColumnSpec };

/**
 * The `messages` table, column by column, in table order. Keyed by the Kysely table type: a column added to
 * `MessagesTable` and not described here (or a misspelt one) fails to compile.
 */
export const MESSAGES_TABLE = {
  seq: { kind: 'integer', nullable: false, origin: 'sequence', since: 2 },
  id: { kind: 'text', nullable: false, origin: 'data', since: 1 },
  session_id: { kind: 'text', nullable: false, origin: 'data', since: 1 },
  role: { kind: 'text', nullable: false, origin: 'data', since: 1 },
  content: { kind: 'text', nullable: false, origin: 'data', since: 1 },
  created_at: { kind: 'timestamp', nullable: false, origin: 'data', since: 1 },
  metadata: { kind: 'json', nullable: false, origin: 'data', since: 1 },
  payload: { kind: 'text', nullable: true, origin: 'data', since: 7 },
  format: { kind: 'text', nullable: true, origin: 'data', since: 7 },
  digest: { kind: 'text', nullable: true, origin: 'data', since: 7 },
} as const satisfies { readonly [C in keyof MessagesTable]-?: ColumnSpec };

/** A table description: {@link SESSIONS_TABLE} or {@link MESSAGES_TABLE}. */
export type TableDescription = Readonly<Record<string, ColumnSpec>>;

/** The column names of a table description, in table order, optionally only those `where` accepts. */
export function columnsOf<T extends TableDescription>(
  table: T,
  where: (spec: ColumnSpec, name: keyof T & string) => boolean = () => true,
): (keyof T & string)[] {
  return (Object.keys(table) as (keyof T & string)[]).filter((name) => where(table[name]!, name));
}

/** The columns the original Python schema had (schema version 1): what a legacy source must hold. */
export const originalColumns = <T extends TableDescription>(table: T) =>
  columnsOf(table, (spec) => spec.since === 1);

/** The names of a description's columns whose `origin` is `data`, as a type. */
export type DataColumnOf<T extends TableDescription> = {
  [K in keyof T]: T[K] extends { readonly origin: 'data' } ? K : never;
}[keyof T] &
  string;

/** The columns copied from a source row and compared by verification (`origin: 'data'`), in table order. */
export const dataColumns = <T extends TableDescription>(table: T): DataColumnOf<T>[] =>
  columnsOf(table, (spec) => spec.origin === 'data') as DataColumnOf<T>[];

/**
 * A SELECT list over `columns` of `table`, in the order given: each column written by `expression` (a dialect's
 * reading of the column's kind; it may yield more than one comma-separated expression for a column, which then
 * shifts the positions after it), or `NULL` when `present` says the schema being read predates the column, so a
 * row has the same positions on every schema version.
 */
export function selectList<T extends TableDescription, C extends keyof T & string>(
  table: T,
  columns: readonly C[],
  expression: (column: C, spec: ColumnSpec) => string,
  present: (column: C) => boolean = () => true,
): string {
  return columns.map((column) => (present(column) ? expression(column, table[column]!) : 'NULL')).join(', ');
}

/** The {@link selectList} of a source's rows of `table`: its {@link dataColumns}, in table order. */
export function dataSelectList<T extends TableDescription>(
  table: T,
  expression: (column: DataColumnOf<T>, spec: ColumnSpec) => string,
  present: (column: DataColumnOf<T>) => boolean = () => true,
): string {
  return selectList(table, dataColumns(table), expression, present);
}
