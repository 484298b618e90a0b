import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import {
  type BackendName,
  type MemoryConfig,
  MemoryError,
  maskSecrets,
  type ResolvedMemoryConfig,
  resolveMemoryConfig,
} from '@flux-rag/memory-core';
import { UsageError } from './cli-error.js';

/** The connection flags every data command takes. */
export interface ConnectionFlags {
  /** `--backend`: `sqlite`, `postgres` (or `postgresql`), `memory`. */
  backend?: string;
  /** `--url`: a SQLite path or `sqlite:` URL, or a PostgreSQL DSN, depending on the backend. */
  url?: string;
  /** `--schema`: the PostgreSQL schema. */
  schema?: string;
  /** `--dotenv`: the dotenv file to read instead of `./.env`. */
  dotenv?: string;
}

/** The backends `--backend` accepts. */
export const BACKEND_CHOICES = ['sqlite', 'postgres', 'postgresql', 'memory'] as const;

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * Reads the dotenv file (`--dotenv`, else `.env` in `cwd` when there is one) into `env` without overriding
 * a variable that is already set, as `process.loadEnvFile` does; returns the file read, or `null`.
 * A missing `--dotenv` is a usage error; a missing default `.env` is not.
 */
export function loadDotenv(
  flags: Pick<ConnectionFlags, 'dotenv'>,
  cwd: string,
  env: Record<string, string | undefined>,
): string | null {
  const path = resolve(cwd, flags.dotenv ?? '.env');
  if (!existsSync(path)) {
    if (flags.dotenv !== undefined) throw new UsageError(`--dotenv ${flags.dotenv}: no such file`);
    return null;
  }
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`, 'CONFIG_INVALID');
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (env[key] === undefined) env[key] = value;
  }
  return path;
}

/**
 * Chooses the backend and its location: flags, then `env` (which already holds the dotenv file's values under
 * the real environment's), then core's defaults, through core's `resolveMemoryConfig`.
 *
 * `--url` alone also chooses the backend by its form: `postgres://` or `postgresql://` means PostgreSQL, any
 * other value a SQLite file; a flag outranks `DATABASE_BACKEND`, so the URL's backend wins over it.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedMemoryConfig {
  let backend = flags.backend?.trim().toLowerCase();
  if (backend === 'postgresql') backend = 'postgres';
  if (backend === undefined && flags.url !== undefined) {
    backend = POSTGRES_URL.test(flags.url) ? 'postgres' : 'sqlite';
  }
  if (backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend ${flags.backend}: expected sqlite, postgres or memory`);
  }
  if (backend === 'sqlite' && flags.url !== undefined && POSTGRES_URL.test(flags.url)) {
    throw new UsageError('--url is a PostgreSQL DSN but the backend is sqlite; use --backend postgres');
  }
  if (backend === 'memory' && flags.url !== undefined) {
    throw new UsageError('--url has no meaning with --backend memory (nothing is stored)');
  }
  const config: MemoryConfig = { env };
  if (backend !== undefined) config.backend = backend as BackendName;
  if (flags.schema !== undefined) config.schema = flags.schema;
  if (flags.url !== undefined) {
    if (backend === 'postgres') config.postgresDsn = flags.url;
    else config.databaseUrl = flags.url;
  }
  try {
    return resolveMemoryConfig(config);
  } catch (error) {
    // Only the environment can still hold a bad backend name: the flag was checked above.
    if (MemoryError.isInstance(error)) {
      throw new UsageError(
        `DATABASE_BACKEND=${JSON.stringify(env.DATABASE_BACKEND)}: expected sqlite, postgres or memory`,
        'CONFIG_INVALID',
      );
    }
    throw error;
  }
}

/** `sqlite ./data/memory.db`, `postgres postgresql://u:***@host/db (schema public)`: for messages and reports. */
export function describeConnection(config: ResolvedMemoryConfig): string {
  switch (config.backend) {
    case 'sqlite':
      return `sqlite ${config.filename}`;
    case 'postgres':
      return `postgres ${maskSecrets(config.connectionString)}${config.schema === 'public' ? '' : ` (schema ${config.schema})`}`;
    case 'memory':
      return 'memory (not persisted)';
  }
}
