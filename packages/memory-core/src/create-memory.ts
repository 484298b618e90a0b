import type { AnyBackendDescriptor } from './backend-descriptor.js';
import { type ResolvedLocation, resolveLocation, type SourcedValue } from './backend-registry.js';
import type { ConversationMemory } from './conversation-memory.js';

/**
 * Configuration of {@link createMemory}: the backends it may use, and the original settings. Each setting
 * falls back to its environment variable; blank values count as unset.
 */
export interface MemoryConfig {
  /**
   * The backends to choose from, the default first. `@flux-rag/memory` passes SQLite, PostgreSQL and
   * in-memory; pass your own list to use fewer, or a backend of your own.
   */
  backends: readonly AnyBackendDescriptor[];
  /** `DATABASE_BACKEND`: a backend's name or alias; default: the backend claiming `databaseUrl`, else the first. */
  backend?: string;
  /** `DATABASE_URL`: a connection string some backend claims (a file path, `sqlite:`, `postgresql://`, ...). */
  databaseUrl?: string;
  /**
   * Backends' own settings by their original names (`POSTGRES_DSN`, `POSTGRES_SCHEMA`); each wins over the
   * environment variable of that name.
   */
  settings?: Readonly<Record<string, string | undefined>>;
  /** Where variables are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Applies options, then environment, then defaults: the backend is `backend` (`DATABASE_BACKEND`), else the
 * one that claims `databaseUrl` (`DATABASE_URL`), else the first of `backends`; that backend then locates its
 * store from the settings, falling back to its documented default. A value nobody accepts (an unknown backend,
 * a malformed or unclaimed URL, a URL of another backend than the chosen one) is a `ValidationError` naming the
 * option, before anything is opened.
 */
export function resolveMemoryConfig(config: MemoryConfig): ResolvedLocation {
  const env = config.env ?? process.env;
  // Refusals name the option (`backend`, `databaseUrl`) whichever of option and variable gave the value.
  const from = (option: string, value: string | undefined, variable: string): SourcedValue | undefined =>
    sourced(value ?? env[variable], option);
  return resolveLocation(config.backends, {
    backend: from('backend', config.backend, 'DATABASE_BACKEND'),
    databaseUrl: from('databaseUrl', config.databaseUrl, 'DATABASE_URL'),
    setting: (name) => from(name, config.settings?.[name], name),
    useDefaults: true,
  });
}

function sourced(value: string | undefined, source: string): SourcedValue | undefined {
  return value === undefined ? undefined : { value, source };
}

/**
 * Opens the configured store (see {@link resolveMemoryConfig}) through its backend's descriptor, as an
 * application's store: created, and its schema upgraded, on first use.
 */
export async function createMemory(config: MemoryConfig): Promise<ConversationMemory> {
  const { backend, location } = resolveMemoryConfig(config);
  return backend.open(location, 'app');
}
