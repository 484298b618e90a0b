import { ValidationError } from '@flux-rag/memory-core';
import type { BaseMemoryOptions } from '@flux-rag/memory-core/backend';
import type { RunCompiled } from '@flux-rag/memory-core/sql';
import { Kysely, type PostgresPool } from 'kysely';
import type pg from 'pg';
import { SchemaScopedPostgresDialect } from './postgres-introspector.js';
import { openPool, type PostgresConnectionOptions } from './postgres-pool.js';
import type { ReadRouter } from './postgres-read-routing.js';
import { openReadRouter, type PostgresReplicaOptions } from './postgres-replica-options.js';
import { type PostgresStoreHealth, ReadRoutedMemory } from './postgres-routed-memory.js';
import { assertTextSearchConfig } from './postgres-search-schema.js';
import { postgresDialect } from './postgres-sql-dialect.js';
import { runInTransaction } from './postgres-transaction.js';

/** Options of {@link PostgresConversationMemory}. */
export interface PostgresMemoryOptions
  extends BaseMemoryOptions,
    PostgresConnectionOptions,
    PostgresReplicaOptions {
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

/** Schema names the store accepts: safe to quote, and not reserved by PostgreSQL (`pg_`). */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Conversation memory in PostgreSQL, through pg and Kysely. The schema (tables `sessions` and `messages`) is
 * created or upgraded on first use, safely when several processes start at once. A server that cannot be
 * reached makes calls reject with `BackendUnavailableError` (bounded by the pool's connect and query
 * timeouts); the same instance works again once the server is back. Metadata filters are JSONB containment on a
 * GIN index, search a `tsvector` GIN index (schema version 4), both kept in the writing transaction.
 */
export class PostgresConversationMemory extends ReadRoutedMemory {
  /** The schema the store's tables live in. */
  readonly schema: string;
  readonly #pool: pg.Pool;
  /** The pool as Kysely's dialect sees it: clients with an error listener, running prepared statements. */
  readonly #connections: PostgresPool;
  // biome-ignore lint/suspicious/noExplicitAny: schema setup and check() query tables outside Database
  readonly #root: Kysely<any>;
  readonly #router: ReadRouter | undefined;

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
    const router = openReadRouter(options, opened);
    // With replicas, every statement connects through the router, which picks the server.
    const connections = router?.pool ?? opened.dialectPool;
    // biome-ignore lint/suspicious/noExplicitAny: schema setup and check() query tables outside Database
    const root: Kysely<any> = new Kysely({
      dialect: new SchemaScopedPostgresDialect({ pool: connections }, schema),
    });
    const { textSearchConfig } = options;
    super({
      dialect: postgresDialect({ root, schema, location: opened.location, textSearchConfig }),
      db: root.withSchema(schema),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.schema = schema;
    this.#pool = opened.pool;
    this.#connections = connections;
    this.#router = router;
    this.#root = root;
  }

  /**
   * The pg pool the store runs on (its own, or the one passed in). A getter, not a field, so that logging the
   * store with `util.inspect` does not print the pool's settings, password included.
   */
  get pool(): pg.Pool {
    return this.#pool;
  }

  protected override get readRouter(): ReadRouter | undefined {
    return this.#router;
  }

  /** The health report; with replicas, `servers` gives each one's role, state, lag and reads served. */
  override check(): Promise<PostgresStoreHealth> {
    return super.check();
  }

  protected override writeCompiled<T>(work: (run: RunCompiled) => Promise<T>): Promise<T> {
    return runInTransaction(this.#connections, work);
  }

  protected override async _close(): Promise<void> {
    // Ends the pool only when the store created it (see openPool).
    await this.#root.destroy();
  }
}
