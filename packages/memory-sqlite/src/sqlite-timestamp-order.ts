import { isoMicrosToNaive } from '@flux-rag/memory-core/backend';
import { UNREADABLE_TIMESTAMP } from '@flux-rag/memory-core/sql';

/**
 * The order of stored timestamps in SQLite, whatever form a legacy file holds them in.
 *
 * Listings order by the instant a timestamp decodes to (`sqliteCodecs.decodeTimestamp`), not by its text:
 * `2025-03-01 14:32:01`, `2025-03-01T23:32:01+09:00`, `2025-03-01T14:32:01` and `2025-03-01T14:32:01.000000`
 * are one instant, and `NULL` or `yesterday` read as the epoch. Nearly every row holds the canonical form the
 * store and the Python app write (`2025-03-01T14:32:01.117364`), whose text already sorts in time order; only
 * the others need a sort key. So each table gets a column `created_order`, `NULL` for a canonical timestamp and
 * the canonical text of the decoded instant otherwise, kept by triggers (which also serve other writers of the
 * file, such as the Python app), and listings order by `coalesce(created_order, created_at)`, through an index
 * on that expression. A canonical row costs the trigger's `WHEN` test and nothing else.
 *
 * SQLite features used, all in SQLite 3.37 and long before: expression indexes (3.9.0), triggers with `WHEN`,
 * scalar subqueries, `GLOB`, `substr`, `trim`/`ltrim` with a character set, `date`, `strftime` with a
 * `NNN minutes` modifier, `coalesce`, `CASE`.
 */

/**
 * What a missing or unreadable timestamp sorts as, and reads as: core's `UNREADABLE_TIMESTAMP` (the epoch) in
 * the naive form SQLite stores, so that it sorts with canonical rows as text.
 */
export const UNREADABLE_ORDER: string = isoMicrosToNaive(UNREADABLE_TIMESTAMP);

/** The expression listings order by, on a table whose columns are named unqualified or qualified by `table`. */
export function orderKeySql(table?: string): string {
  const col = (name: string) => (table === undefined ? name : `"${table}"."${name}"`);
  return `coalesce(${col('created_order')}, ${col('created_at')})`;
}

const DIGIT = '[0-9]';
const d = (n: number) => DIGIT.repeat(n);
/** The canonical form's shape: `2025-03-01T14:32:01.117364`, minutes and seconds below 60. */
const CANONICAL_GLOB = `${d(4)}-${d(2)}-${d(2)}T[0-2]${DIGIT}:[0-5]${DIGIT}:[0-5]${DIGIT}.${d(6)}`;
// Whitespace as JavaScript's `trim()` and `\s` (which parseTimestamp uses) define it: ASCII spaces and
// controls, and Unicode's space separators, line and paragraph separators, and the byte order mark.
const WHITESPACE = [
  9, 10, 11, 12, 13, 32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232,
  8233, 8239, 8287, 12288, 65279,
];
const SPACES = `char(${WHITESPACE.join(', ')})`;

/**
 * True when `x` holds the canonical form of a real instant, so that it sorts by its own text. Mirrors
 * `isCanonicalNaive` of the codecs: the shape, hours below 24, and a date that exists (`date()` moves
 * February 30th to March 2nd, so it differs from its input).
 */
export function isCanonicalSql(x: string): string {
  return `(${x} GLOB '${CANONICAL_GLOB}' AND substr(${x}, 12, 2) < '24'
    AND date(substr(${x}, 1, 10)) = substr(${x}, 1, 10))`;
}

/**
 * The canonical text of the instant `x` decodes to, or {@link UNREADABLE_ORDER}: the SQL form of
 * `parseTimestamp` (naive = UTC) for the grammar it accepts, `YYYY-MM-DD`, then optionally `T` or a space and
 * `HH:MM`, optionally `:SS`, optionally `.` or `,` and 1 to 9 fraction digits (6 kept), then optional spaces
 * and an optional zone `Z`, `z`, `+HH`, `+HH:MM` or `+HHMM` (at most 18 hours), surrounding spaces ignored.
 *
 * Written as nested scalar subqueries so that each step names its parts; it holds no `WITH` (not allowed in
 * triggers) and no function newer than SQLite 3.37.
 */
export function orderKeyOfSql(x: string): string {
  // s: the trimmed text; hm: whether HH:MM follows the date; sec: whether :SS follows.
  const l1 = `SELECT s,
      CASE WHEN substr(s, 11, 1) IN ('T', ' ') AND substr(s, 12, 5) GLOB '${d(2)}:${d(2)}' THEN 1 ELSE 0 END AS hm
    FROM (SELECT trim(CAST(${x} AS TEXT), ${SPACES}) AS s)`;
  const l2 = `SELECT s, hm,
      CASE WHEN hm = 1 AND substr(s, 17, 1) = ':' AND substr(s, 18, 2) GLOB '${d(2)}' THEN 1 ELSE 0 END AS sec
    FROM (${l1})`;
  // ft: the text after the fraction's separator, when there is one; nd: its leading digits.
  const l3 = `SELECT s, hm, sec, ft,
      CASE WHEN ft IS NULL THEN 0 ELSE length(ft) - length(ltrim(ft, '0123456789')) END AS nd
    FROM (SELECT s, hm, sec,
      CASE WHEN sec = 1 AND substr(s, 20, 1) IN ('.', ',') THEN substr(s, 21) END AS ft
    FROM (${l2}))`;
  // hms: the time of day; frac: six fraction digits; z: the zone text, spaces before it removed.
  const l4 = `SELECT substr(s, 1, 10) AS dt, nd, ft,
      CASE WHEN sec = 1 THEN substr(s, 12, 8) WHEN hm = 1 THEN substr(s, 12, 5) || ':00' ELSE '00:00:00' END AS hms,
      substr(CASE WHEN ft IS NULL THEN '' ELSE substr(ft, 1, nd) END || '000000', 1, 6) AS frac,
      ltrim(CASE WHEN ft IS NOT NULL THEN substr(ft, nd + 1) WHEN sec = 1 THEN substr(s, 20)
        WHEN hm = 1 THEN substr(s, 17) ELSE substr(s, 11) END, ${SPACES}) AS z
    FROM (${l3})`;
  // zm: the zone's offset in minutes, NULL when the zone text is not one.
  const l5 = `SELECT dt, hms, frac, nd, ft,
      CASE WHEN z IN ('', 'Z', 'z') THEN 0
        WHEN z GLOB '[+-]${d(2)}' THEN CAST(substr(z, 2, 2) AS INTEGER) * 60
        WHEN z GLOB '[+-]${d(2)}:${d(2)}' THEN CAST(substr(z, 2, 2) AS INTEGER) * 60 + CAST(substr(z, 5, 2) AS INTEGER)
        WHEN z GLOB '[+-]${d(4)}' THEN CAST(substr(z, 2, 2) AS INTEGER) * 60 + CAST(substr(z, 4, 2) AS INTEGER)
      END * CASE WHEN substr(z, 1, 1) = '-' THEN -1 ELSE 1 END AS zm
    FROM (${l4})`;
  // Years before 100 are refused as parseTimestamp refuses them (JavaScript's Date.UTC reads them as 19xx).
  const valid = `dt GLOB '${d(4)}-${d(2)}-${d(2)}' AND dt >= '0100' AND date(dt) = dt
      AND substr(hms, 1, 2) < '24' AND substr(hms, 4, 2) < '60' AND substr(hms, 7, 2) < '60'
      AND (ft IS NULL OR nd BETWEEN 1 AND 9) AND zm IS NOT NULL AND abs(zm) <= 1080`;
  return `(SELECT CASE WHEN ${valid}
      THEN strftime('%Y-%m-%dT%H:%M:%S', dt || ' ' || hms, (0 - zm) || ' minutes') || '.' || frac
      ELSE '${UNREADABLE_ORDER}' END
    FROM (${l5}))`;
}

/** `created_order` of a row whose `created_at` is `x`: `NULL` when canonical, else its sort key. */
function keyOf(x: string): string {
  return `CASE WHEN ${isCanonicalSql(x)} THEN NULL ELSE ${orderKeyOfSql(x)} END`;
}

/** The triggers that keep `created_order` of `table` (`messages` or `sessions`). */
export function createdOrderTriggers(table: 'messages' | 'sessions'): string[] {
  return [
    // Fires for rows the canonical test does not pass (NULL included: NOT NULL is NULL, hence the IS NULL).
    `CREATE TRIGGER ${table}_created_order_insert AFTER INSERT ON ${table}
    WHEN NEW.created_at IS NULL OR NOT ${isCanonicalSql('NEW.created_at')} BEGIN
    UPDATE ${table} SET created_order = ${orderKeyOfSql('NEW.created_at')} WHERE rowid = NEW.rowid;
END`,
    `CREATE TRIGGER ${table}_created_order_update AFTER UPDATE OF created_at ON ${table} BEGIN
    UPDATE ${table} SET created_order = ${keyOf('NEW.created_at')} WHERE rowid = NEW.rowid;
END`,
  ];
}

/**
 * Schema version 6 (`0006_timestamp_order`): `created_order` on `messages` and `sessions`, its triggers, the
 * keys of the rows already there (set through the update trigger, so that one expression computes every key),
 * and the listing indexes rebuilt on `coalesce(created_order, created_at)`: history
 * `(session_id, key, seq)`, sessions pages `(key DESC, id DESC)` and `(owner_id, key DESC, id DESC)`.
 */
export const TIMESTAMP_ORDER: readonly string[] = [
  'ALTER TABLE messages ADD COLUMN created_order TEXT',
  'ALTER TABLE sessions ADD COLUMN created_order TEXT',
  ...createdOrderTriggers('messages'),
  ...createdOrderTriggers('sessions'),
  `UPDATE messages SET created_at = created_at WHERE created_at IS NULL OR NOT ${isCanonicalSql('created_at')}`,
  `UPDATE sessions SET created_at = created_at WHERE created_at IS NULL OR NOT ${isCanonicalSql('created_at')}`,
  'DROP INDEX idx_messages_history',
  `CREATE INDEX idx_messages_history ON messages(session_id, ${orderKeySql()}, seq)`,
  'DROP INDEX idx_sessions_created',
  `CREATE INDEX idx_sessions_created ON sessions(${orderKeySql()} DESC, id DESC)`,
  'DROP INDEX idx_sessions_owner_created',
  `CREATE INDEX idx_sessions_owner_created ON sessions(owner_id, ${orderKeySql()} DESC, id DESC)`,
];
