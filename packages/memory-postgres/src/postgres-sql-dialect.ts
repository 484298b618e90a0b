import {
  mapErrorByPhase,
  onConflictDoNothing,
  readSchemaVersion,
  type SqlDialect,
  type SqlSearch,
} from '@flux-rag/memory-core/sql';
import { type Kysely, sql } from 'kysely';
import { postgresCodecs } from './postgres-codecs.js';
import { mapPostgresError } from './postgres-errors.js';
import { filterError, metadataContains } from './postgres-metadata-filter.js';
import { migratePostgres, postgresSchemaCatalog } from './postgres-migrations.js';
import { planSearch, type SearchRow, searchError, searchQuery, snippetFor } from './postgres-search.js';
import { assertSchemaTextSearchConfig } from './postgres-search-schema.js';

/** What the PostgreSQL dialect needs of its store. */
export interface PostgresDialectOptions {
  /**
   * A query builder on the store's pool, not bound to its schema: schema setup and `check()` query tables
   * outside the shared `Database`.
   */
  // biome-ignore lint/suspicious/noExplicitAny: schema setup and check() query tables outside Database
  readonly root: Kysely<any>;
  /** The schema holding the store's tables. */
  readonly schema: string;
  /** The server, password masked, as error messages name it. */
  readonly location: string;
  /** The text-search configuration the store asks for, if any (see `PostgresMemoryOptions`). */
  readonly textSearchConfig: string | undefined;
}

/**
 * The PostgreSQL dialect of one store: `TIMESTAMPTZ` and `JSONB` (`postgresCodecs`), migrations under an
 * advisory lock (`postgres-migrations.ts`), JSONB containment on a GIN index as the metadata filter, `tsvector`
 * search with `ts_headline` snippets (`postgres-search.ts`), and pg's errors (`postgres-errors.ts`).
 */
export function postgresDialect(options: PostgresDialectOptions): SqlDialect {
  const { root, schema, location, textSearchConfig } = options;
  const search: SqlSearch<SearchRow> = {
    // The unscoped store needs no session condition: the foreign key with `ON DELETE CASCADE` leaves no
    // message without its session.
    query: (terms, request) =>
      searchQuery(planSearch(terms), {
        ...request,
        schema,
        ownedSessionIds: request.ownerScoped ? request.sessionIds : undefined,
      }),
    snippet: (row, content, terms) => snippetFor(row.headline, content, terms),
  };
  return {
    name: 'postgres',
    location: `${location} (schema ${schema})`,
    codecs: postgresCodecs,
    ignoreDuplicates: onConflictDoNothing,
    writesInWith: true,
    metadataFilter: { where: (eb, filter) => metadataContains(eb, filter) },
    search,
    mapError: mapErrorByPhase({
      filter: filterError,
      search: searchError,
      driver: (error) => mapPostgresError(error, location),
    }),
    async migrate() {
      await migratePostgres(root, { schema, location, textSearchConfig });
      if (textSearchConfig !== undefined) await assertSchemaTextSearchConfig(root, schema, textSearchConfig);
    },
    async health() {
      const version = await sql<{ server_version: string }>`SHOW server_version`.execute(root);
      return {
        serverVersion: version.rows[0]?.server_version ?? 'unknown',
        schemaVersion: await readSchemaVersion(postgresSchemaCatalog(root, schema)),
      };
    },
  };
}
