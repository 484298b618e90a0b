import type { MemoryCapabilities, Metadata, SearchHit } from '@flux-rag/memory-core';
import { type MemoryError, type StoreHealth, ValidationError } from '@flux-rag/memory-core';
import type { BaseMemoryOptions, Scope, SearchRequest, SearchTerm } from '@flux-rag/memory-core/backend';
import {
  type Database,
  type RunCompiled,
  readSchemaVersion,
  SqlConversationMemory,
  toMessage,
} from '@flux-rag/memory-core/sql';
import {
  type Expression,
  type ExpressionBuilder,
  Kysely,
  type PostgresPool,
  type SqlBool,
  sql,
} from 'kysely';
import type pg from 'pg';
import { postgresCodecs } from './postgres-codecs.js';
import { mapPostgresError } from './postgres-errors.js';
import { SchemaScopedPostgresDialect } from './postgres-introspector.js';
import { filterError, metadataContains } from './postgres-metadata-filter.js';
import { migratePostgres, postgresSchemaCatalog } from './postgres-migrations.js';
import { openPool, type PostgresConnectionOptions } from './postgres-pool.js';
import { planSearch, searchError, searchQuery, snippetFor } from './postgres-search.js';
import { assertSchemaTextSearchConfig, assertTextSearchConfig } from './postgres-search-schema.js';
import { runInTransaction } from './postgres-transaction.js';

/** Options of {@link PostgresConversationMemory}. */
export interface PostgresMemoryOptions extends BaseMemoryOptions, PostgresConnectionOptions {
  /**
   * Schema holding the store's tables (and its migration bookkeeping), created when missing; default
   * `public`. Stores with different schemas in one database are fully separate. Letters, digits and `_`,
   * not starting with a digit or `pg_`, at most 63 characters.
   */
  schema?: string;
  /**
   * Text-search configuration of `searchMessages` (`simple`, `english`, `russian`, a schema-qualified custom
   * one, ...). The search index is built with it when the store creates the schema (or upgrades it to
   * version 4), and keeps it: a store opened on an existing schema uses the schema's configuration, and one
   * that asks for another gets a `ValidationError` on first use. Default: `simple` for a new schema (no
   * stemming, no stop words), the schema's own otherwise.
   */
  textSearchConfig?: string;
}

const CAPABILITIES: MemoryCapabilities = Object.freeze({
  metadataFilter: true,
  fullTextSearch: true,
  // Contract 1.1: payload, format and digest are columns of schema version 7.
  structuredMessages: true,
  // Contract 1.1: declared by the branch that implements them on the SQL layer.
  historyEditing: false,
  sessionUpdates: false,
  retention: false,
});

/** Schema names the store accepts: safe to quote, and not reserved by PostgreSQL (`pg_`). */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Conversation memory in PostgreSQL, through pg and Kysely. The schema (tables `sessions` and `messages`) is
 * created or upgraded on first use, safely when several processes start at once. A server that cannot be
 * reached makes calls reject with `BackendUnavailableError` (bounded by the pool's connect and query
 * timeouts); the same instance works again once the server is back. Metadata filters are JSONB containment on a
 * GIN index, search a `tsvector` GIN index (schema version 4), both kept in the writing transaction.
 */
export class PostgresConversationMemory extends SqlConversationMemory {
  /** The schema the store's tables live in. */
  readonly schema: string;
  readonly #pool: pg.Pool;
  /** The pool as Kysely's dialect sees it: clients with an error listener, running prepared statements. */
  readonly #connections: PostgresPool;
  // biome-ignore lint/suspicious/noExplicitAny: schema setup and check() query tables outside Database
  readonly #root: Kysely<any>;
  readonly #location: string;
  readonly #textSearchConfig: string | undefined;

  /** Validates the options (`ValidationError` naming the field) and prepares the pool; connects on first use. */
  constructor(options: PostgresMemoryOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('options', 'expected an object with connectionString or pool');
    }
    const schema: unknown = options.schema === undefined ? 'public' : options.schema;
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
      throw new ValidationError(
        'schema',
        'expected 1 to 63 letters, digits or _, not starting with a digit or pg_',
      );
    }
    assertTextSearchConfig(options.textSearchConfig);
    const opened = openPool(options);
    // biome-ignore lint/suspicious/noExplicitAny: schema setup and check() query tables outside Database
    const root: Kysely<any> = new Kysely({
      dialect: new SchemaScopedPostgresDialect({ pool: opened.dialectPool }, schema),
    });
    super({
      codecs: postgresCodecs,
      db: root.withSchema(schema),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.#textSearchConfig = options.textSearchConfig;
    this.schema = schema;
    this.#pool = opened.pool;
    this.#connections = opened.dialectPool;
    this.#location = opened.location;
    this.#root = root;
  }

  /**
   * The pg pool the store runs on (its own, or the one passed in). A getter, not a field, so that logging the
   * store with `util.inspect` does not print the pool's settings, password included.
   */
  get pool(): pg.Pool {
    return this.#pool;
  }

  /** Both optional capabilities: `where.metadata` filters (JSONB `@>`) and `searchMessages` (`tsvector`). */
  override get capabilities(): MemoryCapabilities {
    return CAPABILITIES;
  }

  protected override async _init(): Promise<void> {
    const textSearchConfig = this.#textSearchConfig;
    await migratePostgres(this.#root, { schema: this.schema, location: this.#location, textSearchConfig });
    if (textSearchConfig !== undefined) {
      await assertSchemaTextSearchConfig(this.#root, this.schema, textSearchConfig);
    }
  }

  protected override writeCompiled<T>(work: (run: RunCompiled) => Promise<T>): Promise<T> {
    return runInTransaction(this.#connections, work);
  }

  protected override metadataFilter(
    eb: ExpressionBuilder<Database, 'sessions'>,
    filter: Metadata,
  ): Expression<SqlBool> {
    return metadataContains(eb, filter);
  }

  protected override metadataFilterError(error: unknown): unknown {
    return filterError(error);
  }

  protected override async _searchMessages(
    terms: readonly SearchTerm[],
    request: SearchRequest,
    scope: Scope,
  ): Promise<SearchHit[]> {
    const query = searchQuery(planSearch(terms), {
      ...request,
      schema: this.schema,
      ownedSessionIds: scope.ownerId === null ? undefined : this.sessionsIn(this.db, scope).select('id'),
    });
    let rows: Awaited<ReturnType<typeof query.execute>>['rows'];
    try {
      ({ rows } = await query.execute(this.db));
    } catch (error) {
      throw searchError(error);
    }
    return rows.map((row) => {
      const message = toMessage(row, this.codecs);
      return { message, rank: Number(row.score), snippet: snippetFor(row.headline, message.content, terms) };
    });
  }

  protected override _mapError(error: unknown): MemoryError {
    return mapPostgresError(error, this.#location);
  }

  protected override async _check(scope: Scope): Promise<StoreHealth> {
    const version = await sql<{ server_version: string }>`SHOW server_version`.execute(this.#root);
    const schemaVersion = await readSchemaVersion(postgresSchemaCatalog(this.#root, this.schema));
    const counts = await this.countRows(scope);
    return {
      ...this._describeLocation(),
      reachable: true,
      serverVersion: version.rows[0]?.server_version ?? 'unknown',
      schemaVersion,
      ...counts,
    };
  }

  protected override _describeLocation(): { backend: string; location: string } {
    return { backend: 'postgres', location: `${this.#location} (schema ${this.schema})` };
  }

  protected override async _close(): Promise<void> {
    // Ends the pool only when the store created it (see openPool).
    await this.#root.destroy();
  }
}
