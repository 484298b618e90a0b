import { type MigrationSet, migrateToLatest, schemaVersionOf } from '@flux-rag/memory-core/sql';
import type Database from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';

/**
 * The schema exactly as the original Python backend created it (with its `IF NOT EXISTS`), so that a file
 * written by it is simply at version 1.
 */
const ORIGINAL_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, title TEXT, created_at TEXT, updated_at TEXT, metadata TEXT
)`,
  `CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
    created_at TEXT, metadata TEXT,
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)`,
  'CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id, created_at)',
];

/**
 * Version 2. `messages` is rebuilt with `seq INTEGER PRIMARY KEY` (an alias of the rowid, so it survives
 * VACUUM) and each legacy row keeps its old rowid as `seq`: messages that share a timestamp stay in insertion
 * order. Orphan messages (whose session is gone, which the Python code's connections never prevented since
 * they left foreign keys off) are copied like any other row: a read never loses them. Sessions get the
 * denormalised `message_count` and `last_message_at` that `getSessions` reads instead of counting messages.
 */
const INSERTION_ORDER_AND_COUNTS = [
  `CREATE TABLE messages_v2 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT,
    metadata TEXT,
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)`,
  `INSERT INTO messages_v2 (seq, id, session_id, role, content, created_at, metadata)
    SELECT rowid, id, session_id, role, content, created_at, metadata FROM messages ORDER BY rowid`,
  'DROP TABLE messages',
  'ALTER TABLE messages_v2 RENAME TO messages',
  'CREATE INDEX idx_messages_history ON messages(session_id, created_at, seq)',
  'ALTER TABLE sessions ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0',
  'ALTER TABLE sessions ADD COLUMN last_message_at TEXT',
  `UPDATE sessions SET
    message_count = (SELECT count(*) FROM messages WHERE messages.session_id = sessions.id),
    last_message_at = (SELECT max(created_at) FROM messages WHERE messages.session_id = sessions.id)`,
  'CREATE INDEX idx_sessions_activity ON sessions(updated_at DESC, id DESC)',
];

/**
 * Version 3: sessions may belong to an owner (a user or tenant); `NULL` for every existing session. The index
 * serves an owner's `getSessions` page the way `idx_sessions_activity` serves the unscoped one.
 */
const OWNER_SCOPE = [
  'ALTER TABLE sessions ADD COLUMN owner_id TEXT',
  'CREATE INDEX idx_sessions_owner_activity ON sessions(owner_id, updated_at DESC, id DESC)',
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
async function run(db: Kysely<any>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

/**
 * The SQLite schema versions, named as in every SQL backend (`NNNN_description`, the number is the schema
 * version). Kysely's `Migrator` records the ones applied in `kysely_migration`.
 */
export const sqliteMigrations: MigrationSet = {
  '0001_original_schema': { up: (db) => run(db, ORIGINAL_SCHEMA) },
  '0002_insertion_order_and_counts': { up: (db) => run(db, INSERTION_ORDER_AND_COUNTS) },
  '0003_owner_scope': { up: (db) => run(db, OWNER_SCOPE) },
};

/**
 * Brings the file to the latest schema version in one `BEGIN IMMEDIATE` transaction (a failure leaves it as
 * it was; another process opening it at the same time waits, then finds it done) and returns that version.
 * Foreign keys are turned off around it, because rebuilding `messages` must neither cascade nor check legacy
 * orphans, and `PRAGMA foreign_keys` is ignored inside a transaction. A file at a newer version is refused
 * with `SchemaVersionError` before anything is written.
 */
export async function migrateSqlite(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
  db: Kysely<any>,
  raw: Database.Database,
  location: string,
  migrations: MigrationSet = sqliteMigrations,
): Promise<number> {
  raw.pragma('foreign_keys = OFF');
  try {
    return await migrateToLatest(db, migrations, { location });
  } finally {
    raw.pragma('foreign_keys = ON');
  }
}

/** The schema version a file is at: the highest migration applied, 1 for a legacy file, 0 for an empty one. */
export function readSchemaVersion(raw: Database.Database): number {
  const hasTable = (name: string) =>
    raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  if (hasTable('kysely_migration')) {
    const row = raw.prepare('SELECT max(name) AS name FROM kysely_migration').get() as {
      name: string | null;
    };
    if (row.name !== null) return schemaVersionOf(row.name);
  }
  return hasTable('sessions') && hasTable('messages') ? 1 : 0;
}
