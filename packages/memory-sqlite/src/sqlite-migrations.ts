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

/**
 * Characters of the scripts written without spaces (Thai, Hangul, Han, Hiragana, Katakana: core's
 * `UNSPACED_SCRIPT`), as a GLOB class. The ranges are whole Unicode blocks, wider than the scripts, so that
 * characters a later Unicode version adds to these scripts are covered too; a few neighbours (CJK punctuation,
 * fullwidth Latin, Yi, Nüshu) come along, which only puts a few more messages in the trigram index.
 */
export const UNSPACED_GLOB_CLASS =
  '[\u0E00-\u0E7F\u1100-\u11FF\u2E80-\u2FDF\u3000-\u9FFF\uA960-\uA97F\uAC00-\uD7FF\uF900-\uFAFF' +
  '\uFF00-\uFFEF\u{16FE0}-\u{16FFF}\u{1AFF0}-\u{1B2FF}\u{1F200}-\u{1F2FF}\u{20000}-\u{3FFFF}]';

/** Guards the JSON functions, which throw on malformed text: metadata that is not a JSON object reads as `NULL`. */
const metadataObject = (column: string) =>
  `CASE WHEN json_valid(${column}) THEN CASE WHEN json_type(${column}) = 'object' THEN ${column} END END`;

/**
 * The index terms of one node of `json_tree` (alias `t`), see `sqlite-metadata-filter.ts`, which computes the
 * same terms for a filter: the label is the node's key (`k` + the key) or `i` for an array element; the value is
 * typed (`s` + text, `n` + an integer up to 2^53 - 1 in absolute value, `n` for any other number, `t`, `f`, `z`
 * for null, `o` for an object, `a` for an array). Keys and texts are cut to 100 characters.
 */
const TERM_LABEL = "CASE WHEN typeof(t.key) = 'text' THEN 'k' || substr(t.key, 1, 100) ELSE 'i' END";
const TERM_VALUE = `CASE t.type
    WHEN 'text' THEN 's' || substr(t.atom, 1, 100)
    WHEN 'integer' THEN CASE WHEN t.atom BETWEEN -9007199254740991 AND 9007199254740991
      THEN 'n' || t.atom ELSE 'n' END
    WHEN 'real' THEN CASE WHEN t.atom BETWEEN -9007199254740991 AND 9007199254740991
      AND t.atom = CAST(t.atom AS INTEGER) THEN 'n' || CAST(t.atom AS INTEGER) ELSE 'n' END
    WHEN 'true' THEN 't' WHEN 'false' THEN 'f' WHEN 'null' THEN 'z' WHEN 'object' THEN 'o' ELSE 'a' END`;

/** Writes the terms of the sessions `source` selects (columns `id`, `metadata`). */
const insertTerms = (source: string) =>
  `INSERT OR IGNORE INTO session_metadata_terms (label, value, session_id)
    SELECT DISTINCT ${TERM_LABEL}, ${TERM_VALUE}, s.id
    FROM (${source}) AS s, json_tree(${metadataObject('s.metadata')}) AS t
    WHERE t.parent IS NOT NULL`;

const UNICODE_WORDS = `tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M*'"`;

/**
 * Version 4: what `where.metadata`, `searchMessages` and `getSessionsPage` read.
 *
 * - `session_metadata_terms`: one row per distinct (key, typed value) of each session's metadata, kept by
 *   triggers. A filter looks up a few of its own terms in it to find candidate sessions, then checks
 *   containment exactly on those (see `sqlite-metadata-filter.ts`). Triggers hold no `WITH`, which SQLite
 *   documents as unsupported inside triggers.
 * - `messages_fts`: FTS5 over `messages.content`, rowid = `messages.seq`, words as core's search syntax defines
 *   them (letters, numbers and marks; case folded, accents kept). `messages_fts_trigram`: FTS5 trigram index of
 *   the messages written in an unspaced script, where search matches substrings. Both are contentless (the text
 *   stays in `messages` only) with `contentless_delete`, so that a delete needs only the rowid; triggers on
 *   `messages` keep them in the writing transaction; existing rows are indexed here.
 * - `sessions(created_at DESC, id DESC)` and `(owner_id, created_at DESC, id DESC)`: `getSessionsPage`'s order.
 */
const SEARCH_AND_FILTERS = [
  `CREATE TABLE session_metadata_terms (
    label TEXT NOT NULL,
    value TEXT NOT NULL,
    session_id TEXT NOT NULL,
    PRIMARY KEY (label, value, session_id)
) WITHOUT ROWID`,
  'CREATE INDEX idx_session_metadata_terms_session ON session_metadata_terms(session_id)',
  `CREATE TRIGGER sessions_terms_insert AFTER INSERT ON sessions BEGIN
    ${insertTerms('SELECT NEW.id AS id, NEW.metadata AS metadata')};
END`,
  `CREATE TRIGGER sessions_terms_delete AFTER DELETE ON sessions BEGIN
    DELETE FROM session_metadata_terms WHERE session_id = OLD.id;
END`,
  `CREATE TRIGGER sessions_terms_update AFTER UPDATE OF id, metadata ON sessions BEGIN
    DELETE FROM session_metadata_terms WHERE session_id = OLD.id;
    ${insertTerms('SELECT NEW.id AS id, NEW.metadata AS metadata')};
END`,
  insertTerms('SELECT id, metadata FROM sessions'),
  `CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = '', contentless_delete = 1, ${UNICODE_WORDS}
)`,
  `CREATE VIRTUAL TABLE messages_fts_trigram USING fts5(
    content, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 0'
)`,
  `CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.seq, NEW.content);
    INSERT INTO messages_fts_trigram (rowid, content)
      SELECT NEW.seq, NEW.content WHERE NEW.content GLOB '*${UNSPACED_GLOB_CLASS}*';
END`,
  `CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = OLD.seq;
    DELETE FROM messages_fts_trigram WHERE rowid = OLD.seq;
END`,
  `CREATE TRIGGER messages_fts_update AFTER UPDATE OF seq, content ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = OLD.seq;
    DELETE FROM messages_fts_trigram WHERE rowid = OLD.seq;
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.seq, NEW.content);
    INSERT INTO messages_fts_trigram (rowid, content)
      SELECT NEW.seq, NEW.content WHERE NEW.content GLOB '*${UNSPACED_GLOB_CLASS}*';
END`,
  'INSERT INTO messages_fts (rowid, content) SELECT seq, content FROM messages',
  `INSERT INTO messages_fts_trigram (rowid, content)
    SELECT seq, content FROM messages WHERE content GLOB '*${UNSPACED_GLOB_CLASS}*'`,
  'CREATE INDEX idx_sessions_created ON sessions(created_at DESC, id DESC)',
  'CREATE INDEX idx_sessions_owner_created ON sessions(owner_id, created_at DESC, id DESC)',
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
  '0004_search_and_filters': { up: (db) => run(db, SEARCH_AND_FILTERS) },
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
