import type { ConversationMemory } from './conversation-memory.js';
import { BackendNotInstalledError, ValidationError } from './errors.js';
import { InMemoryConversationMemory } from './in-memory/in-memory-memory.js';

/** The backends `createMemory` knows. */
export type BackendName = 'sqlite' | 'postgres' | 'memory';

/** Defaults of the original settings. */
export const CONFIG_DEFAULTS = {
  backend: 'sqlite',
  sqlitePath: './data/memory.db',
  postgresDsn: 'postgresql://flux_rag:flux_rag@localhost:5432/flux_rag',
} as const satisfies { backend: BackendName; sqlitePath: string; postgresDsn: string };

/** Configuration of {@link createMemory}; each field falls back to its environment variable, then its default. */
export interface MemoryConfig {
  /** `DATABASE_BACKEND`: `sqlite` (default), `postgres`, or `memory` (not persisted). */
  backend?: BackendName;
  /**
   * `DATABASE_URL`: the SQLite file, as a path or `sqlite:///path`; default `./data/memory.db`. A
   * `postgres://` URL here selects PostgreSQL when no backend is set (see {@link resolveMemoryConfig}).
   */
  databaseUrl?: string;
  /** `POSTGRES_DSN`: default `postgresql://flux_rag:flux_rag@localhost:5432/flux_rag`. */
  postgresDsn?: string;
  /** PostgreSQL schema (`POSTGRES_SCHEMA`); default `public`. */
  schema?: string;
  /** Where variables are read from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A configuration with every choice made. */
export type ResolvedMemoryConfig =
  | { backend: 'sqlite'; filename: string }
  | { backend: 'postgres'; connectionString: string; schema: string }
  | { backend: 'memory' };

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * Applies flags, then environment, then defaults, and checks the backend name. `backend` (`DATABASE_BACKEND`)
 * chooses; without it a `postgres://` or `postgresql://` `databaseUrl` (`DATABASE_URL`) selects PostgreSQL and
 * is its location unless `postgresDsn` (`POSTGRES_DSN`) is set; anything else is SQLite. A PostgreSQL URL as
 * the SQLite location (`DATABASE_BACKEND=sqlite`) is a `ValidationError`, never a file of that name.
 */
export function resolveMemoryConfig(config: MemoryConfig = {}): ResolvedMemoryConfig {
  const env = config.env ?? process.env;
  const databaseUrl = config.databaseUrl ?? (env.DATABASE_URL || undefined);
  const urlIsPostgres = databaseUrl !== undefined && POSTGRES_URL.test(databaseUrl.trim());
  const backend =
    config.backend ??
    (env.DATABASE_BACKEND?.trim() || (urlIsPostgres ? 'postgres' : CONFIG_DEFAULTS.backend));
  switch (backend) {
    case 'sqlite':
      if (urlIsPostgres) {
        throw new ValidationError(
          'databaseUrl',
          'is a PostgreSQL URL but the backend is sqlite; set the backend to postgres or name a SQLite file',
        );
      }
      return { backend, filename: sqlitePath(databaseUrl ?? CONFIG_DEFAULTS.sqlitePath) };
    case 'postgres':
    case 'postgresql':
      return {
        backend: 'postgres',
        connectionString:
          config.postgresDsn ??
          (env.POSTGRES_DSN || (urlIsPostgres ? databaseUrl!.trim() : CONFIG_DEFAULTS.postgresDsn)),
        schema: config.schema ?? (env.POSTGRES_SCHEMA || 'public'),
      };
    case 'memory':
      return { backend };
    default:
      throw new ValidationError(
        'backend',
        `expected sqlite, postgres or memory, got ${JSON.stringify(backend)}`,
      );
  }
}

/** `sqlite:///abs/path`, `sqlite:///./rel` and `sqlite:rel` name a file; anything else is a path already. */
function sqlitePath(url: string): string {
  const match = /^sqlite:(?:\/\/)?(.*)$/i.exec(url);
  if (!match) return url;
  const rest = match[1]!;
  return rest.startsWith('/./') || rest.startsWith('/../')
    ? rest.slice(1)
    : rest || CONFIG_DEFAULTS.sqlitePath;
}

/**
 * Opens the configured store. The backend's package is imported only when it is chosen; when it is not
 * installed the error names it (`BackendNotInstalledError`). The store's schema is created on first use.
 */
export async function createMemory(config: MemoryConfig = {}): Promise<ConversationMemory> {
  const resolved = resolveMemoryConfig(config);
  switch (resolved.backend) {
    case 'memory':
      return new InMemoryConversationMemory();
    case 'sqlite': {
      const Sqlite = await importBackend('@flux-rag/memory-sqlite', 'SqliteConversationMemory');
      return new Sqlite({ filename: resolved.filename });
    }
    case 'postgres': {
      const Postgres = await importBackend('@flux-rag/memory-postgres', 'PostgresConversationMemory');
      return new Postgres({ connectionString: resolved.connectionString, schema: resolved.schema });
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the backend packages depend on this one, not the reverse
type BackendModule = Partial<Record<string, new (options: any) => ConversationMemory>>;

/**
 * Imports a backend package and returns its store class; `BackendNotInstalledError` naming the package when it
 * cannot be resolved (or lacks the class). Exported for tests; `createMemory` is the public way in.
 */
export async function importBackend(packageName: string, className: string) {
  let module: BackendModule;
  try {
    module = (await import(packageName)) as BackendModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(packageName)) {
      throw new BackendNotInstalledError(packageName, { cause: error });
    }
    throw error;
  }
  const backend = module[className];
  if (!backend) throw new BackendNotInstalledError(`${packageName} (with ${className})`);
  return backend;
}
