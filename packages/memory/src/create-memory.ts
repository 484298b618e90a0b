import {
  type ConversationMemory,
  createMemory as createFromBackends,
  resolveMemoryConfig as resolveFromBackends,
} from '@flux-rag/memory-core';
import type { AnyBackendDescriptor, ResolvedLocation } from '@flux-rag/memory-core/backend';
import { DEFAULT_BACKENDS } from './default-backends.js';

/**
 * Configuration of {@link createMemory}, the original settings; each falls back to its environment variable,
 * then its default. Blank values count as unset.
 */
export interface MemoryConfig {
  /** `DATABASE_BACKEND`: `sqlite` (default), `postgres` (or `postgresql`), or `memory` (not persisted). */
  backend?: string;
  /**
   * `DATABASE_URL`: the SQLite file, as a path, `sqlite:///path` or `file:` URL; default `./data/memory.db`. A
   * PostgreSQL DSN here (`postgresql://` URL or libpq `host=... dbname=...`) selects PostgreSQL when no backend
   * is set.
   */
  databaseUrl?: string;
  /** `POSTGRES_DSN`: default `postgresql://flux_rag:flux_rag@localhost:5432/flux_rag`. */
  postgresDsn?: string;
  /** PostgreSQL schema (`POSTGRES_SCHEMA`); default `public`. */
  schema?: string;
  /** Where variables are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The backends to choose from, the default first; default {@link DEFAULT_BACKENDS}. */
  backends?: readonly AnyBackendDescriptor[];
}

function coreConfig(config: MemoryConfig) {
  return {
    backends: config.backends ?? DEFAULT_BACKENDS,
    ...(config.backend === undefined ? {} : { backend: config.backend }),
    ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
    settings: { POSTGRES_DSN: config.postgresDsn, POSTGRES_SCHEMA: config.schema },
    ...(config.env === undefined ? {} : { env: config.env }),
  };
}

/**
 * The chosen backend and its location, every choice made, nothing opened: `backend` (`DATABASE_BACKEND`)
 * chooses; without it a PostgreSQL `databaseUrl` (`DATABASE_URL`) selects PostgreSQL and is its location
 * unless `postgresDsn` (`POSTGRES_DSN`) is set; anything else is SQLite. Every connection string is parsed
 * strictly: a malformed one, an unknown scheme, or a PostgreSQL URL as the SQLite location
 * (`DATABASE_BACKEND=sqlite`) is a `ValidationError` naming the option, never a file of that name.
 */
export function resolveMemoryConfig(config: MemoryConfig = {}): ResolvedLocation {
  return resolveFromBackends(coreConfig(config));
}

/**
 * Opens the configured store (see {@link resolveMemoryConfig}); its schema is created, or upgraded, on first
 * use. `createMemory()` with no argument reads the environment: SQLite at `./data/memory.db` unless it says
 * otherwise.
 */
export function createMemory(config: MemoryConfig = {}): Promise<ConversationMemory> {
  return createFromBackends(coreConfig(config));
}
