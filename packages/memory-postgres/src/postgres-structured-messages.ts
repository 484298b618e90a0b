import type { MigrationSet } from '@flux-rag/memory-core/sql';
import { sql } from 'kysely';

/**
 * Schema version 7 (`0007_structured_messages`), without rewriting a table or rebuilding an existing index:
 *
 * - ids of sessions, messages and owners widen to 255 characters. `VARCHAR(36) COLLATE "C"` to
 *   `VARCHAR(255) COLLATE "C"` is binary coercible with the same collation, so PostgreSQL only changes the
 *   catalog: the tables and the indexes holding these columns keep their files (`pg_class.relfilenode`, checked
 *   by the tests). Leaving the collation out would reset it to the default and rebuild every such index.
 * - `messages` gains `payload`, `format` and `digest` as nullable `TEXT` without a default, a catalog-only change.
 *   `TEXT` rather than `jsonb`: `jsonb` refuses `\u0000` in strings and reorders keys, and a payload must come
 *   back as it was given.
 * - message ids become unique per session: a unique index on `(session_id, id)` is built, then made the primary
 *   key in place of `(id)` (`ADD PRIMARY KEY USING INDEX` takes the index as it is). Nothing references
 *   `messages(id)`, so nothing else changes.
 * - `message_operations`: the result of each `operationId` of `upsertMessages` and `rewriteHistory`, keyed by
 *   session, deleted with it (`ON DELETE CASCADE`), pruned to the latest 1,000 through `(session_id, seq)`.
 */
export function structuredMessagesMigration(schema: string): MigrationSet[string] {
  const t = (table: string) => sql.id(schema, table);
  return {
    async up(db) {
      await sql`
        ALTER TABLE ${t('messages')}
          ALTER COLUMN id TYPE VARCHAR(255) COLLATE "C",
          ALTER COLUMN session_id TYPE VARCHAR(255) COLLATE "C",
          ADD COLUMN payload TEXT,
          ADD COLUMN format TEXT,
          ADD COLUMN digest TEXT
      `.execute(db);
      await sql`
        ALTER TABLE ${t('sessions')}
          ALTER COLUMN id TYPE VARCHAR(255) COLLATE "C",
          ALTER COLUMN owner_id TYPE VARCHAR(255) COLLATE "C"
      `.execute(db);
      await sql`
        CREATE UNIQUE INDEX messages_session_id_id_key ON ${t('messages')} (session_id, id)
      `.execute(db);
      // The primary key's name is PostgreSQL's default for the Python backend's `id ... PRIMARY KEY`, but read
      // rather than assumed: a database created by hand may name it otherwise.
      const { rows } = await sql<{ name: string }>`
        SELECT conname AS name FROM pg_constraint
        WHERE conrelid = ${`"${schema.replaceAll('"', '""')}".messages`}::regclass AND contype = 'p'
      `.execute(db);
      const primaryKey = rows[0]?.name;
      await sql`
        ALTER TABLE ${t('messages')}
          ${primaryKey === undefined ? sql`` : sql`DROP CONSTRAINT ${sql.id(primaryKey)},`}
          ADD CONSTRAINT messages_pkey PRIMARY KEY USING INDEX messages_session_id_id_key
      `.execute(db);
      await sql`
        CREATE TABLE ${t('message_operations')} (
          session_id VARCHAR(255) COLLATE "C" NOT NULL REFERENCES ${t('sessions')}(id) ON DELETE CASCADE,
          operation_id VARCHAR(255) COLLATE "C" NOT NULL,
          request_digest TEXT NOT NULL,
          result TEXT NOT NULL,
          seq INTEGER NOT NULL,
          PRIMARY KEY (session_id, operation_id)
        )
      `.execute(db);
      await sql`
        CREATE INDEX idx_message_operations_seq ON ${t('message_operations')} (session_id, seq)
      `.execute(db);
    },
  };
}
