import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { SqliteMemoryDriver, type SqliteMemoryDriverConfig } from './sqlite-driver.js';

/**
 * SQLite can roll DDL back, so migrations run inside one transaction (Kysely's `SqliteAdapter` says it
 * cannot, and would run them one statement at a time): a failed upgrade leaves the file as it was.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Kysely's SQLite dialect with {@link SqliteMemoryDriver} (cached statements, `BEGIN IMMEDIATE`, asynchronous
 * busy waits) and transactional migrations.
 */
export class SqliteMemoryDialect implements Dialect {
  readonly #config: SqliteMemoryDriverConfig;

  constructor(config: SqliteMemoryDriverConfig) {
    this.#config = config;
  }

  createDriver(): Driver {
    return new SqliteMemoryDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own dialects take any database type here
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
