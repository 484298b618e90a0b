import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { CONFIG_DEFAULTS, type ResolvedMemoryConfig } from '@flux-rag/memory-core';
import { maskSecrets } from '@flux-rag/memory-core/backend';
import { UsageError } from './cli-error.js';
import { parseConnectionString } from './connection-string.js';
import { visible } from './sanitize.js';

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

/** The PostgreSQL schema names the backends accept (an unquoted identifier), checked before connecting. */
export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The SQLite file used when nothing names one: the documented default of the original settings. */
export const DEFAULT_SQLITE_PATH = CONFIG_DEFAULTS.sqlitePath;

/** The usage error of a PostgreSQL command given no DSN: the CLI has no default server. */
export const NO_DSN_MESSAGE =
  'PostgreSQL needs a connection string and flux-memory has no default server: pass ' +
  '--url postgresql://USER@HOST:5432/DB (or host=HOST dbname=DB user=USER), or set POSTGRES_DSN ' +
  '(or DATABASE_URL to a postgresql:// URL) in the environment or .env';

/**
 * Chooses the backend and its location from the flags, then `env` (which already holds the dotenv file's
 * values under the real environment's); every connection string is parsed strictly
 * ({@link parseConnectionString}), so a mistyped URL is a usage error, never a SQLite file.
 *
 * - Backend: `--backend`; else the form of `--url`; else `DATABASE_BACKEND`; else `postgres` when
 *   `DATABASE_URL` is a PostgreSQL DSN; else `sqlite` (the rules of memory-core's `createMemory`).
 * - SQLite file: `--url`, else `DATABASE_URL`, else `./data/memory.db`.
 * - PostgreSQL DSN: `--url`, else `POSTGRES_DSN`, else a PostgreSQL `DATABASE_URL`; none is a usage error:
 *   unlike the library, the CLI never quietly targets `postgresql://flux_rag@localhost/flux_rag`.
 * - Schema: `--schema`, else `POSTGRES_SCHEMA`, else `public`; checked here, before anything is opened.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedMemoryConfig {
  const flagBackend = backendName(flags.backend, '--backend');
  const fromFlag = flags.url === undefined ? undefined : parseConnectionString(flags.url, '--url');
  if (flagBackend === 'memory' && fromFlag !== undefined) {
    throw new UsageError('--url has no meaning with --backend memory (nothing is stored)');
  }
  if (flagBackend !== undefined && fromFlag !== undefined && fromFlag.backend !== flagBackend) {
    throw new UsageError(
      fromFlag.backend === 'postgres'
        ? '--url is a PostgreSQL DSN but the backend is sqlite; use --backend postgres'
        : '--url is a SQLite file but the backend is postgres; give a postgresql:// URL or libpq DSN',
    );
  }
  const envUrl = env.DATABASE_URL?.trim() ? env.DATABASE_URL : undefined;
  const fromEnvUrl = () => (envUrl === undefined ? undefined : parseConnectionString(envUrl, 'DATABASE_URL'));
  let backend = flagBackend ?? fromFlag?.backend ?? backendName(env.DATABASE_BACKEND, 'DATABASE_BACKEND');
  backend ??= fromEnvUrl()?.backend === 'postgres' ? 'postgres' : 'sqlite';
  switch (backend) {
    case 'memory':
      return { backend };
    case 'sqlite': {
      if (fromFlag?.backend === 'sqlite') return { backend, filename: fromFlag.filename };
      const target = fromEnvUrl();
      if (target?.backend === 'postgres') {
        throw new UsageError(
          'DATABASE_URL is a PostgreSQL DSN but the backend is sqlite (DATABASE_BACKEND or --backend); ' +
            'unset one of them',
          'CONFIG_INVALID',
        );
      }
      return { backend, filename: target?.filename ?? DEFAULT_SQLITE_PATH };
    }
    case 'postgres': {
      let connectionString: string | undefined;
      if (fromFlag?.backend === 'postgres') connectionString = fromFlag.connectionString;
      else if (env.POSTGRES_DSN?.trim()) {
        const target = parseConnectionString(env.POSTGRES_DSN, 'POSTGRES_DSN');
        if (target.backend !== 'postgres') {
          throw new UsageError(
            'POSTGRES_DSN is not a PostgreSQL DSN (it reads as a SQLite path)',
            'CONFIG_INVALID',
          );
        }
        connectionString = target.connectionString;
      } else {
        const target = fromEnvUrl();
        if (target?.backend === 'postgres') connectionString = target.connectionString;
      }
      if (connectionString === undefined) throw new UsageError(NO_DSN_MESSAGE);
      const schema = flags.schema ?? (env.POSTGRES_SCHEMA || 'public');
      checkSchema(schema, flags.schema === undefined ? 'POSTGRES_SCHEMA' : '--schema');
      return { backend, connectionString, schema };
    }
  }
}

/** Refuses a schema name the backends would refuse, before anything is opened (exit 2). */
export function checkSchema(schema: string, source: string): void {
  if (!SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
    throw new UsageError(
      `${source} ${JSON.stringify(visible(schema))}: a schema name is a letter or _ then up to 62 letters, ` +
        'digits or _, not starting with pg_',
    );
  }
}

function backendName(
  value: string | undefined,
  source: string,
): 'sqlite' | 'postgres' | 'memory' | undefined {
  const name = value?.trim().toLowerCase();
  if (name === undefined || name === '') return undefined;
  if (name === 'postgresql' || name === 'postgres') return 'postgres';
  if (name === 'sqlite' || name === 'memory') return name;
  throw new UsageError(
    `${source}=${JSON.stringify(visible(value!))}: expected sqlite, postgres or memory`,
    source === '--backend' ? 'USAGE' : 'CONFIG_INVALID',
  );
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
