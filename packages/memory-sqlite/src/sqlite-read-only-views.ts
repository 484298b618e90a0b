import type Database from 'better-sqlite3';
import type { FileInspection } from './sqlite-file-inspection.js';
import { isCanonicalSql, orderKeyOfSql } from './sqlite-timestamp-order.js';

/** `created_order` as the version 6 triggers would fill it: `NULL` for a canonical timestamp, else its sort key. */
function createdOrder(alias: string, has: boolean): string {
  if (has) return `${alias}.created_order`;
  const at = `${alias}.created_at`;
  return `CASE WHEN ${isCanonicalSql(at)} THEN NULL ELSE ${orderKeyOfSql(at)} END AS created_order`;
}

/**
 * For a read-only store on a file of an older schema version (a Python file is version 1): `TEMP` views named
 * `sessions` and `messages` that give the shared queries the latest columns, computed from what the file has.
 * SQLite resolves an unqualified name in `temp` before `main`, and `temp` lives in memory on this connection
 * only, so the file is never written. A column the file lacks is derived as the upgrade would fill it:
 *
 * - `messages.seq`: the rowid, which is what the upgrade copies into `seq`;
 * - `sessions.message_count` and `last_message_at`: counted from `messages` (through the Python index
 *   `idx_messages_session(session_id, created_at)`), only for the rows a query returns;
 * - `sessions.owner_id`: `NULL`, as the upgrade leaves every legacy session unowned;
 * - `created_order` of both tables: the sort key of a non-canonical timestamp, as version 6 fills it (listings
 *   then sort by it without the version 6 index: fine for inspecting a file);
 * - `messages.payload`, `format` and `digest`: `NULL`, as version 7 leaves them for existing rows (a missing
 *   digest is computed on read).
 *
 * A file without tables (a new store opened read-only) reads as empty. Returns false when the file already has
 * every column and nothing was created.
 */
export function createReadOnlyViews(raw: Database.Database, found: FileInspection): boolean {
  if (found.empty) {
    raw.exec(`CREATE TEMP VIEW sessions AS SELECT NULL AS id, NULL AS title, NULL AS created_at,
      NULL AS updated_at, NULL AS metadata, 0 AS message_count, NULL AS last_message_at, NULL AS owner_id,
      NULL AS created_order WHERE 0`);
    raw.exec(`CREATE TEMP VIEW messages AS SELECT NULL AS seq, NULL AS id, NULL AS session_id, NULL AS role,
      NULL AS content, NULL AS created_at, NULL AS metadata, NULL AS created_order, NULL AS payload,
      NULL AS format, NULL AS digest WHERE 0`);
    return true;
  }
  const has = (table: 'sessions' | 'messages', column: string) => found.columns[table].includes(column);
  const sessionColumns = [
    has('sessions', 'message_count')
      ? 's.message_count'
      : '(SELECT count(*) FROM main.messages AS m WHERE m.session_id = s.id) AS message_count',
    has('sessions', 'last_message_at')
      ? 's.last_message_at'
      : '(SELECT max(m.created_at) FROM main.messages AS m WHERE m.session_id = s.id) AS last_message_at',
    has('sessions', 'owner_id') ? 's.owner_id' : 'NULL AS owner_id',
    createdOrder('s', has('sessions', 'created_order')),
  ];
  const complete =
    has('sessions', 'message_count') &&
    has('sessions', 'last_message_at') &&
    has('sessions', 'owner_id') &&
    has('sessions', 'created_order') &&
    has('messages', 'seq') &&
    has('messages', 'created_order') &&
    has('messages', 'payload');
  if (complete) return false;
  raw.exec(`CREATE TEMP VIEW sessions AS
    SELECT s.id, s.title, s.created_at, s.updated_at, s.metadata, ${sessionColumns.join(', ')}
    FROM main.sessions AS s`);
  raw.exec(`CREATE TEMP VIEW messages AS
    SELECT ${has('messages', 'seq') ? 'm.seq' : 'm.rowid AS seq'}, m.id, m.session_id, m.role, m.content,
      m.created_at, m.metadata, ${createdOrder('m', has('messages', 'created_order'))},
      ${has('messages', 'payload') ? 'm.payload, m.format, m.digest' : 'NULL AS payload, NULL AS format, NULL AS digest'}
    FROM main.messages AS m`);
  return true;
}
