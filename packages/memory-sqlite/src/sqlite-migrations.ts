import { SchemaUpgradeRequiredError } from '@flux-rag/memory-core';
import {
  latestSchemaVersion,
  MIGRATION_TABLE,
  type MigrationSet,
  migrateToLatest,
  type SchemaCatalog,
} from '@flux-rag/memory-core/sql';
import type Database from 'better-sqlite3';
import {
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  sql,
  type UnknownRow,
} from 'kysely';
import { ORIGINAL_SCHEMA } from './original-schema.js';
import { inspectFile, refuseNewerFile } from './sqlite-file-inspection.js';
import { sharedWritersUp } from './sqlite-migration-shared-writers.js';
import { structuredMessagesStatements } from './sqlite-structured-messages.js';
import { TIMESTAMP_ORDER } from './sqlite-timestamp-order.js';

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

/**
 * Characters that are neither letters, numbers nor marks (core's word characters) but that FTS5's `unicode61`
 * tokenizer would take as part of a word: its tables are Unicode 6.1, and it treats any code point they lack as
 * a word character. Most are symbols and emoji added since (🙂 U+1F642, 🤖), which would otherwise glue to the
 * words around them (`thanks🙂` would be one word, and `thanks` would not find it). They are given to FTS5 as
 * `separators`. Computed by probing FTS5 with every character of Unicode 17.0 (Node 20.20's); private-use
 * characters are left out (they stay word characters), and so are unassigned code points. Hexadecimal code
 * points and ranges.
 */
const FTS5_EXTRA_SEPARATORS =
  '58d-58e 605 61c-61d 7fe-7ff 888 890-891 8e2 9fd a76 c77 c84 d4f 1b4e-1b4f 1b7d-1b7f 2066-2069 20ba-20c1 ' +
  '218a-218b 23f4-23ff 2427-2429 2700 2b4d-2b4f 2b5a-2b73 2b76-2bff 2e3c-2e5d 2ffc-2fff 31e4-31e5 31ef ' +
  '32ff a8fc ab5b ab6a-ab6b fbc2-fbd2 fd40-fd4f fd90-fd91 fdc8-fdcf fdfe-fdff 1018c-1018e 1019c 101a0 ' +
  '1056f 10877-10878 10ac8 10af0-10af6 10b99-10b9c 10d6e 10d8e-10d8f 10ead 10ed0-10ed8 10f55-10f59 ' +
  '10f86-10f89 110cd 11174-11175 111cd 111db 111dd-111df 11238-1123d 112a9 113d4-113d5 113d7-113d8 ' +
  '1144b-1144f 1145a-1145b 1145d 114c6 115c1-115d7 11641-11643 11660-1166c 116b9 1173c-1173f 1183b ' +
  '11944-11946 119e2 11a3f-11a46 11a9a-11a9c 11a9e-11aa2 11b00-11b09 11be1 11c41-11c45 11c70-11c71 ' +
  '11ef7-11ef8 11f43-11f4f 11fd5-11ff1 11fff 12474 12ff1-12ff2 13430-1343f 16a6e-16a6f 16af5 16b37-16b3f ' +
  '16b44-16b45 16d6d-16d6f 16e97-16e9a 16fe2 1bc9c 1bc9f-1bca3 1cc00-1ccef 1ccfa-1ccfc 1cd00-1ceb3 ' +
  '1ceba-1ced0 1cee0-1cef0 1cf50-1cfc3 1d1de-1d1ea 1d800-1d9ff 1da37-1da3a 1da6d-1da74 1da76-1da83 ' +
  '1da85-1da8b 1e14f 1e2ff 1e5ff 1e95e-1e95f 1ecac 1ecb0 1ed2e 1f0bf 1f0e0-1f0f5 1f10d-1f10f 1f12f ' +
  '1f16c-1f16f 1f19b-1f1ad 1f23b 1f260-1f265 1f321-1f32f 1f336 1f37d-1f37f 1f394-1f39f 1f3c5 1f3cb-1f3df ' +
  '1f3f1-1f3ff 1f43f 1f441 1f4f8 1f4fd-1f4ff 1f53e-1f53f 1f544-1f54f 1f568-1f5fa 1f641-1f644 1f650-1f67f ' +
  '1f6c6-1f6d8 1f6dc-1f6ec 1f6f0-1f6fc 1f774-1f7d9 1f7e0-1f7eb 1f7f0 1f800-1f80b 1f810-1f847 1f850-1f859 ' +
  '1f860-1f887 1f890-1f8ad 1f8b0-1f8bb 1f8c0-1f8c1 1f8d0-1f8d8 1f900-1fa57 1fa60-1fa6d 1fa70-1fa7c ' +
  '1fa80-1fa8a 1fa8e-1fac6 1fac8 1facd-1fadc 1fadf-1faea 1faef-1faf8 1fb00-1fb92 1fb94-1fbef 1fbfa';

const extraSeparators = FTS5_EXTRA_SEPARATORS.split(' ')
  .flatMap((range) => {
    const [first = 0, last = first] = range.split('-').map((hex) => Number.parseInt(hex, 16));
    return Array.from({ length: last - first + 1 }, (_, i) => String.fromCodePoint(first + i));
  })
  .join('');

/** The tokenizer of `messages_fts`: words as core's search syntax defines them, case folded, accents kept. */
export const WORD_TOKENIZER = `unicode61 remove_diacritics 0 categories 'L* N* M*' separators '${extraSeparators}'`;

/** Whether a message's content goes into the trigram index: it holds a character of an unspaced script. */
const inTrigramIndex = (content: string) => `${content} GLOB '*${UNSPACED_GLOB_CLASS}*'`;

/**
 * The two FTS5 tables of `searchMessages` and the triggers that keep them, as version 4 creates them (and
 * version 5 recreates them in files an earlier 4 wrote). Both are contentless (`content = ''`: the text stays in
 * `messages` only) **without** `contentless_delete`, which needs SQLite 3.43: every SQLite client that writes
 * `messages` runs these triggers with its own SQLite, and the Python app's `sqlite3` may be 3.37. A contentless
 * table forgets a row through FTS5's `'delete'` command, given the values it indexed: `OLD.content`, which is
 * what was indexed, since every change of `content` goes through `messages_fts_update`.
 */
export const SEARCH_INDEX_TABLES: readonly string[] = [
  `CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = '', tokenize = "${WORD_TOKENIZER}"
)`,
  `CREATE VIRTUAL TABLE messages_fts_trigram USING fts5(
    content, content = '', tokenize = 'trigram case_sensitive 0'
)`,
];

/**
 * The triggers of {@link SEARCH_INDEX_TABLES} on `messages`; version 7, which rebuilds `messages` (and so loses
 * its triggers), creates them again.
 */
export const SEARCH_INDEX_TRIGGERS: readonly string[] = [
  `CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.seq, NEW.content);
    INSERT INTO messages_fts_trigram (rowid, content)
      SELECT NEW.seq, NEW.content WHERE ${inTrigramIndex('NEW.content')};
END`,
  `CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', OLD.seq, OLD.content);
    INSERT INTO messages_fts_trigram (messages_fts_trigram, rowid, content)
      SELECT 'delete', OLD.seq, OLD.content WHERE ${inTrigramIndex('OLD.content')};
END`,
  `CREATE TRIGGER messages_fts_update AFTER UPDATE OF seq, content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', OLD.seq, OLD.content);
    INSERT INTO messages_fts_trigram (messages_fts_trigram, rowid, content)
      SELECT 'delete', OLD.seq, OLD.content WHERE ${inTrigramIndex('OLD.content')};
    INSERT INTO messages_fts (rowid, content) VALUES (NEW.seq, NEW.content);
    INSERT INTO messages_fts_trigram (rowid, content)
      SELECT NEW.seq, NEW.content WHERE ${inTrigramIndex('NEW.content')};
END`,
];

/** Indexes the messages already stored, after {@link SEARCH_INDEX_TABLES}. */
export const INDEX_EXISTING_MESSAGES: readonly string[] = [
  'INSERT INTO messages_fts (rowid, content) SELECT seq, content FROM messages',
  `INSERT INTO messages_fts_trigram (rowid, content)
    SELECT seq, content FROM messages WHERE ${inTrigramIndex('content')}`,
];

/**
 * Version 4: what `where.metadata`, `searchMessages` and `getSessionsPage` read.
 *
 * - `session_metadata_terms`: one row per distinct (key, typed value) of each session's metadata, kept by
 *   triggers. A filter looks up a few of its own terms in it to find candidate sessions, then checks
 *   containment exactly on those (see `sqlite-metadata-filter.ts`). Triggers hold no `WITH`, which SQLite
 *   documents as unsupported inside triggers.
 * - `messages_fts`: FTS5 over `messages.content`, rowid = `messages.seq`, words as core's search syntax defines
 *   them (letters, numbers and marks; case folded, accents kept). `messages_fts_trigram`: FTS5 trigram index of
 *   the messages written in an unspaced script, where search matches substrings (see {@link SEARCH_INDEX_TABLES});
 *   triggers on `messages` keep them in the writing transaction; existing rows are indexed here.
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
  ...SEARCH_INDEX_TABLES,
  ...SEARCH_INDEX_TRIGGERS,
  ...INDEX_EXISTING_MESSAGES,
  'CREATE INDEX idx_sessions_created ON sessions(created_at DESC, id DESC)',
  'CREATE INDEX idx_sessions_owner_created ON sessions(owner_id, created_at DESC, id DESC)',
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
export async function run(db: Kysely<any>, statements: readonly string[]): Promise<void> {
  for (const statement of statements) {
    // A turn of the event loop between two statements: a SIGINT handler (flux-memory upgrade) can then abort
    // the upgrade, which every promise chained in microtasks alone would delay until the whole upgrade ran.
    await new Promise((resolve) => setImmediate(resolve));
    await sql.raw(statement).execute(db);
  }
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
  '0005_shared_writers': { up: (db) => sharedWritersUp(db) },
  '0006_timestamp_order': { up: (db) => run(db, TIMESTAMP_ORDER) },
  '0007_structured_messages': { up: (db) => run(db, structuredMessagesStatements()) },
};

/** Options of {@link migrateSqlite}. */
export interface MigrateSqliteOptions {
  /**
   * `'auto'` (default) upgrades an older file; `'refuse'` throws `SchemaUpgradeRequiredError` naming the
   * versions instead, writing nothing. A file without tables (a new store) gets the schema either way.
   */
  upgrade?: 'auto' | 'refuse';
  /** Aborting it stops the upgrade before its next statement and rolls the whole upgrade back. */
  signal?: AbortSignal;
  /** Called before each migration with its name and whether it is the last. */
  onMigration?: (name: string) => void;
}

/**
 * Brings the file to the latest schema version in one `BEGIN IMMEDIATE` transaction, Kysely's bookkeeping
 * tables included: a failure or an abort leaves the file exactly as it was, and another process opening it at
 * the same time waits, then finds it done. Inside that transaction, before any write, the file is inspected
 * (`inspectFile`): anything but an empty file or a conversation memory is refused with
 * `NotConversationMemoryError`, a file of a newer version with `SchemaVersionError`, an older one under
 * `upgrade: 'refuse'` with `SchemaUpgradeRequiredError`. Foreign keys are turned off around it, because
 * rebuilding `messages` must neither cascade nor check legacy orphans, and `PRAGMA foreign_keys` is ignored
 * inside a transaction. The journal mode is not touched here. Returns the version the file is at.
 */
export async function migrateSqlite(
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
  db: Kysely<any>,
  raw: Database.Database,
  location: string,
  migrations: MigrationSet = sqliteMigrations,
  options: MigrateSqliteOptions = {},
): Promise<number> {
  const latest = latestSchemaVersion(migrations);
  const { signal, upgrade = 'auto', onMigration } = options;
  raw.pragma('foreign_keys = OFF');
  try {
    return await db.transaction().execute(async (trx) => {
      const found = inspectFile(raw, location);
      refuseNewerFile(found, migrations, location);
      if (found.schemaVersion === latest) return latest;
      if (!found.empty && upgrade === 'refuse') {
        throw new SchemaUpgradeRequiredError(
          `${location} has schema version ${found.schemaVersion}; this library needs ${latest} and was told ` +
            `not to upgrade it: run flux-memory upgrade --url ${location}`,
          found.schemaVersion,
          latest,
        );
      }
      signal?.throwIfAborted();
      const watched = signal || onMigration ? watch(migrations, trx, signal, onMigration) : migrations;
      return migrateToLatest(trx, watched, { location });
    });
  } finally {
    raw.pragma('foreign_keys = ON');
  }
}

/**
 * The migrations, each run on `trx` with a plugin that checks `signal` before every statement (so that an
 * abort takes effect between two statements and rolls the transaction back), announced to `onMigration`.
 */
function watch(
  migrations: MigrationSet,
  // biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed tables exist
  trx: Kysely<any>,
  signal: AbortSignal | undefined,
  onMigration: ((name: string) => void) | undefined,
): MigrationSet {
  const checked = signal ? trx.withPlugin(new AbortBetweenStatements(signal)) : trx;
  return Object.fromEntries(
    Object.entries(migrations).map(([name, migration]) => [
      name,
      {
        up: async () => {
          onMigration?.(name);
          await migration.up(checked);
        },
      },
    ]),
  );
}

/** A Kysely plugin that throws the signal's reason before a statement runs once the signal is aborted. */
class AbortBetweenStatements implements KyselyPlugin {
  readonly #signal: AbortSignal;
  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.#signal.throwIfAborted();
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * What core's `readSchemaVersion` reads of a SQLite file (its main database), synchronously:
 * `readSchemaVersion(sqliteSchemaCatalog(raw))` is the highest migration applied, 1 for a legacy file, 0 for an
 * empty one.
 */
export function sqliteSchemaCatalog(raw: Database.Database): SchemaCatalog<true> {
  return {
    hasTable: (name) =>
      raw.prepare("SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
      undefined,
    recordedMigrations: () =>
      raw.prepare(`SELECT name FROM main.${MIGRATION_TABLE}`).pluck().all() as string[],
  };
}

/** The schema version this code brings a file to: the number of its last migration. */
export const SQLITE_SCHEMA_VERSION = latestSchemaVersion(sqliteMigrations);
