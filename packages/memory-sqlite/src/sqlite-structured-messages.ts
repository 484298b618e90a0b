import { ACTIVITY_TRIGGERS } from './sqlite-migration-shared-writers.js';
import { SEARCH_INDEX_TRIGGERS } from './sqlite-migrations.js';
import { createdOrderTriggers, orderKeySql } from './sqlite-timestamp-order.js';

/**
 * The `messages` table of schema version 7, under `name`. `seq` stays the rowid alias (the FTS5 tables'
 * contentless rowids are `seq`, so they stay valid when a rebuild keeps it); `id` is unique per session only
 * (`UNIQUE (session_id, id)`), so that a forked chat may keep its messages' ids. `payload`, `format` and
 * `digest` are `NULL` for rows other writers insert (the Python app names the six original columns only): a
 * missing digest is computed on read.
 */
const messagesTable = (name: string) => `CREATE TABLE ${name} (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT,
    metadata TEXT,
    created_order TEXT,
    payload TEXT,
    format TEXT,
    digest TEXT,
    UNIQUE (session_id, id),
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
)`;

/** The columns a version 6 `messages` row has, copied as they are. */
const VERSION_6_COLUMNS = 'seq, id, session_id, role, content, created_at, metadata, created_order';

/**
 * Schema version 7 (`0007_structured_messages`), run inside the upgrade's `BEGIN IMMEDIATE` with foreign keys
 * off (see `migrateSqlite`):
 *
 * - `messages` is rebuilt, because SQLite cannot drop the column constraint `UNIQUE` of version 2's `id`: every
 *   row is copied with its `seq`, the old table dropped (its triggers and indexes with it), the new one renamed,
 *   and the history index and every trigger of versions 4 to 6 created again (search index ×3, activity ×3,
 *   `created_order` ×2). Nothing is re-indexed: the search tables key on `seq`, which is kept.
 * - `message_operations`: the result of each `operationId` of `upsertMessages` and `rewriteHistory`, with a
 *   digest of the request, keyed by session (a retry replays the stored result). `seq` numbers a session's
 *   operations, so that the oldest beyond the latest 1,000 are pruned through `(session_id, seq)`. A trigger
 *   deletes a session's operations with the session, whoever deletes it (foreign keys are off in the Python
 *   app's connections, so the cascade alone would not).
 *
 * SQLite 3.8-era features only (`WITHOUT ROWID` is 3.8.2), for the Python app's `sqlite3`. A function, not a
 * constant: it reads the other versions' statements, from modules that import this one.
 */
export function structuredMessagesStatements(): readonly string[] {
  return [
    messagesTable('messages_v7'),
    `INSERT INTO messages_v7 (${VERSION_6_COLUMNS}) SELECT ${VERSION_6_COLUMNS} FROM messages ORDER BY seq`,
    'DROP TABLE messages',
    'ALTER TABLE messages_v7 RENAME TO messages',
    `CREATE INDEX idx_messages_history ON messages(session_id, ${orderKeySql()}, seq)`,
    ...SEARCH_INDEX_TRIGGERS,
    ...ACTIVITY_TRIGGERS,
    ...createdOrderTriggers('messages'),
    `CREATE TABLE message_operations (
    session_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    result TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (session_id, operation_id),
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE CASCADE
) WITHOUT ROWID`,
    'CREATE INDEX idx_message_operations_seq ON message_operations(session_id, seq)',
    `CREATE TRIGGER sessions_operations_delete AFTER DELETE ON sessions BEGIN
    DELETE FROM message_operations WHERE session_id = OLD.id;
END`,
  ];
}
