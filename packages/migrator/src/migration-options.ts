import { ValidationError } from '@flux-rag/memory-core';
import type { MigrationProgress } from './migration-engine.js';
import type { OnInvalid } from './row-rules.js';
import { assertSourceTimezone } from './source-timezone.js';

/**
 * Rows per batch unless told otherwise: one source page (also capped at 1 MiB), one transaction of the merge
 * path, one progress step. Measured on the benchmark (README, "Batch size"): the bulk load streams one COPY
 * whatever the batch, and its CPU time is flat from 500 to 20,000 rows; the merge path pays a commit, a probe
 * and a recount per batch, so larger batches are cheaper there, while a kill loses at most one batch. 5,000
 * rows of typical chat messages stay under the 1 MiB page bound.
 */
export const DEFAULT_BATCH_SIZE = 5000;

/** Largest content, in UTF-8 bytes, that is not flagged `content_large`: 8 MiB. */
export const DEFAULT_MAX_CONTENT_BYTES = 8 * 1024 * 1024;

/** Options shared by both directions. */
export interface MigrationOptions {
  /** The SQLite file: the source of `migrateSqliteToPostgres`, the target of `migratePostgresToSqlite`. */
  sqlitePath: string;
  /** PostgreSQL connection string (`postgres://` or `postgresql://`); never printed with its password. */
  postgresDsn: string;
  /** PostgreSQL schema holding the tables; default `public`. */
  schema?: string;
  /** Rows per batch, 1 to 50,000; default {@link DEFAULT_BATCH_SIZE}. */
  batchSize?: number;
  /** What to do with invalid rows; default `fail`. See the README for every rule. */
  onInvalid?: OnInvalid;
  /**
   * JSON Lines file receiving every invalid row with its original values. Default: under `skip` and
   * `repair`, `<sqlitePath>.rejects.jsonl`; under `fail` and in a dry run, none unless given. Created only
   * when there is an invalid row.
   */
  rejectsPath?: string;
  /** Scan, count what would be written, write nothing (not even the schema). */
  dryRun?: boolean;
  /** Compare the target with the source, write nothing. */
  verifyOnly?: boolean;
  /**
   * Zone of naive timestamps in the source: `UTC` (default, as the original code ran), a fixed offset
   * (`+02:00`) or an IANA name (`Europe/Paris`).
   */
  sourceTimezone?: string;
  /** Content larger than this many UTF-8 bytes is `content_large`; default 8 MiB. */
  maxContentBytes?: number;
  /** Called at every batch and step; for a progress bar. Must not throw. */
  onProgress?: (progress: MigrationProgress) => void;
  /**
   * Run in a worker thread whose heap is bounded (`WORKER_LIMITS`); default true. `false` runs on the
   * calling thread (progress callbacks then run between two pages, synchronously).
   */
  isolate?: boolean;
}

/** Options after validation, defaults applied. */
export interface ResolvedOptions {
  sqlitePath: string;
  postgresDsn: string;
  schema: string;
  batchSize: number;
  onInvalid: OnInvalid;
  rejectsPath: string | null;
  mode: 'migrate' | 'dry-run' | 'verify-only';
  sourceTimezone: string;
  maxContentBytes: number;
  onProgress: ((progress: MigrationProgress) => void) | undefined;
  isolate: boolean;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validates options (`ValidationError` naming the field, never echoing the DSN) and applies defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError('options', 'expected an object with sqlitePath and postgresDsn');
  }
  const o = options as MigrationOptions;
  if (typeof o.sqlitePath !== 'string' || o.sqlitePath.trim() === '') {
    throw new ValidationError('sqlitePath', 'expected the path of a SQLite file');
  }
  if (typeof o.postgresDsn !== 'string' || !/^postgres(ql)?:\/\//i.test(o.postgresDsn)) {
    throw new ValidationError('postgresDsn', 'expected a postgres:// or postgresql:// connection string');
  }
  const schema = o.schema ?? 'public';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw new ValidationError(
      'schema',
      'expected 1 to 63 letters, digits or _, not starting with a digit or pg_',
    );
  }
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) {
    throw new ValidationError('batchSize', `expected an integer from 1 to 50000, got ${String(batchSize)}`);
  }
  const onInvalid = o.onInvalid ?? 'fail';
  if (onInvalid !== 'fail' && onInvalid !== 'skip' && onInvalid !== 'repair') {
    throw new ValidationError('onInvalid', `expected fail, skip or repair, got ${JSON.stringify(onInvalid)}`);
  }
  if (o.dryRun && o.verifyOnly)
    throw new ValidationError('dryRun', 'dryRun and verifyOnly exclude each other');
  const mode = o.dryRun ? 'dry-run' : o.verifyOnly ? 'verify-only' : 'migrate';
  if (o.rejectsPath !== undefined && (typeof o.rejectsPath !== 'string' || o.rejectsPath.trim() === '')) {
    throw new ValidationError('rejectsPath', 'expected a file path');
  }
  const rejectsPath =
    o.rejectsPath ?? (onInvalid !== 'fail' && mode === 'migrate' ? `${o.sqlitePath}.rejects.jsonl` : null);
  const sourceTimezone = o.sourceTimezone ?? 'UTC';
  assertSourceTimezone('sourceTimezone', sourceTimezone);
  const maxContentBytes = o.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
  if (typeof maxContentBytes !== 'number' || !Number.isInteger(maxContentBytes) || maxContentBytes < 1) {
    throw new ValidationError('maxContentBytes', 'expected a positive integer');
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new ValidationError('onProgress', 'expected a function');
  }
  return {
    sqlitePath: o.sqlitePath,
    postgresDsn: o.postgresDsn,
    schema,
    batchSize,
    onInvalid,
    rejectsPath,
    mode,
    sourceTimezone,
    maxContentBytes,
    onProgress: o.onProgress,
    isolate: o.isolate !== false,
  };
}
