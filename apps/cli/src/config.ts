import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { DEFAULT_BACKENDS } from '@flux-rag/memory';
import { ConnectionSettingError } from '@flux-rag/memory-core';
import {
  type AnyBackendDescriptor,
  backendChoices,
  findBackend,
  type ResolvedLocation,
  resolveLocation,
  type SourcedValue,
} from '@flux-rag/memory-core/backend';
import { UsageError } from './cli-error.js';
import { visible } from './sanitize.js';

/** The connection flags every data command takes. */
export interface ConnectionFlags {
  /** `--backend`: a registered backend's name or alias (see {@link BACKEND_CHOICES}). */
  backend?: string;
  /** `--url`: a SQLite path or `sqlite:` URL, or a PostgreSQL DSN, depending on the backend. */
  url?: string;
  /** `--schema`: the PostgreSQL schema. */
  schema?: string;
  /** `--dotenv`: the dotenv file to read instead of `./.env`. */
  dotenv?: string;
}

/** The backends `--backend` accepts: every registered name and alias. */
export const BACKEND_CHOICES: readonly string[] = backendChoices(DEFAULT_BACKENDS);

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

/**
 * A chosen backend and its location, flat: `{ backend: 'sqlite', filename }`,
 * `{ backend: 'postgres', connectionString, schema }`, `{ backend: 'memory' }` (the descriptor's name, then
 * its location's fields). See {@link descriptorOf} and {@link locationOf}.
 */
export type ResolvedConnection = { readonly backend: string } & Readonly<Record<string, unknown>>;

/** The registered descriptor of a resolved connection. */
export function descriptorOf(config: ResolvedConnection): AnyBackendDescriptor {
  const descriptor = findBackend(DEFAULT_BACKENDS, config.backend);
  if (!descriptor) throw new UsageError(`unknown backend ${JSON.stringify(config.backend)}`);
  return descriptor;
}

/** The location a descriptor's `open` takes: the resolved connection without its `backend` name. */
export function locationOf(config: ResolvedConnection): unknown {
  const { backend: _name, ...location } = config;
  return Object.keys(location).length === 0 ? undefined : location;
}

/** Flattens a registry choice into a {@link ResolvedConnection}. */
export function flatten({ backend, location }: ResolvedLocation): ResolvedConnection {
  return { backend: backend.name, ...(location as object | undefined) };
}

/**
 * The usage error of a backend given no location, which the CLI never defaults for a server:
 * `PostgreSQL needs a connection string and flux-memory has no default server: pass --url …, or set …`.
 */
export function noLocationMessage(backend: AnyBackendDescriptor): string {
  const settings = backend.settings.map((setting) => setting.name).filter((name) => name.endsWith('_DSN'));
  const first = settings[0] ?? backend.settings[0]?.name ?? 'DATABASE_URL';
  return (
    `${backend.title} needs a connection string and flux-memory has no default server: pass ` +
    `--url ${backend.locationExample ?? '...'}, or set ${first} ` +
    `(or DATABASE_URL to ${backend.connectionStrings?.noun ?? 'its location'}) in the environment or .env`
  );
}

/**
 * A registry refusal as the CLI reports it (exit 2): a malformed connection string is
 * `CONNECTION_STRING_INVALID`; a bad value from the environment or .env `CONFIG_INVALID`; a bad flag, or no
 * location for a backend that has no default server, `USAGE`. Anything else is passed on.
 */
export function asUsageError(error: unknown): unknown {
  if (!(error instanceof ConnectionSettingError)) return error;
  const fromFlag = error.field.startsWith('-');
  switch (error.kind) {
    case 'connection-string':
      return new UsageError(`${error.field} ${visible(error.problem)}`, 'CONNECTION_STRING_INVALID');
    case 'backend-name':
      return new UsageError(
        `${error.field}=${visible(error.problem)}`,
        fromFlag ? 'USAGE' : 'CONFIG_INVALID',
      );
    case 'location-missing': {
      const backend = error.backend === undefined ? undefined : findBackend(DEFAULT_BACKENDS, error.backend);
      return new UsageError(backend ? noLocationMessage(backend) : error.message);
    }
    default:
      return new UsageError(
        `${error.field} ${visible(error.problem)}`,
        fromFlag ? 'USAGE' : 'CONFIG_INVALID',
      );
  }
}

/**
 * Chooses the backend and its location from the flags, then `env` (which already holds the dotenv file's
 * values under the real environment's), through the registry of `@flux-rag/memory`; every connection string is
 * parsed strictly by the backend that claims it, so a mistyped URL is a usage error, never a SQLite file.
 *
 * - Backend: `--backend`; else the form of `--url`; else `DATABASE_BACKEND`; else the backend that claims
 *   `DATABASE_URL` (postgres for a PostgreSQL DSN); else `sqlite` (the rules of `createMemory`).
 * - SQLite file: `--url`, else `DATABASE_URL`, else `./data/memory.db`.
 * - PostgreSQL DSN: `--url`, else `POSTGRES_DSN`, else a PostgreSQL `DATABASE_URL`; none is a usage error:
 *   unlike the library, the CLI never quietly targets `postgresql://flux_rag@localhost/flux_rag`.
 * - Schema: `--schema`, else `POSTGRES_SCHEMA`, else `public`; checked here, before anything is opened.
 */
export function resolveConnection(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConnection {
  const fromEnv = (name: string): SourcedValue | undefined =>
    env[name] === undefined ? undefined : { value: env[name]!, source: name };
  try {
    return flatten(
      resolveLocation(DEFAULT_BACKENDS, {
        ...(flags.backend === undefined ? {} : { backend: { value: flags.backend, source: '--backend' } }),
        ...(flags.url === undefined ? {} : { location: { value: flags.url, source: '--url' } }),
        backendSetting: fromEnv('DATABASE_BACKEND'),
        databaseUrl: fromEnv('DATABASE_URL'),
        // `--schema` is the flag of the PostgreSQL schema setting.
        setting: (name) =>
          name === 'POSTGRES_SCHEMA' && flags.schema !== undefined
            ? { value: flags.schema, source: '--schema' }
            : fromEnv(name),
        useDefaults: false,
      }),
    );
  } catch (error) {
    throw asUsageError(error);
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

/** `sqlite ./data/memory.db`, `postgres postgresql://u:***@host/db (schema public)`: for messages and reports. */
export function describeConnection(config: ResolvedConnection): string {
  return descriptorOf(config).describe(locationOf(config));
}
