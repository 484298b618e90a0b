import { ConnectionSettingError } from '@flux-rag/memory-core';
import { type BackendDescriptor, type ConnectionClaim, maskSecrets } from '@flux-rag/memory-core/backend';
import { parse as parsePgConnectionString } from 'pg-connection-string';
import { PostgresConversationMemory, SCHEMA_NAME } from './postgres-memory.js';

/** Where a PostgreSQL store lives: a server (as the URL `pg` takes) and a schema in it. */
export interface PostgresLocation {
  readonly connectionString: string;
  readonly schema: string;
  /** Streaming replicas serving reads (`POSTGRES_REPLICA_DSNS`); see `PostgresMemoryOptions.replicas`. */
  readonly replicas?: readonly string[];
}

/** The original settings' default server, used by `createMemory()` only: the CLI has no default server. */
export const DEFAULT_POSTGRES_DSN = 'postgresql://flux_rag:flux_rag@localhost:5432/flux_rag';

/** The libpq keywords accepted in a key=value string; others are refused rather than dropped. */
export const LIBPQ_KEYWORDS = [
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'application_name',
  'connect_timeout',
] as const;

const LIBPQ_START = /^\s*[A-Za-z_]+\s*=/;
// C0 controls, DEL and whitespace: a URL never holds them raw, and a pasted one that does is broken.
const URL_FORBIDDEN = /[\u0000-\u0020\u007f]/;

/** Thrown inside the libpq parser: the reason a string is refused. */
class Refusal {
  constructor(readonly why: string) {}
}

function claim(parse: () => string): ConnectionClaim<string> {
  try {
    return { location: parse() };
  } catch (error) {
    if (error instanceof Refusal) return { refused: error.why };
    throw error;
  }
}

/** A `postgres://` or `postgresql://` URL as `pg` and the WHATWG URL parser both read it, unchanged. */
function checkPostgresUrl(text: string, scheme: string): string {
  const rest = text.slice(scheme.length + 1);
  if (!rest.startsWith('//')) throw new Refusal('a PostgreSQL URL starts with postgresql:// (two slashes)');
  if (text.includes('#')) {
    throw new Refusal('a raw "#" starts a URL fragment: write it as %23 (e.g. in the password)');
  }
  if (URL_FORBIDDEN.test(text)) {
    throw new Refusal('it holds a space or a control character: percent-encode it (%20)');
  }
  try {
    new URL(text);
    parsePgConnectionString(text);
  } catch (error) {
    throw new Refusal(`not a valid URL (${(error as Error).message})`);
  }
  return text;
}

/** libpq key=value pairs to the URL `pg` takes (`pg` itself does not read this form). */
function libpqToUrl(text: string): string {
  const pairs = parseLibpq(text);
  const host = pairs.get('hostaddr') ?? pairs.get('host');
  const port = pairs.get('port');
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new Refusal(`port ${port} is not a number`);
  const timeout = pairs.get('connect_timeout');
  if (timeout !== undefined && !/^\d+$/.test(timeout)) {
    throw new Refusal(`connect_timeout ${timeout} is not a number of seconds`);
  }
  const user = pairs.get('user');
  const password = pairs.get('password');
  const socket = host?.startsWith('/') === true;
  let url = 'postgresql://';
  if (user !== undefined || password !== undefined) {
    url += encodeURIComponent(user ?? '');
    if (password !== undefined) url += `:${encodeURIComponent(password)}`;
    url += '@';
  }
  if (host !== undefined && !socket) url += host.includes(':') ? `[${host}]` : encodeURIComponent(host);
  if (port !== undefined && !socket) url += `:${port}`;
  url += `/${encodeURIComponent(pairs.get('dbname') ?? '')}`;
  const query = new URLSearchParams();
  if (socket) query.set('host', host!);
  if (socket && port !== undefined) query.set('port', port);
  for (const key of ['sslmode', 'application_name', 'connect_timeout'] as const) {
    const value = pairs.get(key);
    if (value !== undefined) query.set(key, value);
  }
  const search = query.toString();
  return search === '' ? url : `${url}?${search}`;
}

/** libpq's conninfo grammar: `key = value` pairs separated by spaces; values single-quoted or bare. */
function parseLibpq(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return pairs;
    const keyStart = i;
    while (i < text.length && /[A-Za-z_]/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (key === '' || text[i] !== '=')
      throw new Refusal(`expected keyword=value at character ${keyStart + 1}`);
    if (!(LIBPQ_KEYWORDS as readonly string[]).includes(key)) {
      throw new Refusal(`unknown keyword "${key}"; accepted: ${LIBPQ_KEYWORDS.join(', ')}`);
    }
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) throw new Refusal(`unterminated quoted value of "${key}"`);
        const c = text[i++]!;
        if (c === "'") break;
        if (c === '\\') {
          if (i >= text.length) throw new Refusal(`a backslash ends the value of "${key}"`);
          value += text[i++];
        } else value += c;
      }
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) {
        const c = text[i++]!;
        if (c === '\\' && i < text.length) value += text[i++];
        else value += c;
      }
      if (value === '') throw new Refusal(`missing value of "${key}" (quote an empty one: '')`);
    }
    pairs.set(key, value);
  }
}

/** A server location without its schema yet: the registry parses strings before the schema is known. */
type Server = { readonly connectionString: string; readonly schema?: string };

const serverClaim = (claimed: ConnectionClaim<string>): ConnectionClaim<Server> =>
  'refused' in claimed ? claimed : { location: { connectionString: claimed.location } };

/**
 * The PostgreSQL backend for the registry (`createMemory`, the CLI): named `postgres` (alias `postgresql`);
 * claims `postgres://` and `postgresql://` URLs (checked as `pg` reads them) and libpq `key=value` strings
 * ({@link LIBPQ_KEYWORDS}, libpq's quoting), converted into the URL `pg` takes. Located by the explicit string,
 * else `POSTGRES_DSN`, else a PostgreSQL `DATABASE_URL`, else (the library only) {@link DEFAULT_POSTGRES_DSN};
 * schema `POSTGRES_SCHEMA`, default `public`, checked before connecting. Descriptions mask the password.
 */
export const postgresBackend: BackendDescriptor<PostgresLocation> = {
  name: 'postgres',
  aliases: ['postgresql'],
  title: 'PostgreSQL',
  locationExample: 'postgresql://USER@HOST:5432/DB (or host=HOST dbname=DB user=USER)',
  connectionStrings: {
    schemes: ['postgres', 'postgresql'],
    description:
      'a PostgreSQL DSN as postgresql://user@host:5432/db (or postgres://) or as libpq key=value pairs ' +
      '(host=db port=5432 dbname=app user=app)',
    noun: 'a PostgreSQL DSN',
    // The schema is filled in by `resolve`, from POSTGRES_SCHEMA; a string alone names only the server.
    parseUrl: (text, scheme) =>
      serverClaim(claim(() => checkPostgresUrl(text, scheme))) as ConnectionClaim<PostgresLocation>,
    parseOther: (text) =>
      LIBPQ_START.test(text)
        ? (serverClaim(claim(() => libpqToUrl(text))) as ConnectionClaim<PostgresLocation>)
        : undefined,
  },
  settings: [
    {
      name: 'POSTGRES_DSN',
      meaning: 'the PostgreSQL server (a postgresql:// URL or libpq DSN); else a postgresql:// DATABASE_URL',
    },
    { name: 'POSTGRES_SCHEMA', meaning: 'the schema holding the tables; default public' },
    {
      name: 'POSTGRES_REPLICA_DSNS',
      meaning: 'streaming replicas serving reads: postgresql:// URLs separated by commas; default none',
    },
  ],
  resolve(input) {
    let connectionString = input.explicit?.connectionString;
    const dsn = input.setting('POSTGRES_DSN');
    if (connectionString === undefined && dsn) {
      const target = input.parse(dsn.value, dsn.source);
      if (target.backend !== postgresBackend) {
        throw new ConnectionSettingError(
          dsn.source,
          `is not a PostgreSQL DSN (it reads as ${target.backend.connectionStrings?.noun ?? target.backend.title})`,
        );
      }
      connectionString = (target.location as PostgresLocation).connectionString;
    }
    if (connectionString === undefined) {
      const url = input.databaseUrl();
      if (url && 'location' in url) connectionString = url.location.connectionString;
    }
    if (connectionString === undefined && input.useDefaults) connectionString = DEFAULT_POSTGRES_DSN;
    if (connectionString === undefined) return undefined;
    const schemaSetting = input.setting('POSTGRES_SCHEMA');
    const schema = schemaSetting?.value ?? 'public';
    if (!SCHEMA_NAME.test(schema) || schema.startsWith('pg_')) {
      throw new ConnectionSettingError(
        schemaSetting?.source ?? 'POSTGRES_SCHEMA',
        `${JSON.stringify(schema)}: a schema name is a letter or _ then up to 62 letters, digits or _, ` +
          'not starting with pg_',
      );
    }
    const replicas = replicaSetting(input.setting('POSTGRES_REPLICA_DSNS'));
    return replicas.length === 0 ? { connectionString, schema } : { connectionString, schema, replicas };
  },
  describe: ({ connectionString, schema, replicas = [] }) =>
    `postgres ${maskSecrets(connectionString)}${schema === 'public' ? '' : ` (schema ${schema})`}` +
    (replicas.length === 0 ? '' : ` with replicas ${replicas.map((url) => maskSecrets(url)).join(', ')}`),
  locationText: ({ connectionString }) => maskSecrets(connectionString),
  open: async ({ connectionString, schema, replicas }) =>
    new PostgresConversationMemory({ connectionString, schema, ...(replicas ? { replicas } : {}) }),
};

/** `POSTGRES_REPLICA_DSNS`: URLs separated by commas (a URL holds no raw comma that matters: encode it as %2C). */
function replicaSetting(setting: { value: string; source: string } | undefined): string[] {
  if (!setting || setting.value.trim() === '') return [];
  return setting.value.split(',').map((part, index) => {
    const text = part.trim();
    const scheme = /^(postgres|postgresql):/i.exec(text)?.[1];
    const claimed =
      scheme === undefined
        ? { refused: 'expected a postgresql:// URL' }
        : claim(() => checkPostgresUrl(text, scheme));
    if ('refused' in claimed) {
      throw new ConnectionSettingError(setting.source, `replica ${index + 1}: ${claimed.refused}`);
    }
    return claimed.location;
  });
}
