import { ValidationError } from '@flux-rag/memory-core';
import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';
import { separatorPattern } from './postgres-word-separators.js';

/** The text-search configuration of a new schema: no stemming, no stop words, every word indexed as written. */
export const DEFAULT_TEXT_SEARCH_CONFIG = 'simple';

/**
 * Characters of a message indexed for word search. A `tsvector` holds at most 1 MB of distinct lexemes and
 * PostgreSQL refuses to build a bigger one, which would make the insert itself fail; 100,000 characters are at
 * most 400 KB of UTF-8, whatever the script.
 */
export const SEARCH_TEXT_LENGTH = 100_000;

/** A configuration name, optionally schema-qualified: unquoted identifiers only, so it can never inject SQL. */
const CONFIG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/** Validates the `textSearchConfig` option; `ValidationError` naming it otherwise. */
export function assertTextSearchConfig(value: unknown): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || !CONFIG_NAME.test(value)) {
    throw new ValidationError(
      'textSearchConfig',
      'expected the name of a text search configuration (letters, digits and _, optionally schema.name)',
    );
  }
}

// biome-ignore lint/suspicious/noExplicitAny: reads the catalogs and the schema's own functions
type AnyDb = Kysely<any>;

/**
 * The configuration `name` resolves to, schema-qualified and quoted as an identifier (`pg_catalog.simple`), so
 * that SQL written with it means the same configuration whatever the connection's `search_path`.
 * `ValidationError` on `textSearchConfig` when the database has no such configuration.
 */
export async function resolveTextSearchConfig(db: AnyDb, name: string): Promise<string> {
  try {
    const { rows } = await sql<{ name: string }>`
      SELECT quote_ident(n.nspname) || '.' || quote_ident(c.cfgname) AS name
      FROM pg_catalog.pg_ts_config AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.cfgnamespace
      WHERE c.oid = ${name}::regconfig
    `.execute(db);
    return rows[0]!.name;
  } catch (error) {
    throw unknownConfig(error, name);
  }
}

/**
 * Checks that a store asking for `name` opens a schema whose search index was built with that configuration
 * (the index fixes it: searching with another would match other lexemes and could not use the index).
 * `ValidationError` on `textSearchConfig` otherwise, or when the database has no such configuration.
 */
export async function assertSchemaTextSearchConfig(db: AnyDb, schema: string, name: string): Promise<void> {
  const config = sql`${sql.id(schema, 'search_config')}()`;
  let row: { same: boolean; used: string } | undefined;
  try {
    const result = await sql<{ same: boolean; used: string }>`
      SELECT ${config} = ${name}::regconfig AS same, ${config}::text AS used
    `.execute(db);
    row = result.rows[0];
  } catch (error) {
    throw unknownConfig(error, name);
  }
  if (row && !row.same) {
    throw new ValidationError(
      'textSearchConfig',
      `schema "${schema}" is indexed with the text search configuration ${row.used}, not ${name}: open it ` +
        'with that one (or without textSearchConfig), or copy the data to a new schema opened with ' +
        `${name} (exportRecords / importRecords)`,
    );
  }
}

/** PostgreSQL's "text search configuration ... does not exist" (undefined_object) as a ValidationError. */
function unknownConfig(error: unknown, name: string): unknown {
  if ((error as { code?: unknown } | null)?.code !== '42704') return error;
  return new ValidationError('textSearchConfig', `the database has no text search configuration ${name}`, {
    cause: error,
  });
}

/** SQL text of a string constant that reads the same whatever `standard_conforming_strings` says. */
const escapeString = (text: string) => `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/**
 * Schema version 4 on PostgreSQL: what `where.metadata`, `searchMessages` and `getSessionsPage` read.
 *
 * - `search_config()`: the text-search configuration the schema is indexed with, `textSearchConfig` of the store
 *   that ran this migration (default `simple`); every search query reads it from there.
 * - `message_search_vector(content)`: the `tsvector` of a message. Everything that is not a letter, number or
 *   combining mark becomes a space before PostgreSQL's parser reads the text, so words are what core's search
 *   syntax calls words in every locale: the parser alone keeps `foo@bar.com`, `x86_64`, `24.5` and
 *   `/usr/bin` whole, skips `<tags>`, and under `LC_CTYPE=C` reads `Tokyo、Japan` or `«Привет»` as one word.
 *   Only the first {@link SEARCH_TEXT_LENGTH} characters are indexed. A SQL function, inlined by the planner,
 *   so that queries name the same expression as the index without repeating it.
 * - `idx_messages_search`: GIN over that expression. An expression index rather than a stored generated column:
 *   rows keep their shape (`getHistory` and exports read no extra column, and no stored copy of every message's
 *   lexemes doubles the table), and this migration builds an index instead of rewriting `messages` under an
 *   exclusive lock. The cost is at search time: ranking recomputes the `tsvector` of every match.
 * - `idx_sessions_metadata`: GIN (`jsonb_path_ops`) over `sessions.metadata`, for `metadata @> filter`.
 * - `idx_sessions_created` and `idx_sessions_owner_created`: `getSessionsPage`'s order, `(created_at DESC, id
 *   DESC)`, unscoped and per owner.
 *
 * Indexes are maintained by PostgreSQL in the writing transaction, and built here for the rows already there.
 */
export function searchAndFiltersMigration(schema: string, textSearchConfig: string): Migration {
  const t = (name: string) => sql.id(schema, name);
  return {
    async up(db) {
      const config = await resolveTextSearchConfig(db, textSearchConfig);
      // Function bodies cannot take parameters: the configuration is a catalog name quoted by quote_ident, the
      // pattern generated from fixed ranges; both are written as escaped string constants.
      await sql`
        CREATE FUNCTION ${t('search_config')}() RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS ${sql.raw(escapeString(`SELECT ${escapeString(config)}::regconfig`))}
      `.execute(db);
      const body =
        `SELECT pg_catalog.to_tsvector(${escapeString(config)}::regconfig, pg_catalog.regexp_replace(` +
        `pg_catalog.left(content, ${SEARCH_TEXT_LENGTH}), ${escapeString(separatorPattern())}, ' ', 'g'))`;
      await sql`
        CREATE FUNCTION ${t('message_search_vector')}(content text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS ${sql.raw(escapeString(body))}
      `.execute(db);
      await sql`
        CREATE INDEX idx_messages_search ON ${t('messages')}
        USING gin (${t('message_search_vector')}(content))
      `.execute(db);
      await sql`
        CREATE INDEX idx_sessions_metadata ON ${t('sessions')} USING gin (metadata jsonb_path_ops)
      `.execute(db);
      await sql`CREATE INDEX idx_sessions_created ON ${t('sessions')} (created_at DESC, id DESC)`.execute(db);
      await sql`
        CREATE INDEX idx_sessions_owner_created ON ${t('sessions')} (owner_id, created_at DESC, id DESC)
      `.execute(db);
    },
  };
}
