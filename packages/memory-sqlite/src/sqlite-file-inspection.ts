import { NotConversationMemoryError } from '@flux-rag/memory-core';
import {
  MIGRATION_TABLE,
  type MigrationSet,
  readSchemaVersion,
  refuseUnknownMigrations,
} from '@flux-rag/memory-core/sql';
import type Database from 'better-sqlite3';

/** The columns the original Python code gave each table: a file is a conversation memory when it has them. */
export const PYTHON_COLUMNS: Readonly<Record<'sessions' | 'messages', readonly string[]>> = Object.freeze({
  sessions: ['id', 'title', 'created_at', 'updated_at', 'metadata'],
  messages: ['id', 'session_id', 'role', 'content', 'created_at', 'metadata'],
});

/** What a file holds, read from its schema without writing anything. */
export interface FileInspection {
  /** Every table of the main database, sorted (SQLite's own `sqlite_*` tables left out). */
  tables: string[];
  /** True when the file has no table at all: a new store. */
  empty: boolean;
  /** The schema version: the last migration applied, 1 for a Python file, 0 for an empty one. */
  schemaVersion: number;
  /** The columns of `sessions` and `messages`, by table, in order. */
  columns: { sessions: string[]; messages: string[] };
  /** The migrations recorded as applied in `kysely_migration`, sorted (none for a Python file). */
  migrations: string[];
  /** The names of every object (table, index, trigger, view) of the main database. */
  objects: Set<string>;
}

/**
 * Reads what `raw`'s main database holds (tables, columns, the schema version) and refuses, with
 * `NotConversationMemoryError` naming the tables found, anything that is neither empty nor a conversation
 * memory: `sessions` and `messages` with at least {@link PYTHON_COLUMNS}. Other tables are allowed and left
 * alone. Only reads.
 */
export function inspectFile(raw: Database.Database, location: string): FileInspection {
  const objects = raw
    .prepare("SELECT type, name FROM main.sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .all() as {
    type: string;
    name: string;
  }[];
  const tables = objects
    .filter((o) => o.type === 'table')
    .map((o) => o.name)
    .sort();
  const columnsOf = (table: string) =>
    (raw.prepare('SELECT name FROM pragma_table_info(?, ?)').pluck().all(table, 'main') as string[]) ?? [];
  const columns = {
    sessions: tables.includes('sessions') ? columnsOf('sessions') : [],
    messages: tables.includes('messages') ? columnsOf('messages') : [],
  };
  const empty = tables.length === 0;
  if (!empty) {
    for (const table of ['sessions', 'messages'] as const) {
      if (!tables.includes(table)) {
        throw new NotConversationMemoryError(location, tables, `it has no ${table} table`);
      }
      const missing = PYTHON_COLUMNS[table].filter((column) => !columns[table].includes(column));
      if (missing.length > 0) {
        throw new NotConversationMemoryError(
          location,
          tables,
          `its ${table} table lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
        );
      }
    }
  }
  const migrations = tables.includes(MIGRATION_TABLE)
    ? (raw.prepare(`SELECT name FROM main.${MIGRATION_TABLE} ORDER BY name`).pluck().all() as string[])
    : [];
  // Core's one rule, on the facts already read.
  const schemaVersion = readSchemaVersion({
    hasTable: (name) => tables.includes(name),
    recordedMigrations: () => migrations,
  });
  return { tables, empty, schemaVersion, columns, migrations, objects: new Set(objects.map((o) => o.name)) };
}

/**
 * Refuses, with `SchemaVersionError`, a file on which a migration this code does not know was applied: a newer
 * version of this package wrote it.
 */
export function refuseNewerFile(found: FileInspection, known: MigrationSet, location: string): void {
  refuseUnknownMigrations(found.migrations, known, location);
}
