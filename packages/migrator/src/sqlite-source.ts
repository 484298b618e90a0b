import { existsSync } from 'node:fs';
import { readSchemaVersion } from '@flux-rag/memory-core/sql';
import { sqliteSchemaCatalog } from '@flux-rag/memory-sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { MigrationError } from './migration-errors.js';
import type { MigrationSource, PageLimits } from './migration-source.js';
import type { RawMessage, RawSession } from './row-rules.js';
import { REQUIRED_SOURCE_COLUMNS, sessionSelectList } from './table-columns.js';

const EMPTY = Buffer.alloc(0);

/**
 * Opens a SQLite file read-only: one written by the original Python code (schema version 1) or by
 * `@flux-rag/memory-sqlite` (any version). Raw better-sqlite3, no schema upgrade, nothing written. Rows are
 * read in keyset pages by rowid (which is `seq` in version 2): insertion order, sequential on disk.
 */
export function openSqliteSource(filename: string): MigrationSource {
  if (!existsSync(filename)) {
    throw new MigrationError('SOURCE_NOT_FOUND', `SQLite source ${filename} does not exist`);
  }
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(filename, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new MigrationError(
      'SOURCE_FAILED',
      `cannot open SQLite source ${filename}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    for (const [table, columns] of [
      ['sessions', REQUIRED_SOURCE_COLUMNS.sessions],
      ['messages', REQUIRED_SOURCE_COLUMNS.messages],
    ] as const) {
      const present = new Set(
        (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map(
          (c) => c.name,
        ),
      );
      const missing = columns.filter((c) => !present.has(c));
      if (missing.length > 0) {
        throw new MigrationError(
          'SOURCE_UNSUPPORTED',
          `${filename} is not a conversation-memory file: table ${table} ${
            present.size === 0 ? 'is missing' : `lacks ${missing.join(', ')}`
          }`,
        );
      }
    }
    // One snapshot for the whole run (a deferred transaction takes it at its first read).
    db.exec('BEGIN');
    db.prepare('SELECT 1 FROM sessions LIMIT 1').get();
  } catch (error) {
    db.close();
    if (MigrationError.isInstance(error)) throw error;
    throw new MigrationError(
      'SOURCE_FAILED',
      `cannot read SQLite source ${filename}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return new SqliteSource(db, filename);
}

class SqliteSource implements MigrationSource {
  readonly backend = 'sqlite';
  readonly location: string;
  readonly schemaVersion: number;
  readonly #db: BetterSqlite3.Database;
  readonly #sessions: BetterSqlite3.Statement<[number, number], unknown[]>;
  readonly #messages: BetterSqlite3.Statement<[number, number], unknown[]>;

  constructor(db: BetterSqlite3.Database, location: string) {
    this.#db = db;
    this.location = location;
    this.schemaVersion = readSchemaVersion(sqliteSchemaCatalog(db));
    const present = new Set(db.prepare("SELECT name FROM pragma_table_info('sessions')").pluck().all());
    // SQLite reads every kind as stored; the row rules judge the values.
    const columns = sessionSelectList(
      (column) => present.has(column),
      (column) => column,
    );
    this.#sessions = db
      .prepare<[number, number], unknown[]>(
        `SELECT rowid, ${columns} FROM sessions WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      )
      .raw(true);
    // The columns of schema version 7, NULL in older files.
    const structured = db.prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'payload'").get()
      ? 'm.payload, m.format, m.digest'
      : 'NULL, NULL, NULL';
    // EXISTS finds orphans through the sessions' primary-key index, exactly (same value, same type).
    this.#messages = db
      .prepare<[number, number], unknown[]>(
        `SELECT m.rowid, m.id, m.session_id, m.role,
           CASE WHEN typeof(m.content) = 'text' THEN CAST(m.content AS BLOB) ELSE m.content END,
           typeof(m.content) = 'text', m.created_at, m.metadata,
           EXISTS (SELECT 1 FROM sessions s WHERE s.id = m.session_id), ${structured}
         FROM messages m WHERE m.rowid > ? ORDER BY m.rowid LIMIT ?`,
      )
      .raw(true);
  }

  async count() {
    const n = (table: string) => this.#db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return { sessions: n('sessions'), messages: n('messages') };
  }

  async *sessions(limits: PageLimits): AsyncIterable<RawSession[]> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const page: RawSession[] = [];
      let bytes = 0;
      for (const r of this.#sessions.iterate(after, limits.rows)) {
        page.push({
          key: r[0] as number,
          id: r[1],
          title: r[2],
          createdAt: r[3],
          updatedAt: r[4],
          metadata: r[5],
          ownerId: r[6],
        });
        bytes += sizeOf(r[2]) + sizeOf(r[5]) + 100;
        if (bytes >= limits.bytes) break;
      }
      if (page.length === 0) return;
      after = page[page.length - 1]!.key;
      yield page;
    }
  }

  async *messages(limits: PageLimits): AsyncIterable<RawMessage[]> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const page: RawMessage[] = [];
      let bytes = 0;
      // Stops early at the byte budget (the iterator is closed by `break`), so a page of very large rows
      // stays small.
      for (const r of this.#messages.iterate(after, limits.rows)) {
        // Text content comes as its UTF-8 bytes: no decoding into a string, no encoding back for COPY.
        const text = r[5] === 1;
        page.push({
          key: r[0] as number,
          id: r[1],
          sessionId: r[2],
          role: r[3],
          content: text ? undefined : r[4],
          contentUtf8: text ? ((r[4] as Buffer | null) ?? EMPTY) : undefined,
          createdAt: r[6],
          metadata: r[7],
          sessionFound: r[8] === 1,
          payload: r[9],
          format: r[10],
          digest: r[11],
        });
        bytes += sizeOf(r[4]) + sizeOf(r[7]) + sizeOf(r[9]) + 100;
        if (bytes >= limits.bytes) break;
      }
      if (page.length === 0) return;
      after = page[page.length - 1]!.key;
      yield page;
    }
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    if (this.#db.inTransaction) this.#db.exec('COMMIT');
    this.#db.close();
  }
}

function sizeOf(value: unknown): number {
  return typeof value === 'string' ? value.length : Buffer.isBuffer(value) ? value.length : 8;
}
