import { UnsupportedCapabilityError } from '@flux-rag/memory-core';
import { snippetOf } from '@flux-rag/memory-core/backend';
import {
  type Database,
  mapErrorByPhase,
  onConflictDoNothing,
  readSchemaVersion,
  type SqlDialect,
  type SqlMetadataFilter,
  type StoredTimestamp,
} from '@flux-rag/memory-core/sql';
import type BetterSqlite3 from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { sqliteCodecs } from './sqlite-codecs.js';
import { retryWhileBusy } from './sqlite-driver.js';
import { mapSqliteError } from './sqlite-errors.js';
import { inspectFile, refuseNewerFile } from './sqlite-file-inspection.js';
import { candidateCounts, filterError, metadataContains, scanIsCheaper } from './sqlite-metadata-filter.js';
import { migrateSqlite, sqliteMigrations, sqliteSchemaCatalog } from './sqlite-migrations.js';
import { createReadOnlyViews } from './sqlite-read-only-views.js';
import { planSearch, searchError, searchQuery } from './sqlite-search.js';
import { orderKeySql } from './sqlite-timestamp-order.js';

/** What the SQLite dialect needs of its store's connection. */
export interface SqliteConnection {
  /** The query builder on that connection. */
  readonly db: Kysely<Database>;
  /** The open better-sqlite3 handle (opened on first call). */
  raw(): BetterSqlite3.Database;
  /** The file (or `:memory:`) as given. */
  readonly location: string;
  /** The configured lock wait, for the message of a busy error. */
  readonly busyTimeoutMs: number;
  /** True when the file was opened for reading only: it is inspected, never migrated. */
  readonly readOnly: boolean;
  /** What opening a file of an older schema version does (see `SqliteMemoryOptions.upgrade`). */
  readonly upgrade: 'auto' | 'refuse';
}

/**
 * How `where.metadata` is served: through the term index (`candidates`, a selective filter), or by the exact
 * check alone on sessions in listing order (a filter most sessions match, or a file without the index).
 */
interface SqliteFilterPlan {
  readonly candidates: boolean;
}

/**
 * The SQLite dialect of one store: naive-UTC text timestamps and JSON text (`sqliteCodecs`), migrations run in
 * one `BEGIN IMMEDIATE` transaction, counts kept by triggers, the canonical sort key of legacy timestamps as the
 * time order (`sqlite-timestamp-order.ts`), the metadata filter on its term index (`sqlite-metadata-filter.ts`),
 * FTS5 search (`sqlite-search.ts`) and better-sqlite3's errors (`sqlite-errors.ts`). A read-only store on a file
 * below schema version 4 lacks the term and search indexes: its filter is the exact check alone, and its search
 * an `UnsupportedCapabilityError` saying how to upgrade.
 */
export function sqliteDialect(connection: SqliteConnection): SqlDialect {
  const { db, location, busyTimeoutMs } = connection;
  /** Read-only stores: the file's schema version, once opened. */
  let fileVersion: number | undefined;
  const lacksIndexes = () => fileVersion !== undefined && fileVersion < 4;

  const metadataFilter: SqlMetadataFilter<SqliteFilterPlan> = {
    /** The term index, unless most sessions match (see `scanIsCheaper`); both ways return the same rows. */
    async plan(db, filter, window) {
      if (lacksIndexes()) return { candidates: false };
      const counts = candidateCounts(filter, window);
      if (counts === null) return { candidates: true };
      const { rows } = await counts.execute(db);
      const { candidates = 0, sessions = 0 } = rows[0] ?? {};
      return { candidates: !scanIsCheaper(Number(candidates), Number(sessions), window) };
    },
    where: (_eb, filter, plan) => metadataContains(filter, plan ?? { candidates: !lacksIndexes() }),
  };

  return {
    name: 'sqlite',
    location,
    codecs: sqliteCodecs,
    activityKeptByTriggers: true,
    // Every write transaction is `BEGIN IMMEDIATE`: it holds the file's write lock, and SQLite has no FOR UPDATE.
    rowLocks: false,
    // Legacy writers (the Python app, hand edits) may have left any text in timestamp columns.
    textTimestamps: true,
    ignoreDuplicates: onConflictDoNothing,
    // `coalesce(created_order, created_at)`: the canonical sort key of a legacy timestamp, or the canonical text
    // itself, as the listing indexes of schema version 6 hold it.
    orderKey: () => sql<StoredTimestamp>`${sql.raw(orderKeySql())}`,
    metadataFilter,
    search: {
      query(terms, request) {
        if (lacksIndexes()) {
          throw new UnsupportedCapabilityError(
            'fullTextSearch',
            `fullTextSearch needs schema version 4 or later; ${location} is at version ${fileVersion} ` +
              `and was opened read-only: upgrade it with flux-memory upgrade --url ${location}`,
          );
        }
        return searchQuery(planSearch(terms), request);
      },
      // Core's snippet rather than FTS5's snippet(): it marks unspaced-script substrings too, which FTS5's word
      // index did not match, and cuts the text the same way on every backend.
      snippet: (_row, content, terms) => snippetOf(content, terms),
    },
    mapError: mapErrorByPhase({
      filter: filterError,
      search: searchError,
      driver: (error) => mapSqliteError(error, { location, busyTimeoutMs }),
    }),
    async migrate() {
      const raw = connection.raw();
      if (!connection.readOnly) {
        // Inspected and upgraded in one transaction, so a refused or failed open leaves the file as it was.
        await migrateSqlite(db, raw, location, undefined, { upgrade: connection.upgrade });
        return;
      }
      // Read-only: the file must be a conversation memory of a version this code knows; an older one gets the
      // latest columns through `TEMP` views; then `query_only`, so that no statement can write even by mistake.
      const found = await retryWhileBusy(() => inspectFile(raw, location), busyTimeoutMs);
      refuseNewerFile(found, sqliteMigrations, location);
      if (raw.pragma('query_only', { simple: true }) === 0) createReadOnlyViews(raw, found);
      raw.pragma('query_only = ON');
      fileVersion = found.schemaVersion;
    },
    async health() {
      const raw = connection.raw();
      const { version } = raw.prepare('SELECT sqlite_version() AS version').get() as { version: string };
      return {
        serverVersion: `SQLite ${version}`,
        schemaVersion: fileVersion ?? readSchemaVersion(sqliteSchemaCatalog(raw)),
      };
    },
  };
}
