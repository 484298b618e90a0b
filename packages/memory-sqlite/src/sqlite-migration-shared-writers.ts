import { type Kysely, sql } from 'kysely';
import {
  INDEX_EXISTING_MESSAGES,
  run,
  SEARCH_INDEX_TABLES,
  SEARCH_INDEX_TRIGGERS,
} from './sqlite-migrations.js';

/**
 * Triggers that keep `sessions.message_count` and `last_message_at` exact whoever writes `messages`: this
 * store, the Python app (which knows nothing of these columns) or any other SQLite client. Written with
 * SQLite 3.8 features only (see the README's feature table). The store's own `addMessage` leaves these two
 * columns to them (`activityKeptByTriggers`), so that nothing is counted twice.
 *
 * - insert: one more message; `last_message_at` becomes the later of the two (`NULL` timestamps are ignored,
 *   as `max()` ignores them);
 * - delete: one fewer; `last_message_at` is looked up again through `idx_messages_history` only when the row
 *   deleted could have been the latest;
 * - a message moved to another session or re-timed (no writer here does it, a person with a SQL shell might):
 *   both sessions are recounted.
 */
export const ACTIVITY_TRIGGERS: readonly string[] = [
  `CREATE TRIGGER messages_activity_insert AFTER INSERT ON messages BEGIN
    UPDATE sessions SET
      message_count = message_count + 1,
      last_message_at = CASE WHEN last_message_at IS NULL OR NEW.created_at > last_message_at
        THEN NEW.created_at ELSE last_message_at END
    WHERE id = NEW.session_id;
END`,
  `CREATE TRIGGER messages_activity_delete AFTER DELETE ON messages BEGIN
    UPDATE sessions SET
      message_count = message_count - 1,
      last_message_at = CASE WHEN OLD.created_at < last_message_at THEN last_message_at
        ELSE (SELECT max(created_at) FROM messages WHERE session_id = OLD.session_id) END
    WHERE id = OLD.session_id;
END`,
  `CREATE TRIGGER messages_activity_update AFTER UPDATE OF session_id, created_at ON messages BEGIN
    UPDATE sessions SET
      message_count = (SELECT count(*) FROM messages WHERE session_id = sessions.id),
      last_message_at = (SELECT max(created_at) FROM messages WHERE session_id = sessions.id)
    WHERE id IN (OLD.session_id, NEW.session_id);
END`,
];

/**
 * Version 5: the file stays writable by the Python app and by any SQLite client from 3.34 on.
 *
 * - A file an earlier version 4 wrote has its FTS5 tables declared with `contentless_delete` (SQLite 3.43):
 *   any client with an older SQLite then fails on every write to `messages` (`unrecognized option`). Those
 *   tables and their triggers are recreated as version 4 now creates them, and the messages indexed again.
 * - {@link ACTIVITY_TRIGGERS} are added, and every session's counts recomputed once: writes made by other
 *   clients since version 2 left them stale.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
export async function sharedWritersUp(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ sql: string }>`
    SELECT sql FROM sqlite_master WHERE name IN ('messages_fts', 'messages_fts_trigram')`.execute(db);
  if (rows.some((row) => /contentless_delete/i.test(row.sql))) {
    await run(db, [
      'DROP TRIGGER messages_fts_insert',
      'DROP TRIGGER messages_fts_delete',
      'DROP TRIGGER messages_fts_update',
      'DROP TABLE messages_fts',
      'DROP TABLE messages_fts_trigram',
      ...SEARCH_INDEX_TABLES,
      ...SEARCH_INDEX_TRIGGERS,
      ...INDEX_EXISTING_MESSAGES,
    ]);
  }
  await run(db, [
    ...ACTIVITY_TRIGGERS,
    `UPDATE sessions SET
      message_count = (SELECT count(*) FROM messages WHERE session_id = sessions.id),
      last_message_at = (SELECT max(created_at) FROM messages WHERE session_id = sessions.id)`,
  ]);
}
