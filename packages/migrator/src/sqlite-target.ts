import { existsSync } from 'node:fs';
import { isoMicrosToNaive, parseTimestamp } from '@flux-rag/memory-core/backend';
import { decodeMetadataText, readSchemaVersion, UNREADABLE_TIMESTAMP } from '@flux-rag/memory-core/sql';
import { SqliteConversationMemory, sqliteSchemaCatalog } from '@flux-rag/memory-sqlite';
import BetterSqlite3 from 'better-sqlite3';
import { describeError, MigrationError } from './migration-errors.js';
import type { MigrationTarget, SessionWithCounts } from './migration-target.js';
import { DigestSet, md5Hex } from './row-digest.js';
import { asText, type MessageRow, type SessionRow } from './row-rules.js';
import {
  MESSAGE_COLUMNS,
  MESSAGE_DATA_COLUMNS,
  messageCells,
  SESSION_COLUMNS,
  sessionCells,
  targetSessionSelectList,
} from './table-columns.js';

/** SQLite's limit on bound parameters per statement (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32). */
export const SQLITE_MAX_PARAMETERS = 32_766;

/** Options of {@link openSqliteTarget}. */
export interface SqliteTargetOptions {
  filename: string;
  /** Create or upgrade the file through `SqliteConversationMemory`; default true. Without it nothing is written. */
  setup?: boolean;
}

/** Opens (and unless `setup: false`, creates or upgrades) a SQLite file as a migration target. */
export async function openSqliteTarget(options: SqliteTargetOptions): Promise<MigrationTarget> {
  const { filename } = options;
  if (options.setup !== false) {
    const store = new SqliteConversationMemory({ filename });
    try {
      await store.init();
    } finally {
      await store.close();
    }
  } else if (!existsSync(filename)) {
    return new SqliteTarget(undefined, filename, null);
  }
  try {
    const db = new BetterSqlite3(filename, { fileMustExist: true, readonly: options.setup === false });
    db.pragma('busy_timeout = 5000');
    // 0 is a file without the tables yet: the target creates them.
    const version = readSchemaVersion(sqliteSchemaCatalog(db)) || null;
    return new SqliteTarget(db, filename, version);
  } catch (error) {
    throw new MigrationError('TARGET_FAILED', `SQLite target ${filename}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

class SqliteTarget implements MigrationTarget {
  readonly backend = 'sqlite';
  readonly location: string;
  readonly schemaVersion: number | null;
  readonly #db: BetterSqlite3.Database | undefined;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  #indexes: { name: string; sql: string }[] | undefined;

  constructor(db: BetterSqlite3.Database | undefined, location: string, schemaVersion: number | null) {
    this.#db = db;
    this.location = location;
    this.schemaVersion = schemaVersion;
  }

  #run<T>(work: (db: BetterSqlite3.Database) => T): T {
    try {
      return work(this.#db!);
    } catch (error) {
      if (MigrationError.isInstance(error)) throw error;
      throw new MigrationError('TARGET_FAILED', `SQLite target ${this.location}: ${describeError(error)}`, {
        cause: error,
      });
    }
  }

  #statement(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db!.prepare(sql);
      if (this.#statements.size > 20) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Multi-row INSERTs that stay under SQLite's bound-parameter limit: `floor(32766 / columns)` rows per
   * statement (4,680 messages), the statement for a full chunk prepared once and reused.
   */
  #insert(table: string, columns: string[], rows: unknown[][], tail = ''): number {
    const perStatement = Math.floor(SQLITE_MAX_PARAMETERS / columns.length);
    let changes = 0;
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      const values = `(${columns.map(() => '?').join(', ')})`;
      const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(chunk.length).fill(values).join(', ')} ${tail}`;
      changes += this.#statement(sql).run(chunk.flat()).changes;
    }
    return changes;
  }

  async isEmpty(): Promise<boolean> {
    if (!this.#db || this.schemaVersion === null) return true;
    return this.#run(
      (db) =>
        !db
          .prepare('SELECT EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM messages)')
          .pluck()
          .get(),
    );
  }

  #present(table: string, ids: readonly string[]): Set<string> {
    if (!this.#db || this.schemaVersion === null || ids.length === 0) return new Set();
    // One JSON array parameter, however many ids.
    return this.#run(
      (db) =>
        new Set(
          db
            .prepare(`SELECT id FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`)
            .pluck()
            .all(JSON.stringify(ids)) as string[],
        ),
    );
  }

  async presentSessions(ids: readonly string[]) {
    return this.#present('sessions', ids);
  }

  async presentMessages(ids: readonly string[]) {
    return this.#present('messages', ids);
  }

  async beginBulk(): Promise<boolean> {
    return this.#run((db) => {
      // Checked at the end with foreign_key_check instead of row by row; the pragma is ignored inside a transaction.
      db.pragma('foreign_keys = OFF');
      db.exec('BEGIN IMMEDIATE');
      if (
        db.prepare('SELECT EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM messages)').pluck().get()
      ) {
        db.exec('ROLLBACK');
        return false;
      }
      // The backend's secondary indexes, as its migrations created them: dropped now, built once at the end.
      this.#indexes = db
        .prepare(
          "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('sessions', 'messages') ORDER BY name",
        )
        .all() as { name: string; sql: string }[];
      for (const index of this.#indexes) db.exec(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
      return true;
    });
  }

  async bulkMessages(rows: readonly MessageRow[]): Promise<void> {
    this.#run(() => this.#insert('messages', MESSAGE_COLUMNS, rows.map(messageValues)));
  }

  async bulkSessions(rows: readonly SessionWithCounts[]): Promise<void> {
    this.#run(() => this.#insert('sessions', SESSION_COLUMNS, rows.map(sessionValues)));
  }

  async finishBulk(onStep?: (step: string) => void): Promise<void> {
    this.#run((db) => {
      for (const index of this.#indexes ?? []) {
        onStep?.(`index ${index.name}`);
        db.exec(index.sql);
      }
      onStep?.('foreign keys');
      const orphan = db.prepare('PRAGMA foreign_key_check').get();
      if (orphan)
        throw new MigrationError('TARGET_FAILED', `foreign key check failed: ${JSON.stringify(orphan)}`);
      onStep?.('commit');
      db.exec('COMMIT');
      db.pragma('foreign_keys = ON');
    });
    this.#indexes = undefined;
  }

  async abortBulk(): Promise<void> {
    if (this.#db?.inTransaction) this.#db.exec('ROLLBACK');
    this.#db?.pragma('foreign_keys = ON');
    this.#indexes = undefined;
  }

  async mergeSessions(rows: readonly SessionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.#run((db) =>
      db
        .transaction(() =>
          this.#insert(
            'sessions',
            SESSION_COLUMNS,
            rows.map((r) => sessionValues({ ...r, messageCount: 0, lastMessageAt: null })),
            'ON CONFLICT (id) DO NOTHING',
          ),
        )
        .immediate(),
    );
  }

  async mergeMessages(rows: readonly MessageRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.#run((db) =>
      db
        .transaction(() => {
          // seq is the rowid: one already used by another message makes this one take the next free value
          // (it then sorts after the rows already there); otherwise the source's seq is kept.
          const insert = this.#statement(
            `INSERT INTO messages (${MESSAGE_COLUMNS.join(', ')})
           VALUES (CASE WHEN EXISTS (SELECT 1 FROM messages WHERE seq = @seq) THEN NULL ELSE @seq END,
                   ${MESSAGE_DATA_COLUMNS.map((column) => `@${column}`).join(', ')})
           ON CONFLICT (session_id, id) DO NOTHING`,
          );
          let written = 0;
          for (const row of rows) {
            const values = messageValues(row);
            written += insert.run(Object.fromEntries(MESSAGE_COLUMNS.map((c, i) => [c, values[i]]))).changes;
          }
          if (written > 0) {
            db.prepare(
              `UPDATE sessions SET
               message_count = (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id),
               last_message_at = (SELECT max(created_at) FROM messages m WHERE m.session_id = sessions.id)
             WHERE id IN (SELECT value FROM json_each(?))`,
            ).run(JSON.stringify([...new Set(rows.map((r) => r.sessionId))]));
          }
          return written;
        })
        .immediate(),
    );
  }

  async fixSequence(): Promise<void> {
    // seq is the rowid: SQLite always takes max(rowid) + 1 next.
  }

  async count(): Promise<{ sessions: number; messages: number }> {
    if (!this.#db || this.schemaVersion === null) return { sessions: 0, messages: 0 };
    return this.#run((db) => ({
      sessions: db.prepare('SELECT count(*) FROM sessions').pluck().get() as number,
      messages: db.prepare('SELECT count(*) FROM messages').pluck().get() as number,
    }));
  }

  async digests(sessionIds: readonly string[] | 'all'): Promise<DigestSet> {
    const set = new DigestSet();
    if (!this.#db || this.schemaVersion === null || sessionIds.length === 0) return set;
    const all = sessionIds === 'all';
    const ids = all ? '[]' : JSON.stringify(sessionIds);
    const time = (value: unknown) => parseTimestamp(asText(value)) ?? UNREADABLE_TIMESTAMP;
    this.#run((db) => {
      const present = new Set(db.prepare("SELECT name FROM pragma_table_info('sessions')").pluck().all());
      const columns = targetSessionSelectList(
        (column) => present.has(column),
        (column) => column,
      );
      for (const r of db
        .prepare(`SELECT ${columns} FROM sessions WHERE ? OR id IN (SELECT value FROM json_each(?))`)
        .raw(true)
        .iterate(all ? 1 : 0, ids) as Iterable<unknown[]>) {
        set.addSession(
          {
            id: r[0] as string,
            title: r[1] as string | null,
            createdAt: time(r[2]),
            updatedAt: time(r[3] ?? r[2]),
            metadata: decodeMetadataText(r[4]),
            ownerId: (r[7] as string | null) ?? null,
          },
          { count: Number(r[5]), lastMessageAt: r[6] === null ? null : time(r[6]) },
        );
      }
      for (const r of db
        .prepare(
          `SELECT session_id, id, role, content, created_at, metadata, payload, format, digest FROM messages
           WHERE ? OR session_id IN (SELECT value FROM json_each(?))`,
        )
        .raw(true)
        .iterate(all ? 1 : 0, ids) as Iterable<unknown[]>) {
        set.addMessage({
          sessionId: r[0] as string,
          id: r[1] as string,
          role: asText(r[2]),
          contentMd5: md5Hex(asText(r[3])),
          createdAt: time(r[4]),
          metadata: decodeMetadataText(r[5]),
          payloadMd5: r[6] === null ? null : md5Hex(asText(r[6])),
          format: (r[7] as string | null) ?? null,
          digest: (r[8] as string | null) ?? null,
        });
      }
    });
    return set;
  }

  async close(): Promise<void> {
    if (this.#db?.open) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      this.#db.close();
    }
  }
}

function sessionValues(r: SessionWithCounts): unknown[] {
  return sessionCells<unknown>({
    id: r.id,
    title: r.title,
    created_at: isoMicrosToNaive(r.createdAt),
    updated_at: isoMicrosToNaive(r.updatedAt),
    metadata: r.metadataText,
    message_count: r.messageCount,
    last_message_at: r.lastMessageAt === null ? null : isoMicrosToNaive(r.lastMessageAt),
    owner_id: r.ownerId,
  });
}

function messageValues(r: MessageRow): unknown[] {
  const content = typeof r.content === 'string' ? r.content : r.content.toString('utf8');
  return messageCells<unknown>({
    seq: r.seq,
    id: r.id,
    session_id: r.sessionId,
    role: r.role,
    content,
    created_at: isoMicrosToNaive(r.createdAt),
    metadata: r.metadataText,
    payload: r.payload,
    format: r.format,
    digest: r.digest,
  });
}
