/**
 * The DDL of the original Python backend (`ConversationMemory`), statement by statement, exactly as it created
 * its file: schema version 1, which migration `0001_original_schema` applies and which a legacy file already
 * has. Each statement keeps the Python code's `IF NOT EXISTS` and its layout, one column per line: SQLite
 * stores the text in `sqlite_master` (without `IF NOT EXISTS`), so a file created from these statements has
 * the same schema text as a file the Python code wrote. Tools that write legacy files for tests and benchmarks
 * (`@flux-rag/migrator`'s `generateLegacyFile`) use it too, so that they cannot drift from what is upgraded.
 *
 * @example
 * ```ts
 * const db = new Database(path);
 * for (const statement of ORIGINAL_SCHEMA) db.exec(statement);
 * ```
 */
export const ORIGINAL_SCHEMA: readonly string[] = Object.freeze([
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT,
    created_at TEXT,
    updated_at TEXT,
    metadata TEXT
)`,
  `CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT,
    metadata TEXT,
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)`,
  'CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id, created_at)',
]);
